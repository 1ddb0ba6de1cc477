#!/usr/bin/env bash
# Usage: tests/cluster/down.sh DIR
#
# Stops the control plane that up.sh started in DIR: SIGTERM, up to 30 s for a clean
# shutdown, then SIGKILL. Removes its etcd data, also when stop.sh kept it. Leaves no
# process behind; idempotent.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ $# -eq 1 ] || die "usage: $0 DIR"
DIR="$1"
[ -d "$DIR" ] || exit 0

if pid=$(cluster_pid "$DIR"); then
  kill -CONT "$pid" 2>/dev/null || true # a paused (SIGSTOP) control plane cannot stop
  stop_pid "$pid" TERM
  echo "control plane (pid $pid) stopped"
fi
# After a SIGKILL, or a stop.sh, the etcd data is still there.
rm -rf "$DIR/etcd"
# Where control planes of earlier versions kept it.
if etcd_dir=$(cat "$DIR/etcd-data-dir" 2>/dev/null) && [ -n "$etcd_dir" ]; then
  case "$etcd_dir" in
    */pxtoken-testcluster-etcd-*) rm -rf "$etcd_dir" ;;
  esac
fi
rm -f "$DIR/cluster.pid" "$DIR/ready" "$DIR/etcd-data-dir"
