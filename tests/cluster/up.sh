#!/usr/bin/env bash
# Usage: tests/cluster/up.sh DIR
#
# Starts the test control plane (embedded etcd + kube-apiserver, see
# cmd/pxtoken-testcluster) in the background and returns once /readyz answers.
# Writes into DIR: admin.kubeconfig (system:masters), alice/bob/carol.kubeconfig (no
# rights), cluster.log, cluster.pid, pki/. Builds the binary first if it is not in
# ${PXTOKEN_CACHE_DIR:-$HOME/.cache/kubectl-pxtoken}/bin/. Idempotent: returns at once
# when DIR already has a live control plane. Stop it with tests/cluster/down.sh DIR.
#
# Env: PXTOKEN_CLUSTER_WATCH_PID=<pid> makes the control plane stop when that process
# exits; PXTOKEN_CLUSTER_TIMEOUT (seconds, default 120) bounds the wait for /readyz.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ $# -eq 1 ] || die "usage: $0 DIR"
mkdir -p "$1"
DIR="$(cd "$1" && pwd)"
TIMEOUT="${PXTOKEN_CLUSTER_TIMEOUT:-120}"
LOG="$DIR/cluster.log"

if pid=$(cluster_pid "$DIR"); then
  if [ -f "$DIR/ready" ]; then
    echo "control plane already running (pid $pid), kubeconfigs in $DIR"
    exit 0
  fi
  echo "control plane starting (pid $pid), waiting for it"
else
  bin=$(ensure_built pxtoken-testcluster)
  rm -f "$DIR/ready" "$DIR/cluster.pid"
  start=$SECONDS
  # Own session, no terminal, stdio to the log: it outlives this script and does not
  # hold the caller's pipes open.
  setsid nohup "$bin" --dir "$DIR" --pid-file "$DIR/cluster.pid" >"$LOG" 2>&1 </dev/null &
  pid=$! # the binary writes the same pid to cluster.pid as it starts
fi

deadline=$((SECONDS + TIMEOUT))
while [ ! -f "$DIR/ready" ]; do
  if ! kill -0 "$pid" 2>/dev/null && ! pid=$(cluster_pid "$DIR"); then
    echo "error: the test control plane exited before it was ready; last lines of $LOG:" >&2
    tail -n 30 "$LOG" >&2 || true
    exit 1
  fi
  if [ $SECONDS -ge $deadline ]; then
    echo "error: the test control plane was not ready after ${TIMEOUT}s (set PXTOKEN_CLUSTER_TIMEOUT to wait longer); last lines of $LOG:" >&2
    tail -n 30 "$LOG" >&2 || true
    "$CLUSTER_SRC/down.sh" "$DIR" >&2 || true
    exit 1
  fi
  sleep 0.2
done
echo "control plane ready at $(cat "$DIR/server") (pid $pid${start:+, started in $((SECONDS - start))s}), kubeconfigs in $DIR"
