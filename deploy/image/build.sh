#!/usr/bin/env bash
# Builds the image the Kubernetes manifests name from the repository's Dockerfile with buildah,
# which needs no daemon and, with chroot isolation, no user namespaces or cgroups (it runs in CI
# containers and on login nodes where Docker does not).
#
#   deploy/image/build.sh [--local-base] [--tag IMAGE] [CONTEXT]
#
# CONTEXT: a clean clone of the repository (default: the one this script is in). --tag: the image
# name (default transferbench:latest, what deploy/kubernetes/values.json names). --local-base: no
# registry needed; the official node:20 base images are replaced by one made by base.sh from the
# Debian mirror and the npm registry (built once, then reused). Push the result with
# `buildah push IMAGE docker://REGISTRY/...` for a cluster to pull it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
local_base=0
tag=transferbench:latest
while [ $# -gt 0 ]; do
  case $1 in
    --local-base) local_base=1; shift ;;
    --tag) [ $# -ge 2 ] || { echo "build.sh: --tag needs an image name" >&2; exit 2; }; tag=$2; shift 2 ;;
    -*) echo "build.sh: unknown option $1 (allowed: --local-base, --tag IMAGE)" >&2; exit 2 ;;
    *) break ;;
  esac
done
context=${1:-$(cd "$here/../.." && pwd)}
[ -f "$context/Dockerfile" ] || {
  echo "build.sh: $context has no Dockerfile (CONTEXT must be a clone of the repository)" >&2
  exit 2
}
command -v buildah >/dev/null || { echo "build.sh: buildah is not installed (apt-get install buildah)" >&2; exit 1; }
# chroot isolation: RUN steps share the host's kernel namespaces, which works where nested
# containers (user namespaces, cgroups) are not allowed.
export BUILDAH_ISOLATION=${BUILDAH_ISOLATION:-chroot}

args=()
if [ $local_base = 1 ]; then
  base=localhost/transferbench-base:node20-bookworm
  "$here/base.sh" "$base"
  args+=(--build-arg "BUILD_IMAGE=$base" --build-arg "RUNTIME_IMAGE=$base")
fi
start=$(date +%s)
buildah bud "${args[@]}" --tag "$tag" --file "$context/Dockerfile" "$context"
seconds=$(( $(date +%s) - start ))
echo "built $tag in ${seconds} s, $(buildah images --noheading --format '{{.Size}}' "$tag" | head -1)"
