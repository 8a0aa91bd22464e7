#!/usr/bin/env bash
# Builds the STAND-IN isc-stork-agent package (see README.md) and, with
# --repo, a signed apt repository holding it, laid out like ISC's Cloudsmith
# repository (dists/<suite>/main/binary-<arch>, Signed-By key as gpg.key).
#
# Usage: build.sh OUTDIR [--repo SUITE]
#   OUTDIR/isc-stork-agent_<version>_all.deb
#   OUTDIR/repo/{gpg.key,dists/SUITE/InRelease,...}      (with --repo)
# Needs dpkg-deb; --repo also needs dpkg-scanpackages (dpkg-dev) and gpg.
# Rebuilds from scratch every time: it takes a second.
set -euo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
out=${1:?usage: build.sh OUTDIR [--repo SUITE]}
suite=""
if [[ ${2:-} == --repo ]]; then
    suite=${3:?--repo needs a suite, e.g. bookworm}
fi
version=$(sed -n 's/^VERSION = "\(.*\)"$/\1/p' "${here}/package/usr/bin/stork-agent")

mkdir -p -- "${out}"
out=$(cd -- "${out}" && pwd)
work=$(mktemp -d)
trap 'rm -rf -- "${work}"' EXIT

# A copy, so that permissions are set here whatever the checkout's umask.
cp -a -- "${here}/package" "${work}/root"
sed -i "s/@VERSION@/${version}/" "${work}/root/DEBIAN/control"
# The source keeps the portable shebang ansible-test accepts; Debian has no
# `python`, so the packaged program names python3, as the real package would.
sed -i '1s|^#!/usr/bin/env python$|#!/usr/bin/python3|' "${work}/root/usr/bin/stork-agent"
chmod 0755 "${work}/root/DEBIAN" "${work}/root/DEBIAN/postinst" "${work}/root/DEBIAN/postrm" \
    "${work}/root/usr/bin/stork-agent"
chmod 0644 "${work}/root/DEBIAN/control" "${work}/root/DEBIAN/conffiles" \
    "${work}/root/etc/stork/agent.env" "${work}/root/lib/systemd/system/isc-stork-agent.service"
deb="${out}/isc-stork-agent_${version}_all.deb"
dpkg-deb --root-owner-group -Zxz --build "${work}/root" "${deb}" >/dev/null
echo "${deb}"

[[ -n ${suite} ]] || exit 0

repo="${out}/repo"
rm -rf -- "${repo}"
pool="pool/main/i/isc-stork-agent"
mkdir -p -- "${repo}/${pool}"
cp -- "${deb}" "${repo}/${pool}/"
dists="dists/${suite}"
for arch in amd64 arm64; do
    mkdir -p -- "${repo}/${dists}/main/binary-${arch}"
    (cd -- "${repo}" && dpkg-scanpackages --multiversion pool /dev/null 2>/dev/null) \
        > "${repo}/${dists}/main/binary-${arch}/Packages"
    gzip -9nk "${repo}/${dists}/main/binary-${arch}/Packages"
done
{
    echo "Origin: dhcpops.kea stand-in"
    echo "Label: isc-stork-agent stand-in"
    echo "Suite: ${suite}"
    echo "Codename: ${suite}"
    echo "Date: $(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S UTC')"
    echo "Architectures: amd64 arm64"
    echo "Components: main"
    echo "SHA256:"
    (cd -- "${repo}/${dists}" && find main -type f | sort | while read -r f; do
        printf ' %s %s %s\n' "$(sha256sum "$f" | cut -d' ' -f1)" "$(stat -c %s "$f")" "$f"
    done)
} > "${repo}/${dists}/Release"

# A throw-away signing key per build: apt checks the repository against the
# keyring the role installs (Signed-By), exactly as with ISC's key.
export GNUPGHOME="${work}/gnupg"
mkdir -m 0700 -- "${GNUPGHOME}"
gpg --batch --quiet --passphrase '' --quick-generate-key "dhcpops.kea stork-agent stand-in repository" ed25519 sign 1d
gpg --batch --quiet --armor --export > "${repo}/gpg.key"
gpg --batch --quiet --yes --clearsign -o "${repo}/${dists}/InRelease" "${repo}/${dists}/Release"
echo "${repo}"
