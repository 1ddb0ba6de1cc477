# Sourced by the Go test tools' build.sh scripts (tests/openstorage-peer, tests/krew): build binaries once,
# cache them outside the checkout keyed by a hash of their sources, and share one lock so
# parallel test processes wait for a single build. Build output goes to stderr.
#
#   source tests/lib/go-build-cache.sh
#   hash=$(source_hash "$module_dir" go.mod go.sum cmd/x/main.go)
#   dir=$(build_cached LABEL "$module_dir" "$hash" NAME=PACKAGE...)   # prints the directory

PXTOKEN_CACHE_DIR="${PXTOKEN_CACHE_DIR:-${HOME:-/tmp}/.cache/kubectl-pxtoken}"

go_cache_die() {
  echo "$GO_CACHE_LABEL build: $*" >&2
  exit 1
}

_sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 | cut -d' ' -f1
  else
    go_cache_die "neither sha256sum nor shasum found"
  fi
}

# source_hash DIR FILE...: 16 hex digits over the files' paths (relative to DIR) and contents.
source_hash() {
  local dir=$1 file
  shift
  (
    cd "$dir"
    for file in "$@"; do
      printf '%s\0' "$file"
      _sha256 <"$file"
    done | _sha256 | cut -c1-16
  )
}

# build_cached LABEL MODULE_DIR HASH NAME=PACKAGE...: prints $PXTOKEN_CACHE_DIR/bin/LABEL-HASH,
# which holds each NAME built from PACKAGE in MODULE_DIR; builds it first when missing.
build_cached() {
  GO_CACHE_LABEL=$1
  local module=$2 hash=$3
  shift 3
  local bin_dir="$PXTOKEN_CACHE_DIR/bin" dir target
  dir="$bin_dir/$GO_CACHE_LABEL-$hash"
  _all_built() {
    for target in "$@"; do [ -x "$dir/${target%%=*}" ] || return 1; done
  }
  if _all_built "$@"; then
    echo "$dir"
    return 0
  fi
  command -v go >/dev/null 2>&1 ||
    go_cache_die "go not found on PATH: install Go (>= 1.24; your distribution's golang package or the official release) with access to the Go module proxy, or put prebuilt binaries in $dir"
  mkdir -p "$bin_dir"
  (
    if command -v flock >/dev/null 2>&1; then
      flock 9
    fi
    # Re-check under the lock: another process may have built it meanwhile.
    _all_built "$@" && exit 0
    tmp="$(mktemp -d "$bin_dir/.$GO_CACHE_LABEL-$hash.XXXXXX")"
    trap 'rm -rf "$tmp"' EXIT
    echo "$GO_CACHE_LABEL build: building $dir (the first run downloads dependencies)" >&2
    for target in "$@"; do
      # Plain flags on purpose: the build shares Go's build cache with `go test` in the module.
      (cd "$module" && GOFLAGS="${GOFLAGS:-} -mod=readonly" go build -o "$tmp/${target%%=*}" "${target#*=}") >&2 ||
        go_cache_die "go build of ${target#*=} failed (see above)"
    done
    chmod 0755 "$tmp"/*
    rm -rf "$dir"
    mv "$tmp" "$dir"
    trap - EXIT
  ) 9>"$bin_dir/.$GO_CACHE_LABEL.lock" || exit 1
  echo "$dir"
}
