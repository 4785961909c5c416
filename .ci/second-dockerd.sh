#!/usr/bin/env bash
# Starts (or stops) one second Docker engine for a whole CI run, for the tests of several container
# instances on one machine. Without it those tests start their own (test/support/second-dockerd.ts).
#   eval "$(.ci/second-dockerd.sh start)"   # exports SECOND_DOCKER_HOST
#   .ci/second-dockerd.sh stop
# Its own socket, data root, exec root and pid file, its own bridge (not --bridge none: that makes dockerd
# delete the host's docker0, breaking the first engine), no iptables rules. The offline test image is
# loaded into it.
set -euo pipefail
dir=${SECOND_DOCKERD_DIR:-/tmp/local-ecs-api-d2}
host="unix://$dir/docker.sock"
bridge=lecsd2ci
case "${1:-}" in
  start)
    mkdir -p "$dir/data"
    if ! docker -H "$host" info >/dev/null 2>&1; then
      if ! ip link show "$bridge" >/dev/null 2>&1; then
        ip link add name "$bridge" type bridge
        ip addr add 10.254.254.1/24 dev "$bridge"
        ip link set "$bridge" up
      fi
      (nohup dockerd --host "$host" --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/docker.pid" \
        --bridge "$bridge" --iptables=false --ip-masq=false >"$dir/dockerd.log" 2>&1 &)
      for _ in $(seq 1 60); do docker -H "$host" info >/dev/null 2>&1 && break; sleep 1; done
      docker -H "$host" info >/dev/null 2>&1 || { tail -n 30 "$dir/dockerd.log" >&2; echo "second dockerd did not start" >&2; exit 1; }
    fi
    docker save local-ecs-api-test/busybox:latest | docker -H "$host" load >/dev/null
    echo "export SECOND_DOCKER_HOST=$host"
    ;;
  stop)
    if [ -f "$dir/docker.pid" ]; then
      pid=$(cat "$dir/docker.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    fi
    ip link del "$bridge" 2>/dev/null || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
