#!/usr/bin/env bash
# Validate Kea DHCPv4 configuration files with the real `kea-dhcp4 -t` of a
# Debian release, offline, in one throwaway container of the lab's check
# image (see build-images.sh).
#
# Usage: kea-check.sh [-v] RELEASE FILE...
#   RELEASE  bookworm (Kea 2.2) | trixie (Kea 2.6) | forky (Kea 3.0)
#   -v       also print Kea's full output for failing files and "FILE: OK"
#            for passing ones
# Exit: 0 all files pass; 1 at least one fails (one line per failing file on
# stdout: "FILE: <Kea's stderr reason line, verbatim>"); 2 usage or
# infrastructure error (image missing, podman failed).
#
# Called by CI and by the collection's validate.yml playbook: one container
# for all files, no network (--network none), nothing written on the host
# except a private temp dir that is removed on exit.
#
# Why it looks like this:
# - `kea-dhcp4 -t` fails when a configured interface (interfaces-config
#   "eth0" or "eth0/ADDR", or a subnet's "interface") does not exist or lacks
#   the address (checked on Kea 2.2, 2.6 and 3.0). The container has only
#   `lo`, so every named interface is created first (dummy device; veth or
#   bridge where the kernel has no dummy driver), with its address, so the
#   result is the one on the target host. Needs NET_ADMIN in the container.
# - Kea 3.0's `-t` also fails when an HTTP control socket's basic-auth
#   "password-file"/"user-file" is missing; on the target that is a deployed
#   secret, so a placeholder is created for each absolute (or
#   "directory"-relative) one that the image lacks.
# - Debian's AppArmor profile only lets Kea read /etc/kea/**, and on a real
#   host Kea runs as _kea: files are validated from /etc/kea/dhcpops-check/,
#   owned root:_kea 0640, as user _kea (root only if the image has no _kea).
# - `-t` does not resolve <?include?> files that are not in the image, does
#   not connect to databases and does not enforce Kea 2.6's path rules for
#   lease files and sockets (those are checked only at start-up / with -T).
set -euo pipefail

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

VERBOSE=0
while [ $# -gt 0 ]; do
    case $1 in
        -v) VERBOSE=1; shift ;;
        -h|--help) usage ;;
        --) shift; break ;;
        -*) usage ;;
        *) break ;;
    esac
done
[ $# -ge 2 ] || usage
RELEASE=$1; shift

# shellcheck source=env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

IMAGE=$(dhcpops_var CHECK_IMAGE "$RELEASE")
if [ -z "$IMAGE" ]; then
    echo "kea-check: unknown release '$RELEASE' (known: $DHCPOPS_RELEASES)" >&2
    exit 2
fi
if ! podman image exists "$IMAGE"; then
    echo "kea-check: image $IMAGE missing: run scripts/lab/build-images.sh $RELEASE" >&2
    exit 2
fi
TIMEOUT=${DHCPOPS_KEA_CHECK_TIMEOUT:-300}   # seconds per file

# Private staging dir (0700): configs may hold database passwords. Copying
# also keeps odd file names (':' ',') away from podman's mount syntax.
STAGE=$(mktemp -d "${TMPDIR:-/tmp}/dhcpops-kea-check.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
mkdir "$STAGE/cfg"

FILES=("$@")
failed=0
declare -a STAGED=()
for i in "${!FILES[@]}"; do
    f=${FILES[$i]}
    if [ ! -f "$f" ] || [ ! -r "$f" ]; then
        echo "$f: file not found or not readable"
        failed=1
        continue
    fi
    # Keep the base name: Kea's messages quote the path it was given.
    # Zero-padded index keeps Kea's run in argument order.
    cp -- "$f" "$STAGE/cfg/$(printf '%04d' "$i")-$(basename -- "$f")"
    STAGED+=("$i")
done
[ ${#STAGED[@]} -gt 0 ] || exit 1

# Host side is done; the rest runs inside the container as root, then drops
# to _kea for Kea itself.
cat >"$STAGE/prepare.py" <<'PY'
# Print what the configs expect to find on the target host:
#   IF NAME [ADDR...]  each interface named in interfaces-config.interfaces
#                      ("eth0", "eth0/192.0.2.1"; "*" skipped) or as a
#                      subnet's / shared network's "interface";
#   FILE PATH          each "password-file" / "user-file" of an HTTP control
#                      socket's basic authentication (Kea 3.0's -t fails when
#                      it is missing; on the target it is a deployed secret).
# Regex on comment-stripped text for interfaces: works on files with
# <?include?> or syntax errors too (Kea reports those itself).
import json, os, re, sys

def strip_comments(s):
    out, i, n, in_str = [], 0, len(s), False
    while i < n:
        c = s[i]
        if in_str:
            out.append(c)
            if c == '\\' and i + 1 < n:
                out.append(s[i + 1]); i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True; out.append(c)
        elif c == '#' or s.startswith('//', i):
            j = s.find('\n', i)
            i = n if j < 0 else j
            continue
        elif s.startswith('/*', i):
            j = s.find('*/', i + 2)
            i = n if j < 0 else j + 2
            continue
        else:
            out.append(c)
        i += 1
    return ''.join(out)

def secret_files(node, out):
    if isinstance(node, dict):
        if isinstance(node.get('clients'), list):
            directory = node.get('directory') or ''
            for c in node['clients']:
                if not isinstance(c, dict):
                    continue
                for key in ('password-file', 'user-file'):
                    p = c.get(key)
                    if isinstance(p, str) and p:
                        if not p.startswith('/'):
                            if not directory:
                                continue   # Kea looks in its cwd: leave it
                            p = os.path.join(directory, p)
                        out.add(p)
        for v in node.values():
            secret_files(v, out)
    elif isinstance(node, list):
        for v in node:
            secret_files(v, out)

names, files = {}, set()
for path in sys.argv[1:]:
    try:
        text = strip_comments(open(path, encoding='utf-8', errors='replace').read())
    except OSError:
        continue
    for m in re.finditer(r'"interfaces"\s*:\s*\[([^\]]*)\]', text):
        for item in re.findall(r'"([^"]*)"', m.group(1)):
            name, _, addr = item.partition('/')
            if name and name != '*':
                names.setdefault(name, set())
                if addr:
                    names[name].add(addr)
    for name in re.findall(r'"interface"\s*:\s*"([^"]+)"', text):
        names.setdefault(name, set())
    try:
        secret_files(json.loads(re.sub(r'<\?include[^>]*\?>', '', text)), files)
    except ValueError:
        for m in re.finditer(r'"(?:password|user)-file"\s*:\s*"(/[^"]+)"', text):
            files.add(m.group(1))
for name, addrs in sorted(names.items()):
    print('IF', name, *sorted(addrs))
for f in sorted(files):
    print('FILE', f)
PY

cat >"$STAGE/inner.sh" <<'SH'
# Runs in the container. $1 timeout, $2 verbose; configs in /run/dhcpops-src/cfg.
set -u
timeout_s=$1 verbose=$2
src=/run/dhcpops-src
dst=/etc/kea/dhcpops-check
# Directories a booted host would have (systemd creates them from the unit).
mkdir -p /run/kea /var/lib/kea /var/log/kea
user=root
if getent passwd _kea >/dev/null; then
    user=_kea
    chown _kea:_kea /run/kea /var/lib/kea /var/log/kea
    chmod 0750 /run/kea /var/lib/kea /var/log/kea
fi
install -d -m 0750 -g "$(id -gn "$user")" "$dst"
for f in "$src"/cfg/*; do
    install -m 0640 -g "$(id -gn "$user")" "$f" "$dst/"
done

# Create the interfaces (and secret files) the configs expect, so Kea's
# checks see what they would see on the target.
n=0
python3 "$src/prepare.py" "$dst"/* >/tmp/prepare || exit 3
while read -r kind name addrs; do
    if [ "$kind" = FILE ]; then
        if [ ! -e "$name" ]; then
            mkdir -p "$(dirname "$name")"
            printf 'placeholder' >"$name"
            chown "root:$(id -gn "$user")" "$name"; chmod 0640 "$name"
            echo "@@STUB $name"
        fi
        continue
    fi
    if ! ip link show dev "$name" >/dev/null 2>&1; then
        # No dummy driver on some kernels: a veth pair or a bridge will do.
        ip link add "$name" type dummy 2>/dev/null \
        || ip link add "$name" type veth peer name "dhcpopsp$n" 2>/dev/null \
        || ip link add "$name" type bridge 2>/dev/null \
        || { echo "@@NOTE cannot create interface '$name'"; continue; }
        ip link set "dhcpopsp$n" up 2>/dev/null
        n=$((n + 1))
    fi
    ip link set "$name" up 2>/dev/null
    for a in $addrs; do
        ip addr add "$a/32" dev "$name" 2>/dev/null
    done
done </tmp/prepare

for f in "$dst"/*; do
    idx=${f##*/}; idx=${idx%%-*}
    if [ "$user" = root ]; then
        timeout "$timeout_s" kea-dhcp4 -t "$f" >/tmp/out 2>/tmp/err
    else
        timeout "$timeout_s" runuser -u "$user" -- kea-dhcp4 -t "$f" >/tmp/out 2>/tmp/err
    fi
    rc=$?
    reason=$(grep -m1 -v '^[[:space:]]*$' /tmp/err)
    [ $rc -eq 124 ] && reason="kea-dhcp4 -t timed out after ${timeout_s} s"
    [ -z "$reason" ] && [ $rc -ne 0 ] && reason="kea-dhcp4 -t exited with status $rc"
    printf '@@RESULT %s %s %s\n' "$idx" "$rc" "$reason"
    if [ "$verbose" = 1 ] && [ $rc -ne 0 ]; then
        sed "s/^/@@LOG $idx /" /tmp/out /tmp/err
    fi
done
echo "@@USER $user"
SH

set +e
out=$(podman run --rm --pull=never --network none --cap-add NET_ADMIN \
        --user root --entrypoint '' \
        -v "$STAGE:/run/dhcpops-src:ro" \
        "$IMAGE" bash /run/dhcpops-src/inner.sh "$TIMEOUT" "$VERBOSE" 2>&1)
prc=$?
set -e

seen=0
while IFS= read -r line; do
    case $line in
        "@@RESULT "*)
            rest=${line#@@RESULT }
            idx=$((10#${rest%% *})); rest=${rest#* }
            rc=${rest%% *}; reason=${rest#"$rc"}; reason=${reason# }
            seen=$((seen + 1))
            if [ "$rc" = 0 ]; then
                [ "$VERBOSE" = 1 ] && echo "${FILES[$idx]}: OK"
            else
                echo "${FILES[$idx]}: $reason"
                failed=1
            fi ;;
        "@@LOG "*)
            rest=${line#@@LOG }
            printf '  %s\n' "${rest#* }" ;;
        "@@STUB "*) [ "$VERBOSE" = 1 ] && echo "(placeholder created: ${line#@@STUB })" ;;
        "@@USER "*) [ "$VERBOSE" = 1 ] && echo "(kea-dhcp4 ran as ${line#@@USER })" ;;
        "@@NOTE "*) echo "kea-check: ${line#@@NOTE }" >&2 ;;
    esac
done <<<"$out"

if [ "$seen" -ne ${#STAGED[@]} ]; then
    echo "kea-check: container run failed (podman exit $prc):" >&2
    printf '%s\n' "$out" | grep -v '^@@' >&2
    exit 2
fi
exit "$failed"
