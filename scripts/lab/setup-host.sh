#!/usr/bin/env bash
# Install the Debian packages the container lab needs on the host.
# Idempotent: when everything is installed it only runs dpkg-query and exits;
# `apt-get update` runs only when something is missing (and at most once).
set -euo pipefail

# podman + runc: container engine and the runtime that works on hybrid
#   cgroups (crun does not); uidmap/slirp4netns/fuse-overlayfs: podman's
#   usual companions (rootless use, user-mode networking, overlay fallback);
# netavark + aardvark-dns + iptables: podman networks with DNS and NAT
#   (molecule scenarios put peers on their own network);
# debootstrap: builds the base images (no registry is reachable);
# iproute2: `ip` for network debugging; python3 + python3-venv: the project's
#   virtualenv; ca-certificates: HTTPS to PyPI; shellcheck: ansible-test
#   sanity skips its shellcheck test (with only a warning) without it;
#   make: the entry point; dpkg-dev + gnupg: the monitoring scenario builds
#   and signs the stand-in Stork agent's apt repository on the controller.
PACKAGES=(podman runc debootstrap uidmap slirp4netns fuse-overlayfs
          netavark aardvark-dns iptables iproute2 python3 python3-venv
          ca-certificates shellcheck make dpkg-dev gnupg)

missing=()
for p in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$status" = installed ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "setup-host: all lab packages present"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "setup-host: missing packages: ${missing[*]} (run as root)" >&2
    exit 1
fi

echo "setup-host: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Try without an update first: on a recently updated host this avoids
# touching the network for the index; fall back to update + install.
if ! apt-get install -y "${missing[@]}"; then
    apt-get update
    apt-get install -y "${missing[@]}"
fi
