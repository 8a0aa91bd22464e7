#!/usr/bin/env bash
# YAML and Ansible lint gates, offline:
#   1. yamllint with the repository's .yamllint
#   2. ansible-lint, production profile, with .ansible-lint
#
# Usage: scripts/ci/lint.sh [extra ansible-lint args / paths...]
# Environment: LINT_VENV  virtualenv holding the tools (default: <repo>/.venv,
#              falling back to PATH).
# Both linters always run, so one run shows every finding; the exit status is
# non-zero if either failed.
set -uo pipefail

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd -- "${script_dir}/../.." && pwd)
venv=${LINT_VENV:-${repo_root}/.venv}
if [[ -d "${venv}/bin" ]]; then
    PATH=${venv}/bin:${PATH}
    export PATH
fi

cd -- "${repo_root}" || exit 2

# There must be no blanket ignore file: findings are fixed or get a justified
# inline `# noqa`, so a stray .ansible-lint-ignore is itself a failure.
if [[ -e .ansible-lint-ignore ]]; then
    echo "lint.sh: .ansible-lint-ignore must not exist; fix the findings or use inline noqa with a reason" >&2
    exit 1
fi

# ansible-lint does not install the project collection when offline, so
# dhcpops.kea.* (modules, roles, playbooks) would not resolve and every use
# would be a syntax-check[unknown-module]. Expose this checkout as the
# collection through a private collections dir (nothing is written to the
# tree), ahead of the usual paths. Namespace and name come from galaxy.yml.
# Dependencies bundled with the `ansible` pip package are found on Python's
# path without any help.
read -r ns name < <(python3 - galaxy.yml <<'EOF'
import re, sys
# Plain regex instead of PyYAML: this runs before we know which python has it.
text = open(sys.argv[1], encoding='utf-8').read()
get = lambda k, d: (re.search(r'^%s:\s*["\']?([A-Za-z0-9_]+)' % k, text, re.M) or [None, d])[1]
print(get('namespace', 'dhcpops'), get('name', 'kea'))
EOF
)
coll_tmp=$(mktemp -d "${TMPDIR:-/tmp}/lint-collections.XXXXXX")
# shellcheck disable=SC2317  # invoked indirectly, by the EXIT trap
cleanup() { rm -rf -- "${coll_tmp}"; }
trap cleanup EXIT
mkdir -p "${coll_tmp}/ansible_collections/${ns}"
ln -s "${repo_root}" "${coll_tmp}/ansible_collections/${ns}/${name}"
export ANSIBLE_COLLECTIONS_PATH=${coll_tmp}:${HOME}/.ansible/collections:/usr/share/ansible/collections

rc=0

echo "== yamllint"
yamllint -c .yamllint --format standard . || rc=1

echo "== ansible-lint"
# --offline duplicates `offline: true` in .ansible-lint on purpose, so that
# an explicit -c pointing elsewhere cannot turn Galaxy installs back on (Galaxy
# is unreachable; a hanging network call is worse than a clear failure).
# The project is a collection (galaxy.yml at the root), so ansible-lint links
# it into its own collections path and dhcpops.kea.* resolve to this checkout.
color=()
[[ -t 1 ]] || color=(--nocolor)  # escape codes only clutter CI logs
ansible-lint -c .ansible-lint --offline --profile production "${color[@]}" "$@" || rc=1

exit "${rc}"
