#!/usr/bin/env bash
# Builds the images the tests and benchmarks run, offline, from Debian's busybox-static.
# Idempotent: an image that already exists with the same inputs is not rebuilt.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
busybox=$(command -v busybox || true)
if [ ! -x /bin/busybox ] || ! file -L /bin/busybox 2>/dev/null | grep -q static; then
  echo "build.sh: needs Debian's busybox-static (apt-get install -y busybox-static)" >&2
  exit 1
fi
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp "$here/busybox/Dockerfile" "$ctx/Dockerfile"
cp /bin/busybox "$ctx/busybox"
cp "$here/busybox/http-get" "$ctx/http-get"
DOCKER_BUILDKIT=0 docker build -q -t local-ecs-api-test/busybox:latest "$ctx" >/dev/null
echo "built local-ecs-api-test/busybox:latest"
