#!/usr/bin/env bash
# The lab: an HA pair of Kea servers, their PostgreSQL lease database, a
# DHCP client and kea-exporter, in podman containers on this machine,
# deployed with the collection's site.yml from the inventory in examples/lab.
#
#   scripts/lab/lab.sh up        create what is missing, deploy, prove (make lab)
#   scripts/lab/lab.sh status    prove again and print the status (make lab-status)
#   scripts/lab/lab.sh destroy   remove containers, network and secrets (make lab-destroy)
#
# `make lab` first runs `make setup images` (podman settings, images, venv).
set -euo pipefail

repo=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)
cd -- "${repo}"
# shellcheck source=scripts/lab/env.sh
source scripts/lab/env.sh
export ANSIBLE_CONFIG="${repo}/ansible.cfg"

inventory=examples/lab
network=dhcpops-lab

playbook() {
    ansible-playbook -i "${inventory}" "$@"
}

case "${1:-up}" in
    up)
        start=$(date +%s)
        playbook scripts/lab/lab-containers.yml
        # Exactly what a user runs: their site.yml, which imports the
        # collection's dhcpops.kea.site.
        playbook examples/site.yml
        playbook scripts/lab/prove.yml
        echo "lab: up and proven in $(( $(date +%s) - start )) s"
        ;;
    status)
        playbook scripts/lab/prove.yml
        ;;
    destroy)
        mapfile -t containers < <(podman ps -a --filter label=dhcpops-lab=1 --format '{{.Names}}')
        if (( ${#containers[@]} )); then
            podman rm -f -t 5 "${containers[@]}" >/dev/null
        fi
        if podman network exists "${network}"; then
            podman network rm "${network}" >/dev/null
        fi
        rm -rf .cache/lab/secrets
        echo "lab: removed ${containers[*]:-no containers} and the network ${network}"
        ;;
    *)
        echo "usage: $0 up|status|destroy" >&2
        exit 2
        ;;
esac
