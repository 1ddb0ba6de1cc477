#!/usr/bin/env bash
# Usage: tests/cluster/up.sh DIR
#
# Starts the test control plane (embedded etcd + kube-apiserver, see
# cmd/pxtoken-testcluster) in the background and returns once /readyz answers.
# Writes into DIR: admin.kubeconfig (system:masters), alice/bob/carol.kubeconfig (no
# rights), cluster.log, cluster.pid, pki/, etcd/. Builds the binary first if it is not in
# ${PXTOKEN_CACHE_DIR:-$HOME/.cache/kubectl-pxtoken}/bin/. Idempotent: returns at once
# when DIR already has a live control plane. Stop it with tests/cluster/down.sh DIR.
#
# Env: PXTOKEN_CLUSTER_WATCH_PID=<pid> makes the control plane stop when that process
# exits; PXTOKEN_CLUSTER_TIMEOUT (seconds, default 120) bounds the wait for /readyz;
# PXTOKEN_CLUSTER_APISERVER_FLAGS adds kube-apiserver flags (split on spaces), e.g.
# "--enable-priority-and-fairness=false --max-requests-inflight=1".
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ $# -eq 1 ] || die "usage: $0 DIR"
mkdir -p "$1"
DIR="$(cd "$1" && pwd)"
read -r -a flags <<<"${PXTOKEN_CLUSTER_APISERVER_FLAGS:-}"
cluster_pid "$DIR" >/dev/null || : >"$DIR/cluster.log" # a new control plane, a new log
bring_up "$DIR" ready -- "${flags[@]}"
