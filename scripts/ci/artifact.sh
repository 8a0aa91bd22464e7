#!/usr/bin/env bash
# Build the collection artifact as a release would, and prove that it stands
# on its own:
#   1. `ansible-galaxy collection build` into a temporary directory;
#   2. the tarball holds no tests or development files (each one is named),
#      and holds the execution-environment metadata and the playbooks;
#   3. it installs into an empty collections path; its galaxy.yml
#      dependencies must be satisfied offline by the collections the
#      `ansible` pip package bundles (Galaxy is unreachable);
#   4. from a directory outside the checkout, with no ansible.cfg and only
#      that path, so nothing can resolve to the checkout:
#      - `ansible-playbook dhcpops.kea.validate` accepts a small site
#        (scripts/ci/artifact/inventory.yml) and rejects the same site with
#        an overlapping subnet, contacting none of its hosts; Kea's own check
#        runs in the lab's check images, one throwaway container per release;
#      - `ansible-playbook --syntax-check` of every playbook the artifact
#        ships (playbooks/*.yml, by FQCN) and of the AWX example project.
#
# Usage: scripts/ci/artifact.sh
# Environment: ARTIFACT_VENV  virtualenv with ansible (default <repo>/.venv)
#              DHCPOPS_CHECK_IMAGE_<RELEASE>  check images (scripts/lab/env.sh)
#              ARTIFACT_KEEP_TMP=1  keep the work directory for debugging
set -euo pipefail

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd -- "${script_dir}/../.." && pwd)
venv=${ARTIFACT_VENV:-${repo_root}/.venv}
start=$(date +%s)

ci_name=artifact.sh
ci_venv=${venv}
ci_keep_tmp=${ARTIFACT_KEEP_TMP:-0}
# shellcheck source=scripts/ci/common.sh
source "${script_dir}/common.sh"

# The checkout's ansible.cfg points collections_path at the checkout itself
# (make collection-link), and the Makefile exports it: drop it and anything
# else of the caller's that could steer collection lookup.
unset ANSIBLE_CONFIG ANSIBLE_COLLECTIONS_PATHS ANSIBLE_INVENTORY ANSIBLE_PLAYBOOK_DIR
export ANSIBLE_COLLECTIONS_PATH=${work}/collections
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 ANSIBLE_RETRY_FILES_ENABLED=0
mkdir -p "${ANSIBLE_COLLECTIONS_PATH}" "${work}/dist" "${work}/run"
# Not the caller's directory either: an ansible.cfg there would still apply.
cd -- "${work}"

# ---------------------------------------------------------------------------
# 1. Build
# ---------------------------------------------------------------------------
(cd -- "${repo_root}" && ansible-galaxy collection build --output-path "${work}/dist" .) >/dev/null
shopt -s nullglob
tarballs=("${work}"/dist/*.tar.gz)
shopt -u nullglob
[[ ${#tarballs[@]} -eq 1 ]] || fail "expected one artifact in ${work}/dist, found ${#tarballs[@]}"
tarball=${tarballs[0]}
echo "artifact.sh: built $(basename -- "${tarball}") ($(du -k -- "${tarball}" | cut -f1) KiB)"

# ---------------------------------------------------------------------------
# 2. Contents
# ---------------------------------------------------------------------------
"${py}" - "${tarball}" <<'EOF'
import sys
import tarfile

import yaml

# Paths (directories end in "/") that tests and development tools use; the
# artifact is what users install, so none of them may be in it.
FORBIDDEN_PREFIXES = (
    'tests/', 'molecule/', 'benchmarks/results/', 'scripts/ci/', 'examples/consumer/',
    'examples/awx/dist/', '.venv/', '.ci/', '.cache/', '.config/', '.git/', '.github/',
    '.hypothesis/', '.pytest_cache/', '.ansible/',
)
FORBIDDEN_FILES = ('requirements-test.txt', '.ansible-lint', '.yamllint', '.ansible-lint-ignore')
FORBIDDEN_PARTS = ('__pycache__', '.molecule', '.pytest_cache', '.tox')
FORBIDDEN_SUFFIXES = ('.pyc', '.pyo', '.retry', '.tar.gz')
REQUIRED = ('MANIFEST.json', 'FILES.json', 'README.md', 'meta/runtime.yml', 'meta/execution-environment.yml',
            'roles/kea_dhcp4/meta/argument_specs.yml', 'examples/awx/site.yml')

with tarfile.open(sys.argv[1]) as tar:
    files = {(m.name[2:] if m.name.startswith('./') else m.name): m for m in tar.getmembers()}
    names = sorted(files)

    def read(name):
        return tar.extractfile(files[name]).read().decode('utf-8')

    bad = []
    for name in names:
        path = name + '/' if files[name].isdir() else name
        parts = name.split('/')
        if (path.startswith(FORBIDDEN_PREFIXES) or name in FORBIDDEN_FILES
                or any(p in FORBIDDEN_PARTS for p in parts) or name.endswith(FORBIDDEN_SUFFIXES)):
            bad.append(name)
    missing = [name for name in REQUIRED if name not in files]
    # ansible-builder installs what meta/execution-environment.yml names only
    # if those files made it into the artifact.
    if 'meta/execution-environment.yml' in files:
        deps = (yaml.safe_load(read('meta/execution-environment.yml')) or {}).get('dependencies') or {}
        missing += ['%s (named in meta/execution-environment.yml)' % deps[k]
                    for k in ('python', 'system') if isinstance(deps.get(k), str) and deps[k] not in files]
    playbooks = [n for n in names if n.startswith('playbooks/') and n.count('/') == 1 and n.endswith('.yml')]
    if not playbooks:
        missing.append('playbooks/*.yml')

if bad:
    print('artifact.sh: the artifact contains test or development files (add them to build_ignore in galaxy.yml):')
    print('\n'.join('  - ' + n for n in bad))
if missing:
    print('artifact.sh: the artifact lacks:')
    print('\n'.join('  - ' + n for n in missing))
if bad or missing:
    sys.exit(1)
print('artifact.sh: contents ok: %d entries, playbooks: %s' % (len(names), ', '.join(p[10:-4] for p in playbooks)))
EOF

# ---------------------------------------------------------------------------
# 3. Install into an empty collections path
# ---------------------------------------------------------------------------
# --offline: no Galaxy; the resolver still checks galaxy.yml's dependencies
# against what is installed (the `ansible` package's bundled collections,
# found on Python's path), which --no-deps would skip.
ansible-galaxy collection install --offline -p "${ANSIBLE_COLLECTIONS_PATH}" "${tarball}" >"${work}/install.log" 2>&1 \
    || { cat "${work}/install.log" >&2; fail "the artifact does not install offline"; }
installed=${ANSIBLE_COLLECTIONS_PATH}/ansible_collections/dhcpops/kea
[[ -f "${installed}/MANIFEST.json" ]] || fail "dhcpops.kea is not in ${ANSIBLE_COLLECTIONS_PATH} after the install"

# Exactly one dhcpops.kea may be visible, the one just installed.
cd -- "${work}/run"
ansible-galaxy collection list dhcpops.kea --format json 2>/dev/null \
    | "${py}" -c '
import json, sys
found = [path for path, cols in json.load(sys.stdin).items() if "dhcpops.kea" in cols]
want = sys.argv[1] + "/ansible_collections"
if found != [want]:
    sys.exit("artifact.sh: FAIL: dhcpops.kea resolves to %s, expected only %s" % (found, want))
' "${ANSIBLE_COLLECTIONS_PATH}"

# ---------------------------------------------------------------------------
# 4a. dhcpops.kea.validate from the artifact
# ---------------------------------------------------------------------------
cp -- "${script_dir}/artifact/inventory.yml" "${work}/run/inventory.yml"
# Throwaway passwords for this run, never printed: the run's output is
# searched for them afterwards.
(umask 077 && "${py}" -c '
import secrets
for name in ("ci_kea_api_password", "ci_kea_db_password"):
    print("%s: %s" % (name, secrets.token_hex(12)))
' >"${work}/run/secrets.yml")

# The images that carry each release's kea-dhcp4 -t (scripts/lab/build-images.sh).
images_json=$("${py}" -c '
import json, sys
print(json.dumps({"kea_validate_method": "podman",
                  "kea_validate_images": {"2.2": sys.argv[1], "2.6": sys.argv[2], "3.0": sys.argv[3]}}))
' "${DHCPOPS_CHECK_IMAGE_BOOKWORM}" "${DHCPOPS_CHECK_IMAGE_TRIXIE}" "${DHCPOPS_CHECK_IMAGE_FORKY}")
for image in "${DHCPOPS_CHECK_IMAGE_BOOKWORM}" "${DHCPOPS_CHECK_IMAGE_TRIXIE}"; do
    podman image exists "${image}" || fail "check image ${image} is missing; build it with: make images"
done

assert_no_secret() {
    local secret
    while IFS= read -r secret; do
        if grep -qF -- "${secret}" "$1"; then
            fail "a generated password appears in the output of $2"
        fi
    done < <(sed -n 's/^ci_[a-z_]*: //p' "${work}/run/secrets.yml")
}

# A failing run's log is shown, after the check that it holds no password.
show_log() {
    assert_no_secret "$1" "$1"
    cat -- "$1" >&2
}

run_validate() {
    local log=$1
    shift
    set +e
    ansible-playbook -i inventory.yml dhcpops.kea.validate -e @secrets.yml -e "${images_json}" "$@" >"${log}" 2>&1
    local rc=$?
    set -e
    return "${rc}"
}

# Readable by the check container, as a CI workspace is.
mkdir -p out && chmod 755 out
if ! run_validate validate.log -e "kea_validate_output_dir=${work}/run/out"; then
    show_log validate.log
    fail "dhcpops.kea.validate rejected the example site"
fi
assert_no_secret validate.log "dhcpops.kea.validate"
for host in hq-kea1 hq-kea2 branch-kea; do
    [[ -s "out/${host}.json" ]] || fail "dhcpops.kea.validate rendered no configuration for ${host}"
done
# Kea's own check ran once per release: 2.2 for the pair, 2.6 for the branch.
for release in 2.2 2.6; do
    grep -qF "(item=${release})" validate.log || { show_log validate.log; fail "no Kea ${release} check in the run"; }
done
echo "artifact.sh: dhcpops.kea.validate accepted the example site (hq-kea1, hq-kea2, branch-kea)"

# The same site with a subnet that overlaps the pair's /22 must fail in the
# linter, naming both subnets, with nothing rendered.
rm -rf out && mkdir out && chmod 755 out
overlap='{"kea_dhcp4_subnets": [
  {"id": 10, "subnet": "10.10.0.0/22", "pools": [{"pool": "10.10.1.0 - 10.10.3.200"}]},
  {"id": 30, "subnet": "10.10.2.0/24", "pools": [{"pool": "10.10.2.10 - 10.10.2.20"}]}]}'
if run_validate reject.log -e "kea_validate_output_dir=${work}/run/out" -e "${overlap}"; then
    show_log reject.log
    fail "dhcpops.kea.validate accepted overlapping subnets"
fi
assert_no_secret reject.log "dhcpops.kea.validate (rejected run)"
flat=$(tr -s '[:space:]' ' ' <reject.log)
for fragment in subnet-overlap 'subnet 10 (10.10.0.0/22)' 'subnet 30 (10.10.2.0/24)'; do
    [[ "${flat}" == *"${fragment}"* ]] || { show_log reject.log; fail "the rejection does not name '${fragment}'"; }
done
[[ -z "$(ls -A out)" ]] || fail "a rejected configuration was written: $(ls out)"
echo "artifact.sh: dhcpops.kea.validate rejected overlapping subnets, naming both"

# ---------------------------------------------------------------------------
# 4b. Syntax of every playbook the artifact ships, and of the AWX project
# ---------------------------------------------------------------------------
fqcns=()
for playbook in "${installed}"/playbooks/*.yml; do
    name=$(basename -- "${playbook}" .yml)
    fqcns+=("dhcpops.kea.${name}")
done
ansible-playbook -i inventory.yml --syntax-check "${fqcns[@]}" >syntax.log 2>&1 \
    || { show_log syntax.log; fail "syntax check of ${fqcns[*]}"; }
echo "artifact.sh: syntax ok: ${fqcns[*]}"

# The AWX example project, as AWX would run it from its own checkout.
cp -R -- "${installed}/examples/awx" "${work}/awx-project"
cd -- "${work}/awx-project"
awx_playbooks=(site.yml rolling_reload.yml validate.yml)
ansible-playbook -i "${work}/run/inventory.yml" --syntax-check "${awx_playbooks[@]}" >"${work}/awx-syntax.log" 2>&1 \
    || { show_log "${work}/awx-syntax.log"; fail "syntax check of the AWX example project"; }
echo "artifact.sh: syntax ok: examples/awx/{$(IFS=,; echo "${awx_playbooks[*]}")}"

echo "artifact.sh: passed in $(( $(date +%s) - start )) s"
