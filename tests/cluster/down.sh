#!/usr/bin/env bash
# Usage: tests/cluster/down.sh DIR
#
# Stops the control plane that up.sh started in DIR: SIGTERM, up to 30 s for a clean
# shutdown, then SIGKILL. Leaves no process behind; idempotent.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ $# -eq 1 ] || die "usage: $0 DIR"
DIR="$1"
[ -d "$DIR" ] || exit 0

if pid=$(cluster_pid "$DIR"); then
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "control plane (pid $pid) did not stop within 30s, killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  echo "control plane (pid $pid) stopped"
fi
# After a SIGKILL the process could not remove its etcd data directory.
if etcd_dir=$(cat "$DIR/etcd-data-dir" 2>/dev/null) && [ -n "$etcd_dir" ]; then
  case "$etcd_dir" in
    */pxtoken-testcluster-etcd-*) rm -rf "$etcd_dir" ;;
  esac
fi
rm -f "$DIR/cluster.pid" "$DIR/ready" "$DIR/etcd-data-dir"
