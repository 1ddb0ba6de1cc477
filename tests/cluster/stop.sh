#!/usr/bin/env bash
# Usage: tests/cluster/stop.sh DIR
#
# Stops the control plane running in DIR and keeps everything start.sh needs to bring it
# back as it was: certificates, kubeconfigs, the API server's port and etcd's data. A clean
# stop (SIGUSR1, see cmd/pxtoken-testcluster), up to 30 s, then SIGKILL. Idempotent.
# For a crash instead, kill -KILL "$(cat DIR/cluster.pid)": start.sh recovers from that too.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ $# -eq 1 ] || die "usage: $0 DIR"
DIR="$1"
[ -d "$DIR" ] || die "$DIR does not exist"

if pid=$(cluster_pid "$DIR"); then
  kill -CONT "$pid" 2>/dev/null || true # a paused (SIGSTOP) control plane cannot stop
  stop_pid "$pid" USR1
  echo "control plane (pid $pid) stopped, data kept in $DIR/etcd"
fi
rm -f "$DIR/cluster.pid" "$DIR/ready"
