#!/usr/bin/env bash
# Run `ansible-test sanity` for this collection, with no ignore file, in a way
# that works without access to anything but PyPI.
#
# Usage: scripts/ci/sanity.sh [extra ansible-test sanity args...]
#   e.g. scripts/ci/sanity.sh --test pylint
#
# Environment:
#   SANITY_SRC_DIR   collection source to test (default: this repository);
#                    lets the script be exercised against a throwaway collection
#   SANITY_VENV      virtualenv providing ansible-test (default: <repo>/.venv,
#                    falling back to whatever ansible-test is on PATH)
#   SANITY_PYTHONS   space-separated Python versions to use for the
#                    multi-version tests (compile, import); default "all":
#                    every version ansible-test supports that can be found
#                    on PATH or in a pyenv install. The controller Python is
#                    always used for the single-version tests.
#   SANITY_KEEP_TMP  set to 1 to keep the staging directory for debugging
#
# Exit status: ansible-test's.
set -euo pipefail

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd -- "${script_dir}/../.." && pwd)
src_dir=$(cd -- "${SANITY_SRC_DIR:-${repo_root}}" && pwd)
venv=${SANITY_VENV:-${repo_root}/.venv}
pythons=${SANITY_PYTHONS:-all}

if [[ -x "${venv}/bin/ansible-test" ]]; then
    ansible_test=${venv}/bin/ansible-test
    py=${venv}/bin/python
else
    ansible_test=$(command -v ansible-test) || { echo "sanity.sh: ansible-test not found (no ${venv}, nothing on PATH)" >&2; exit 2; }
    # ansible-test's shebang names the interpreter that has ansible_test importable.
    py=$(head -n1 "${ansible_test}" | sed -e 's/^#![[:space:]]*//' -e 's/[[:space:]].*$//')
fi

# ---------------------------------------------------------------------------
# 1. get-pip cache shim.
#
# `ansible-test sanity --venv` creates each virtualenv without pip and then
# bootstraps pip with a get-pip script it downloads from a host that is not
# reachable here. It looks in ~/.ansible/test/cache/get_pip_<ver>.py first, so
# we put a tiny stand-in there that installs pip from the matching wheel
# (fetched once from PyPI into the same folder). The pip version is asked from
# the installed ansible-test itself so an ansible-core upgrade keeps working.
# ---------------------------------------------------------------------------
cache_dir=${HOME}/.ansible/test/cache
mkdir -p "${cache_dir}"

pip_versions=$("${py}" - <<'EOF'
# Ask ansible-test which pip it bootstraps for every Python it supports; fall
# back to scraping the source if its internal API ever changes shape.
import os, re, types
try:
    from ansible_test._internal.python_requirements import get_venv_packages
    from ansible_test._util.target.common.constants import CONTROLLER_PYTHON_VERSIONS, REMOTE_ONLY_PYTHON_VERSIONS
    versions = {get_venv_packages(types.SimpleNamespace(version=v))['pip']
                for v in REMOTE_ONLY_PYTHON_VERSIONS + CONTROLLER_PYTHON_VERSIONS}
except Exception:  # pylint: disable=broad-except
    import ansible_test
    path = os.path.join(os.path.dirname(ansible_test.__file__), '_internal', 'python_requirements.py')
    with open(path, encoding='utf-8') as f:
        versions = set(re.findall(r"""\bpip=['"]([0-9.]+)['"]""", f.read()))
print(' '.join(sorted(versions)))
EOF
)
[[ -n "${pip_versions}" ]] || { echo "sanity.sh: could not determine the pip version ansible-test bootstraps" >&2; exit 2; }

shim_marker='# dhcpops-kea get-pip shim'
for pv in ${pip_versions}; do
    shim=${cache_dir}/get_pip_${pv//./_}.py
    wheel=${cache_dir}/pip-${pv}-py3-none-any.whl
    if [[ ! -f "${wheel}" ]]; then
        # --no-deps: pip has none; only the wheel is wanted, never an sdist.
        "${py}" -m pip download --quiet --no-deps --only-binary :all: --dest "${cache_dir}" "pip==${pv}"
    fi
    # A real get-pip script (someone with network access) is left alone; our own
    # shim is rewritten only when its content would change (idempotent).
    if [[ -f "${shim}" ]] && ! grep -qF "${shim_marker}" "${shim}"; then
        continue
    fi
    new_shim=$(cat <<EOF
${shim_marker} (written by scripts/ci/sanity.sh; safe to delete)
# Stand-in for get-pip-${pv}.py: ansible-test runs it (via runpy) inside a
# fresh pip-less virtualenv as: get_pip.py [pip options] pip==${pv} [...].
import glob
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
# pip can run straight from its wheel, which is how the real get-pip works too.
sys.path.insert(0, os.path.join(here, 'pip-${pv}-py3-none-any.whl'))
# get-pip-only flags that 'pip install' does not understand.
args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]

from pip._internal.cli.main import main  # noqa: E402

# Fully offline (--no-index) when every pinned requirement has a wheel here,
# since pip would otherwise prefer the index copy of the very same version.
reqs = [a for a in args if not a.startswith('-')]
cached = all(
    '==' in r and glob.glob(os.path.join(here, '%s-%s-*.whl' % tuple(p.strip().replace('-', '_') for p in r.split('==', 1))))
    for r in reqs
)
sys.exit(main(['install', '--upgrade', '--force-reinstall', '--find-links', here] + (['--no-index'] if cached else []) + args))
EOF
)
    if [[ ! -f "${shim}" ]] || [[ "$(cat "${shim}")" != "${new_shim}" ]]; then
        printf '%s\n' "${new_shim}" > "${shim}.tmp"
        mv -f "${shim}.tmp" "${shim}"
    fi
done

# ---------------------------------------------------------------------------
# 2. Stage the collection where ansible-test wants it:
#    <tmp>/ansible_collections/<namespace>/<name>/
# Only files git knows about or would add (tracked + untracked, not ignored),
# so build output, caches and the venv never leak into the test.
# ---------------------------------------------------------------------------
read -r ns name < <("${py}" - "${src_dir}/galaxy.yml" <<'EOF'
import sys, yaml
try:
    with open(sys.argv[1], encoding='utf-8') as f:
        g = yaml.safe_load(f) or {}
except FileNotFoundError:
    g = {}
# Defaults keep the script usable while galaxy.yml is still being written.
print(g.get('namespace') or 'dhcpops', g.get('name') or 'kea')
EOF
)

work=$(mktemp -d "${TMPDIR:-/tmp}/sanity.XXXXXX")
# shellcheck disable=SC2317  # invoked indirectly, by the EXIT trap
cleanup() {
    if [[ "${SANITY_KEEP_TMP:-0}" == 1 ]]; then
        echo "sanity.sh: staging kept in ${work}" >&2
    else
        rm -rf -- "${work}"
    fi
}
trap cleanup EXIT

dest=${work}/ansible_collections/${ns}/${name}
mkdir -p "${dest}"

if git -C "${src_dir}" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # -z keeps odd file names intact; files deleted but not yet committed are
    # skipped by the existence test. .venv is excluded explicitly in case the
    # .gitignore does not (yet) cover it.
    git -C "${src_dir}" ls-files -z -c -o --exclude-standard -- . ':!:.venv' ':!:.venv/**' \
        | while IFS= read -r -d '' f; do
            [[ -e "${src_dir}/${f}" || -L "${src_dir}/${f}" ]] && printf '%s\0' "${f}"
          done \
        | tar -C "${src_dir}" --null --no-recursion -T - -cf - \
        | tar -C "${dest}" -xf -
else
    echo "sanity.sh: ${src_dir} is not a git work tree; copying everything but .venv/.git/.cache" >&2
    tar -C "${src_dir}" --exclude=./.venv --exclude=./.git --exclude=./.cache -cf - . | tar -C "${dest}" -xf -
fi

# ansible-test decides which files exist from git when the collection is a git
# work tree, and otherwise walks the directory; a fresh repo with everything
# added gives it the same file list as the source, and the staged copy must not
# be mistaken for part of some enclosing repository.
# ansible-test lists untracked files too, so its own output (including the
# delegation virtualenv under tests/output) must be git-ignored in the copy
# whether or not the collection's .gitignore says so.
git -C "${dest}" init -q
printf '/tests/output/\n' >> "${dest}/.git/info/exclude"
git -C "${dest}" add -A

# Collections named under `dependencies:` in galaxy.yml must sit next to ours:
# ansible-test resolves other collections only from the same ansible_collections
# tree. They come from the `ansible` package in the venv (Galaxy is unreachable)
# or ~/.ansible/collections; symlinked, since only our collection is tested.
while read -r dep_ns dep_name dep_path; do
    if [[ -z "${dep_path}" ]]; then
        echo "sanity.sh: WARNING: dependency ${dep_ns}.${dep_name} not installed; tests importing it will fail" >&2
        continue
    fi
    mkdir -p "${work}/ansible_collections/${dep_ns}"
    ln -sfn "${dep_path}" "${work}/ansible_collections/${dep_ns}/${dep_name}"
done < <("${py}" - "${src_dir}/galaxy.yml" <<'EOF'
import os, sys, yaml
try:
    with open(sys.argv[1], encoding='utf-8') as f:
        deps = (yaml.safe_load(f) or {}).get('dependencies') or {}
except FileNotFoundError:
    deps = {}
roots = [os.path.expanduser('~/.ansible/collections/ansible_collections')]
try:
    import ansible_collections  # namespace package shipped by the `ansible` pip package
    roots += list(ansible_collections.__path__)
except ImportError:
    pass
for fqcn in deps:
    ns, name = fqcn.split('.', 1)
    hits = [os.path.join(r, ns, name) for r in roots if os.path.isdir(os.path.join(r, ns, name))]
    print(ns, name, hits[0] if hits else '')
EOF
)

# ---------------------------------------------------------------------------
# 3. Python interpreters for the multi-version tests (compile, import).
# ansible-test looks for pythonX.Y on PATH and skips missing versions. pyenv
# shims for non-selected versions exist on PATH but fail when run, so expose
# the real interpreters through a private bin dir that comes first on PATH.
# ---------------------------------------------------------------------------
bindir=${work}/bin
mkdir -p "${bindir}"
supported=$("${py}" -c 'from ansible_test._util.target.common.constants import CONTROLLER_PYTHON_VERSIONS as c, REMOTE_ONLY_PYTHON_VERSIONS as r; print(" ".join(r + c))')
controller=$("${py}" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
pyenv_root=$(pyenv root 2>/dev/null || true)
found=()
missing=()
deselected=()
for v in ${supported}; do
    if [[ "${pythons}" != all && " ${pythons} " != *" ${v} "* && "${v}" != "${controller}" ]]; then
        deselected+=("${v}")
        continue
    fi
    cand=""
    if p=$(command -v "python${v}") && "${p}" -c '' >/dev/null 2>&1; then
        cand=${p}
    elif [[ -n "${pyenv_root}" ]]; then
        for p in "${pyenv_root}/versions/${v}".*/bin/"python${v}"; do
            [[ -x "${p}" ]] && "${p}" -c '' >/dev/null 2>&1 && cand=${p}
        done
    fi
    if [[ -n "${cand}" ]]; then
        ln -s "${cand}" "${bindir}/python${v}"
        found+=("${v}")
    else
        missing+=("${v}")
    fi
done
# ansible-test only checks that pythonX.Y exists on PATH, not that it runs,
# so PATH directories holding a pythonX.Y that fails (pyenv shims for versions
# not selected in pyenv) are dropped; otherwise a version we could not find
# would turn into an error instead of a skip.
run_path=${bindir}
IFS=: read -r -a path_dirs <<< "${PATH}"
for d in "${path_dirs[@]}"; do
    [[ -n "${d}" ]] || continue
    keep=1
    for v in ${supported}; do
        if [[ -x "${d}/python${v}" ]] && ! "${d}/python${v}" -c '' >/dev/null 2>&1; then
            keep=0
            break
        fi
    done
    [[ "${keep}" == 1 ]] && run_path=${run_path}:${d}
done
echo "sanity.sh: ansible-test $("${ansible_test}" --version | awk '{print $NF}'), pip bootstrap ${pip_versions}, collection ${ns}.${name}"
echo "sanity.sh: Python for multi-version tests: ${found[*]:-none}; not found: ${missing[*]:-none}; not selected: ${deselected[*]:-none}"

# ---------------------------------------------------------------------------
# 4. Run. --venv: every test gets its own virtualenv with the exact requirement
# pins of this ansible-test, installed from PyPI, so nothing depends on (or
# pollutes) the project venv used by ansible-lint/molecule. --docker/--remote
# need registries we cannot reach, and --local would need the pinned pylint,
# voluptuous, etc. installed next to ansible-lint, where they would conflict.
# ---------------------------------------------------------------------------
cd -- "${dest}"
set +e
PATH="${run_path}" "${ansible_test}" sanity --venv --color no "$@"
rc=$?
set -e
exit "${rc}"
