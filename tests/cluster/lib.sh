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
