# shellcheck shell=bash
# Common environment for the dhcpops.kea container lab. Source it:
#   . scripts/lab/env.sh
# Every value can be overridden from the environment beforehand, e.g. to
# point the scenarios at any other systemd image:
#   DHCPOPS_IMAGE_TRIXIE=registry.example.org/debian-systemd:13 . scripts/lab/env.sh

# Directory of this file, whether it is sourced from bash or executed.
DHCPOPS_LAB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")" && pwd)"
export DHCPOPS_LAB_DIR

# molecule calls ansible-config and friends from PATH: use the project's venv.
DHCPOPS_VENV_BIN="$(cd "$DHCPOPS_LAB_DIR/../.." && pwd)/.venv/bin"
case ":$PATH:" in *":$DHCPOPS_VENV_BIN:"*) ;; *) export PATH="$DHCPOPS_VENV_BIN:$PATH" ;; esac

# runc + cgroupfs + ulimits below the host's hard limits (see containers.conf).
export CONTAINERS_CONF="${CONTAINERS_CONF:-$DHCPOPS_LAB_DIR/containers.conf}"

# Releases the lab knows; build-images.sh defaults to all of them.
export DHCPOPS_RELEASES="${DHCPOPS_RELEASES:-bookworm trixie forky}"

# systemd base images (debootstrap + podman import, see build-images.sh).
export DHCPOPS_IMAGE_BOOKWORM="${DHCPOPS_IMAGE_BOOKWORM:-localhost/dhcpops-kea-base:bookworm}"
export DHCPOPS_IMAGE_TRIXIE="${DHCPOPS_IMAGE_TRIXIE:-localhost/dhcpops-kea-base:trixie}"
export DHCPOPS_IMAGE_FORKY="${DHCPOPS_IMAGE_FORKY:-localhost/dhcpops-kea-base:forky}"

# Base image + Debian's Kea, for offline `kea-dhcp4 -t` (see plugins/modules/dhcp4_check.py).
export DHCPOPS_CHECK_IMAGE_BOOKWORM="${DHCPOPS_CHECK_IMAGE_BOOKWORM:-localhost/dhcpops-kea-check:bookworm}"
export DHCPOPS_CHECK_IMAGE_TRIXIE="${DHCPOPS_CHECK_IMAGE_TRIXIE:-localhost/dhcpops-kea-check:trixie}"
export DHCPOPS_CHECK_IMAGE_FORKY="${DHCPOPS_CHECK_IMAGE_FORKY:-localhost/dhcpops-kea-check:forky}"

# Debian mirror used by debootstrap and by apt inside the images.
export DHCPOPS_DEBIAN_MIRROR="${DHCPOPS_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

# Extra `podman run` flags a release needs to boot systemd as PID 1.
# forky's systemd (>= 258) has no cgroup v1 support; on hosts with hybrid
# cgroups it needs a private cgroup namespace and the wrapper baked into the
# image that mounts cgroup2 before exec'ing /sbin/init. Do NOT use
# --cgroupns=private for trixie (its journald fails then).
export DHCPOPS_BOOT_FLAGS_BOOKWORM="${DHCPOPS_BOOT_FLAGS_BOOKWORM:-}"
export DHCPOPS_BOOT_FLAGS_TRIXIE="${DHCPOPS_BOOT_FLAGS_TRIXIE:-}"
export DHCPOPS_BOOT_FLAGS_FORKY="${DHCPOPS_BOOT_FLAGS_FORKY:---cgroupns=private --cap-add SYS_ADMIN}"
export DHCPOPS_INIT_BOOKWORM="${DHCPOPS_INIT_BOOKWORM:-/sbin/init}"
export DHCPOPS_INIT_TRIXIE="${DHCPOPS_INIT_TRIXIE:-/sbin/init}"
export DHCPOPS_INIT_FORKY="${DHCPOPS_INIT_FORKY:-/usr/local/sbin/dhcpops-init}"

# dhcpops_var KIND RELEASE -> value of DHCPOPS_<KIND>_<RELEASE>
# (KIND: IMAGE, CHECK_IMAGE, BOOT_FLAGS, INIT).
dhcpops_var() {
    local name="DHCPOPS_${1}_${2^^}"
    printf '%s' "${!name-}"
}
