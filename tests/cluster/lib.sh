# Shared by up.sh, down.sh and ensure-kubectl.sh; not meant to be run directly.
# Builds the binaries of this Go module into a cache outside the checkout, keyed by a
# hash of go.mod, go.sum and every .go file, so a fresh clone reuses them.

CLUSTER_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The Kubernetes release pinned in go.mod; stamped into the binaries' version.
K8S_VERSION=v1.37.2
PXTOKEN_CACHE_DIR="${PXTOKEN_CACHE_DIR:-${HOME:-/tmp}/.cache/kubectl-pxtoken}"

die() {
  echo "error: $*" >&2
  exit 1
}

# source_hash: 16 hex digits that change whenever anything that goes into a build does.
source_hash() {
  (
    cd "$CLUSTER_SRC"
    find . \( -name '*.go' -o -name go.mod -o -name go.sum \) -type f -print |
      LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16
  )
}

# require_go: puts a Go toolchain on PATH or stops with a clear message.
require_go() {
  if ! command -v go >/dev/null 2>&1; then
    if [ -x /usr/local/go/bin/go ]; then
      PATH="/usr/local/go/bin:$PATH"
    else
      die "go not found: install Go >=1.26 and put it on PATH; it builds the test control plane (tests/cluster, Kubernetes $K8S_VERSION) that the end-to-end tests run against"
    fi
  fi
  export PATH
}

ldflags() {
  local minor=${K8S_VERSION#v1.}
  minor=${minor%%.*}
  local flags="" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  echo "-s -w$flags"
}

# ensure_built NAME: prints the path of the cached binary built from ./cmd/NAME,
# building it first when missing. Concurrent callers wait for one build (flock).
ensure_built() {
  local name=$1 out bin
  out="$PXTOKEN_CACHE_DIR/bin/$(source_hash)"
  bin="$out/$name"
  if [ -x "$bin" ]; then
    echo "$bin"
    return 0
  fi
  require_go
  mkdir -p "$out"
  (
    if command -v flock >/dev/null 2>&1; then
      flock 9
    fi
    if [ -x "$bin" ]; then
      exit 0
    fi
    echo "building $name from tests/cluster (Kubernetes $K8S_VERSION) into $out; the first build takes 10-20 minutes on 2 cores" >&2
    local start=$SECONDS
    cd "$CLUSTER_SRC"
    go build -trimpath -buildvcs=false -ldflags "$(ldflags)" -o "$bin.tmp.$$" "./cmd/$name" >&2 ||
      { rm -f "$bin.tmp.$$"; exit 1; }
    mv -f "$bin.tmp.$$" "$bin"
    echo "built $name in $((SECONDS - start))s" >&2
  ) 9>"$out/.lock-$name" || die "building $name failed (see the go output above)"
  echo "$bin"
}

# cluster_pid DIR: prints the pid of DIR's live control plane, or fails.
cluster_pid() {
  local pid
  pid=$(cat "$1/cluster.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  # Guard against a recycled pid.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q pxtoken-testcluster || return 1
  echo "$pid"
}

# start_cluster DIR ARGS...: starts the control plane binary in the background for DIR with
# ARGS (after --dir and --pid-file), in its own session with stdio to DIR/cluster.log (it
# outlives the caller and does not hold the caller's pipes open); sets CLUSTER_PID.
start_cluster() {
  local dir=$1 bin
  shift
  bin=$(ensure_built pxtoken-testcluster)
  rm -f "$dir/ready" "$dir/cluster.pid"
  setsid nohup "$bin" --dir "$dir" --pid-file "$dir/cluster.pid" "$@" >>"$dir/cluster.log" 2>&1 </dev/null &
  CLUSTER_PID=$! # the binary writes the same pid to cluster.pid as it starts
}

# bring_up DIR WORD ARGS...: makes DIR's control plane run. Returns at once when it does,
# waits when it is starting, else starts it with ARGS (see start_cluster); then prints
# "control plane WORD at URL (…)".
bring_up() {
  local dir=$1 word=$2 pid start=""
  shift 2
  if pid=$(cluster_pid "$dir"); then
    if [ -f "$dir/ready" ]; then
      echo "control plane already running (pid $pid), kubeconfigs in $dir"
      return 0
    fi
    echo "control plane starting (pid $pid), waiting for it"
  else
    start=$SECONDS
    start_cluster "$dir" "$@"
    pid=$CLUSTER_PID
  fi
  wait_ready "$dir" "$pid" "${PXTOKEN_CLUSTER_TIMEOUT:-120}" || return 1
  echo "control plane $word at $(cat "$dir/server") (pid $pid${start:+, started in $((SECONDS - start))s}), kubeconfigs in $dir"
}

# wait_ready DIR PID TIMEOUT: returns once DIR/ready exists; on exit or timeout of PID prints
# the log's tail and fails (after a timeout, stopping the control plane with down.sh).
wait_ready() {
  local dir=$1 pid=$2 timeout=$3 deadline
  deadline=$((SECONDS + timeout))
  while [ ! -f "$dir/ready" ]; do
    if ! kill -0 "$pid" 2>/dev/null && ! pid=$(cluster_pid "$dir"); then
      echo "error: the test control plane exited before it was ready; last lines of $dir/cluster.log:" >&2
      tail -n 30 "$dir/cluster.log" >&2 || true
      return 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      echo "error: the test control plane was not ready after ${timeout}s (set PXTOKEN_CLUSTER_TIMEOUT to wait longer); last lines of $dir/cluster.log:" >&2
      tail -n 30 "$dir/cluster.log" >&2 || true
      "$CLUSTER_SRC/down.sh" "$dir" >&2 || true
      return 1
    fi
    sleep 0.2
  done
}

# stop_pid PID SIG: sends SIG, up to 30 s, then SIGKILL; waits until it is gone.
stop_pid() {
  local pid=$1 sig=$2
  kill "-$sig" "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "control plane (pid $pid) did not stop within 30s, killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
}
