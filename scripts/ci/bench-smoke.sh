#!/usr/bin/env bash
# Every benchmark at its smallest size, then the figures from those results,
# so that none of the scripts rots (docs/benchmarks.md). Results and figures
# go to a temporary directory, never over the recorded ones; each script's
# own checks (service at all, nothing changed on a re-run, every peer
# reloaded, ...) decide whether it passed.
#
#   config_pipeline    500 reservations, one repeat, kea-dhcp4 -t in the check images
#   dhcp_service       memfile and PostgreSQL as tuned, 100 exchanges/s, 5 s each
#   reservations_sync  100 reservations through the API of Kea 3.0 (host_cmds)
#   ansible_cost       one HA pair: fresh site.yml, no-change re-run, floor, one rolling reload,
#                      over the lab's pipelined connection (benchmarks/connection_plugins), the
#                      one part of it that nothing else runs; molecule's scenarios run the
#                      default containers.podman.podman connection, the script's only other
#                      difference being that inventory value
#   plots              every figure, from the results above
#
# Each script deploys containers of its own on a network of its own and
# removes them at the end. About 9 minutes on two cores; `make test` runs it
# beside the static gates, which need the CPU while it mostly waits on
# podman exec.
#
# Usage: scripts/ci/bench-smoke.sh
# Environment: BENCH_SMOKE_VENV  virtualenv with the test and benchmark
#              requirements (default <repo>/.venv)
#              BENCH_SMOKE_KEEP_TMP=1  keep the results and figures
set -euo pipefail

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd -- "${script_dir}/../.." && pwd)
start=$(date +%s)

ci_name=bench-smoke.sh
ci_venv=${BENCH_SMOKE_VENV:-${repo_root}/.venv}
ci_keep_tmp=${BENCH_SMOKE_KEEP_TMP:-0}
# shellcheck source=scripts/ci/common.sh
source "${script_dir}/common.sh"
cd "${repo_root}"

# A stop (Ctrl-C, or make killing the job when a gate beside it fails)
# reaches the benchmark, which removes its containers on the way out.
current=
stop() {
    if [[ -n "${current}" ]]; then
        kill -TERM "${current}" 2>/dev/null || true
        wait "${current}" 2>/dev/null || true
    fi
    exit 143
}
trap stop TERM INT

summary=()
report() {
    local line
    for line in "${summary[@]}"; do
        echo "${ci_name}: ${line}"
    done
}
run() {
    local name=$1 began status
    shift
    began=$(date +%s)
    echo "${ci_name}: ${name}: $*"
    "${py}" "$@" &
    current=$!
    status=0
    wait "${current}" || status=$?
    current=
    summary+=("${name}: $([[ ${status} -eq 0 ]] && echo passed || echo "FAILED (exit ${status})") in $(( $(date +%s) - began )) s")
    if [[ ${status} -ne 0 ]]; then
        report
        fail "${name} failed; its output is above"
    fi
}

run config_pipeline benchmarks/config_pipeline.py --sizes 500 --repeat 1 --out "${work}/config_pipeline.json"
run dhcp_service benchmarks/dhcp_service.py --smoke --out "${work}/dhcp_service.json"
run reservations_sync benchmarks/reservations_sync.py --smoke --out "${work}/reservations_sync.json"
run ansible_cost benchmarks/ansible_cost.py --smoke --connection pipe --out "${work}/ansible_cost.json"
run plots benchmarks/plots.py --results "${work}" --out "${work}/images"
ls "${work}/images"/*.png >/dev/null

report
echo "${ci_name}: passed in $(( $(date +%s) - start )) s"
