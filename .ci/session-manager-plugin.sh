#!/usr/bin/env bash
# Builds AWS's session-manager-plugin (what `aws ecs execute-command` runs) into
# .ci/cache/session-manager-plugin/ for the ECS Exec end-to-end test (test/e2e/exec-cli.test.ts), which
# looks there and on PATH. Built from a mirror of github:aws/session-manager-plugin with
# ../shared/tools/build-session-manager-plugin.sh (Debian's golang-go; offline). The plugin's code and binary
# are never committed (.ci/cache/ is ignored).
# Never fails the run: without the source it says so loudly, and the test then skips loudly.
# Env: SMP_MIRROR (bare git dir of the mirror; default: where the builder looks), FORCE=1 rebuilds.
set -uo pipefail
cd "$(dirname "$0")/.."
out=.ci/cache/session-manager-plugin
builder=../shared/tools/build-session-manager-plugin.sh

loud() {
  printf '\n%s\n' "########################################################################################"
  printf '## session-manager-plugin NOT built: %s\n' "$1"
  printf '## The ECS Exec end-to-end test with the real AWS CLI + plugin will SKIP (the protocol tests still run).\n'
  printf '%s\n\n' "########################################################################################"
}

if [ -x "$out/session-manager-plugin" ] && [ "${FORCE:-0}" != 1 ]; then
  echo "session-manager-plugin: $("$out/session-manager-plugin" --version) already at $out"
  exit 0
fi
if [ ! -f "$builder" ]; then
  loud "no builder at $builder"
  exit 0
fi
if ! log=$(bash "$builder" "$out" 2>&1); then
  printf '%s\n' "$log" | tail -n 20
  loud "the builder failed (is the mirror of github:aws/session-manager-plugin there? set SMP_MIRROR)"
  exit 0
fi
printf '%s\n' "$log" | tail -n 3
echo "session-manager-plugin: built at $out"
