#!/usr/bin/env bash
# Build the lab's container images, only when missing or out of date:
#   localhost/dhcpops-kea-base:<release>   Debian + systemd, boots as PID 1
#   localhost/dhcpops-kea-check:<release>  base + Debian's Kea, for offline
#                                          `kea-dhcp4 -t` (dhcpops.kea.dhcp4_check)
# Usage: build-images.sh [--force] [release...]   (default: bookworm trixie forky)
#
# No container registry is reachable, so base images come from Debian's
# package mirror via debootstrap and `podman import`. Each image carries a
# label `dhcpops.recipe` = hash of the recipe that built it; a changed recipe
# (this script's steps, not the mirror) rebuilds it, and a rebuilt base
# rebuilds its check image.
set -euo pipefail

# shellcheck source=env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

FORCE=0
if [ "${1:-}" = --force ]; then FORCE=1; shift; fi
# shellcheck disable=SC2206
RELEASES=("$@")
[ ${#RELEASES[@]} -gt 0 ] || read -r -a RELEASES <<<"$DHCPOPS_RELEASES"

MIRROR="$DHCPOPS_DEBIAN_MIRROR"
VARIANT=minbase
# python3: Ansible; systemd + systemd-sysv: /sbin/init as PID 1;
# iproute2 + procps: `ip`, `ps`, `pgrep` used by roles and tests.
INCLUDE=python3,systemd,systemd-sysv,iproute2,procps
# Where debootstrap builds the root (several hundred MB, removed afterwards).
WORKDIR_BASE="${DHCPOPS_BUILD_TMPDIR:-/var/tmp}"

log() { printf '[build-images %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { log "ERROR: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "debootstrap needs root"
command -v debootstrap >/dev/null || die "debootstrap missing: run setup-host.sh"
command -v podman >/dev/null || die "podman missing: run setup-host.sh"

# The cgroup2 wrapper. forky's systemd (>= 258) dropped cgroup v1 and exits
# at once (status 255) on a host with hybrid cgroups, where podman mounts
# the v1 hierarchies. Run with --cgroupns=private (so cgroup2 mounted here is
# the container's own subtree) and --cap-add SYS_ADMIN (to mount), this
# replaces the v1 mounts with cgroup2 and execs systemd. On a host that
# already has pure cgroup v2 it only execs /sbin/init. Installed in every
# base image (harmless), used by default only for forky.
# shellcheck disable=SC2016  # expanded by the container's /bin/sh
WRAPPER='#!/bin/sh
# dhcpops-init: mount cgroup2 at /sys/fs/cgroup, then exec systemd.
# See scripts/lab/build-images.sh in the dhcpops.kea collection.
if [ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" != cgroup2fs ]; then
    umount -R /sys/fs/cgroup 2>/dev/null || umount -l /sys/fs/cgroup
    mount -t cgroup2 -o rw,nosuid,nodev,noexec cgroup2 /sys/fs/cgroup
fi
exec /sbin/init "$@"
'

# Runs on the host against the debootstrapped root $1 for release $2.
# Part of the recipe hash (declare -f below): edit it and images rebuild.
customize_rootfs() {
    local root=$1 release=$2
    install -m 0755 /dev/stdin "$root/usr/local/sbin/dhcpops-init" <<<"$WRAPPER"
    if [ "$release" = forky ]; then
        # The mirror's Release file for testing can be past its Valid-Until.
        echo 'Acquire::Check-Valid-Until "false";' \
            >"$root/etc/apt/apt.conf.d/99dhcpops-no-valid-until"
    fi
    # Empty machine-id: systemd generates one per container at boot.
    : >"$root/etc/machine-id"
    rm -f "$root/var/lib/dbus/machine-id"
    # podman provides these per container; do not ship the build host's.
    rm -f "$root/etc/resolv.conf" "$root/etc/hostname"
    # Units that only make sense on real hardware / a real console.
    local u
    for u in getty@tty1.service console-getty.service \
             systemd-remount-fs.service; do
        ln -sf /dev/null "$root/etc/systemd/system/$u"
    done
    chroot "$root" apt-get clean
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin \
           "$root"/var/log/*.log "$root"/var/log/apt/* "$root"/tmp/*
}

base_recipe() {   # everything that defines a base image, mirror excluded
    printf 'base v1\n%s %s %s\n%s\n' "$1" "$VARIANT" "$INCLUDE" "$WRAPPER"
    declare -f customize_rootfs
}

check_containerfile() {   # $1 = base image
    cat <<CF
FROM $1
# policy-rc.d: never start services while building (there is no systemd
# here anyway). The check image only runs 'kea-dhcp4 -t'; it is not booted.
RUN printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d \\
 && chmod 0755 /usr/sbin/policy-rc.d \\
 && apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
      kea-dhcp4-server kea-ctrl-agent kea-common \\
 && apt-get clean && rm -rf /var/lib/apt/lists/*
CMD ["/bin/bash"]
CF
}

hash_of() { sha256sum | cut -c1-16; }
image_label() {   # image label -> value or empty
    podman image inspect --format "{{index .Labels \"$2\"}}" "$1" 2>/dev/null \
        | sed 's/^<no value>$//' || true
}

remove_old() {   # drop a replaced image if nothing else uses it (no global prune:
                 # other jobs may share this podman storage)
    local new
    [ -n "$1" ] || return 0
    new=$(podman image inspect --format '{{.Id}}' "$2" 2>/dev/null || true)
    [ "$1" = "$new" ] || podman rmi "$1" >/dev/null 2>&1 || true
}

build_base() {
    local release=$1 image want have tmp t0 old script=()
    image=$(dhcpops_var IMAGE "$release")
    [ -n "$image" ] || die "unknown release $release"
    if [ "${image#localhost/}" = "$image" ]; then
        # A user-supplied image: never built here, must exist.
        podman image exists "$image" || die "$image (from the environment) is not in podman storage"
        log "$release: using user-supplied base image $image"
        return
    fi
    want=$(base_recipe "$release" | hash_of)
    have=$(image_label "$image" dhcpops.recipe)
    if [ "$FORCE" = 0 ] && [ "$have" = "$want" ]; then
        log "$release: base $image up to date ($want)"
        return
    fi
    log "$release: building base $image (recipe $want${have:+, was $have})"
    t0=$SECONDS
    old=$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
    # Debian 12's debootstrap has no script for forky: testing works with sid's.
    if [ ! -e "/usr/share/debootstrap/scripts/$release" ]; then
        script=(/usr/share/debootstrap/scripts/sid)
    fi
    tmp=$(mktemp -d "$WORKDIR_BASE/dhcpops-debootstrap-$release.XXXXXX")
    # shellcheck disable=SC2064
    trap "rm -rf '$tmp'" EXIT
    debootstrap --variant="$VARIANT" --include="$INCLUDE" \
        "$release" "$tmp/root" "$MIRROR" "${script[@]}" >"$tmp.log" 2>&1 \
        || { tail -20 "$tmp.log" >&2; rm -f "$tmp.log"; die "debootstrap $release failed"; }
    rm -f "$tmp.log"
    customize_rootfs "$tmp/root" "$release"
    tar -C "$tmp/root" --numeric-owner -c . | podman import -q \
        --change 'CMD ["/sbin/init"]' \
        --change "LABEL dhcpops.recipe=$want" \
        --change "LABEL dhcpops.release=$release" \
        --message "dhcpops.kea lab base image ($release)" \
        - "$image" >/dev/null
    rm -rf "$tmp"
    trap - EXIT
    remove_old "$old" "$image"
    log "$release: base built in $((SECONDS - t0)) s ($(podman image inspect --format '{{.Size}}' "$image" | awk '{printf "%d MB", $1/1e6}'))"
}

build_check() {
    local release=$1 image base base_id want have tmp t0 old
    image=$(dhcpops_var CHECK_IMAGE "$release")
    base=$(dhcpops_var IMAGE "$release")
    # Depends on the base's identity: its recipe label, or its ID if foreign.
    if [ "${base#localhost/}" != "$base" ]; then
        base_id=$(image_label "$base" dhcpops.recipe)
    else
        base_id=$(podman image inspect --format '{{.Id}}' "$base")
    fi
    want=$( { check_containerfile "$base"; echo "$base_id"; } | hash_of)
    have=$(image_label "$image" dhcpops.recipe)
    if [ "$FORCE" = 0 ] && [ "$have" = "$want" ]; then
        log "$release: check $image up to date ($want)"
        return
    fi
    log "$release: building check $image (recipe $want${have:+, was $have})"
    t0=$SECONDS
    old=$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
    tmp=$(mktemp -d)
    check_containerfile "$base" >"$tmp/Containerfile"
    podman build --pull=never --layers=false -q \
        --label "dhcpops.recipe=$want" --label "dhcpops.release=$release" \
        -t "$image" -f "$tmp/Containerfile" "$tmp" >/dev/null \
        || { rm -rf "$tmp"; die "podman build $image failed"; }
    rm -rf "$tmp"
    remove_old "$old" "$image"
    log "$release: check built in $((SECONDS - t0)) s ($(podman run --rm --network none "$image" kea-dhcp4 -V | head -1))"
}

T0=$SECONDS
for r in "${RELEASES[@]}"; do
    build_base "$r"
    build_check "$r"
done
log "all done in $((SECONDS - T0)) s"
