# shellcheck shell=bash
# Shared set-up of the CI scripts that work outside the checkout
# (artifact.sh, consumer.sh). Source it after setting:
#   ci_name   the script's name in messages ("artifact.sh")
#   ci_venv   the virtualenv with ansible (and molecule) to put first on PATH
# It sources the lab's environment, sets PATH and ${py}, creates the work
# directory ${work} (removed on exit unless ${ci_keep_tmp} is 1) and defines
# fail MESSAGE.
# shellcheck disable=SC2154,SC2034  # ci_* come from the caller; py and work are for it

ci_repo_root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)

# Lab settings: CONTAINERS_CONF for podman and the images' names.
# shellcheck source=scripts/lab/env.sh
source "${ci_repo_root}/scripts/lab/env.sh"
if [[ -d "${ci_venv}/bin" ]]; then
    PATH=${ci_venv}/bin:${PATH}
fi
export PATH
py=$(command -v python3)
[[ -x "${ci_venv}/bin/python" ]] && py=${ci_venv}/bin/python

work=$(mktemp -d "${TMPDIR:-/tmp}/${ci_name%.sh}.XXXXXX")
# shellcheck disable=SC2317  # invoked indirectly, by the EXIT trap
cleanup() {
    if [[ "${ci_keep_tmp:-0}" == 1 ]]; then
        echo "${ci_name}: work directory kept in ${work}" >&2
    else
        rm -rf -- "${work}"
    fi
}
trap cleanup EXIT

fail() {
    echo "${ci_name}: FAIL: $*" >&2
    exit 1
}
