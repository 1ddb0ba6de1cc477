#!/usr/bin/env bash
# Usage: tests/cluster/start.sh DIR [-- kube-apiserver flags]
#
# Starts again the control plane that stop.sh stopped (or that was killed) in DIR, from
# what DIR holds: the same certificates, API server URL and etcd data, so every
# DIR/*.kubeconfig works as before. The kube-apiserver flags of the previous start are
# kept unless new ones follow "--". Returns once /readyz answers; idempotent.
#
# Env: as up.sh (PXTOKEN_CLUSTER_WATCH_PID, PXTOKEN_CLUSTER_TIMEOUT).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ $# -ge 1 ] || die "usage: $0 DIR [-- kube-apiserver flags]"
DIR="$(cd "$1" && pwd)"
shift
if [ $# -gt 0 ]; then
  [ "$1" = "--" ] || die "usage: start.sh DIR [-- kube-apiserver flags]"
  shift
fi
TIMEOUT="${PXTOKEN_CLUSTER_TIMEOUT:-120}"
[ -d "$DIR/etcd" ] || die "$DIR holds no stopped control plane (no etcd/): start one with up.sh $DIR"

if pid=$(cluster_pid "$DIR"); then
  if [ -f "$DIR/ready" ]; then
    echo "control plane already running (pid $pid), kubeconfigs in $DIR"
    exit 0
  fi
  echo "control plane starting (pid $pid), waiting for it"
else
  start=$SECONDS
  start_cluster "$DIR" --restart -- "$@"
  pid=$CLUSTER_PID
fi

wait_ready "$DIR" "$pid" "$TIMEOUT" || exit 1
echo "control plane ready again at $(cat "$DIR/server") (pid $pid${start:+, started in $((SECONDS - start))s}), kubeconfigs in $DIR"
