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
[ -d "$DIR/etcd" ] || die "$DIR holds no stopped control plane (no etcd/): start one with up.sh $DIR"
bring_up "$DIR" "ready again" --restart -- "$@"
