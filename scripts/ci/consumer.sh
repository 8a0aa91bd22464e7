#!/usr/bin/env bash
# dhcpops.kea as a dependency of another team's collection: build the
# dhcpops.kea artifact and the example consumer collection acme.dhcp_site
# (examples/consumer), install both into an empty collections path (the
# consumer's galaxy.yml dependency on dhcpops.kea is resolved against the
# artifact, offline), then run the consumer's own `molecule test` from a
# copy of its directory outside the checkout, with only that path. Nothing
# resolves to the checkout: the consumer sees dhcpops.kea exactly as a
# release installs it.
#
# Usage: scripts/ci/consumer.sh
# Environment: CONSUMER_VENV  virtualenv with ansible and molecule (default <repo>/.venv)
#              DHCPOPS_IMAGE_BOOKWORM  the scenario's image (scripts/lab/env.sh)
#              CONSUMER_KEEP_TMP=1  keep the work directory for debugging
set -euo pipefail

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd -- "${script_dir}/../.." && pwd)
venv=${CONSUMER_VENV:-${repo_root}/.venv}
consumer_src=${repo_root}/examples/consumer
start=$(date +%s)

ci_name=consumer.sh
ci_venv=${venv}
ci_keep_tmp=${CONSUMER_KEEP_TMP:-0}
# shellcheck source=scripts/ci/common.sh
source "${script_dir}/common.sh"

podman image exists "${DHCPOPS_IMAGE_BOOKWORM}" \
    || fail "image ${DHCPOPS_IMAGE_BOOKWORM} is missing; build it with: make images"

# The checkout's ansible.cfg (exported by the Makefile) points
# collections_path at the checkout itself: drop it, and use only the empty
# path below (plus what the `ansible` package bundles on Python's path).
unset ANSIBLE_CONFIG ANSIBLE_COLLECTIONS_PATHS ANSIBLE_INVENTORY ANSIBLE_PLAYBOOK_DIR
export ANSIBLE_COLLECTIONS_PATH=${work}/collections
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
mkdir -p "${ANSIBLE_COLLECTIONS_PATH}" "${work}/dist"
# Not the caller's directory either: an ansible.cfg there would still apply.
cd -- "${work}"

(cd -- "${repo_root}" && ansible-galaxy collection build --output-path "${work}/dist" .) >/dev/null
(cd -- "${consumer_src}" && ansible-galaxy collection build --output-path "${work}/dist" .) >/dev/null
shopt -s nullglob
kea_artifacts=("${work}"/dist/dhcpops-kea-*.tar.gz)
consumer_artifacts=("${work}"/dist/acme-dhcp_site-*.tar.gz)
shopt -u nullglob
[[ ${#kea_artifacts[@]} -eq 1 && ${#consumer_artifacts[@]} -eq 1 ]] \
    || fail "expected one artifact of each collection in ${work}/dist: $(ls "${work}/dist")"
echo "consumer.sh: built $(basename -- "${kea_artifacts[0]}") and $(basename -- "${consumer_artifacts[0]}")"

# --offline: no Galaxy. The resolver still checks every galaxy.yml
# dependency: acme.dhcp_site's on dhcpops.kea against the artifact given
# here, dhcpops.kea's against the collections of the `ansible` package.
ansible-galaxy collection install --offline -p "${ANSIBLE_COLLECTIONS_PATH}" \
    "${consumer_artifacts[0]}" "${kea_artifacts[0]}" >"${work}/install.log" 2>&1 \
    || { cat "${work}/install.log" >&2; fail "the collections do not install offline"; }

# The consumer is tested from a copy, as its own repository would be: the
# checkout's configuration, links and molecule settings are out of reach.
cp -R -- "${consumer_src}" "${work}/acme-dhcp_site"
cd -- "${work}/acme-dhcp_site"

ansible-galaxy collection list --format json 2>/dev/null | "${py}" -c '
import json, sys
want = sys.argv[1] + "/ansible_collections"
listing = json.load(sys.stdin)
for fqcn in ("dhcpops.kea", "acme.dhcp_site"):
    found = [path for path, cols in listing.items() if fqcn in cols]
    if found != [want]:
        sys.exit("consumer.sh: FAIL: %s resolves to %s, expected only %s" % (fqcn, found, want))
' "${ANSIBLE_COLLECTIONS_PATH}"

molecule_start=$(date +%s)
molecule test
echo "consumer.sh: molecule test of acme.dhcp_site: $(( $(date +%s) - molecule_start )) s"
echo "consumer.sh: passed in $(( $(date +%s) - start )) s"
