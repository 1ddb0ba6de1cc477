#!/usr/bin/env bash
# Build pxtoken-peer once and cache it; print the binary's path on stdout.
#
#   path=$(tests/peers/build.sh)
#
# Cache: ${PXTOKEN_CACHE_DIR:-$HOME/.cache/kubectl-pxtoken}/bin/pxtoken-peer-<hash>,
# where <hash> covers go.mod, go.sum and every non-test *.go file of this
# module (paths and contents). A cached binary is reused without running Go.
# Build output goes to stderr; stdout carries only the path.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache_root="${PXTOKEN_CACHE_DIR:-${HOME:-/tmp}/.cache/kubectl-pxtoken}"
bin_dir="$cache_root/bin"

die() { echo "pxtoken-peer build: $*" >&2; exit 1; }

sha256() {
	if command -v sha256sum >/dev/null 2>&1; then sha256sum | cut -d' ' -f1
	elif command -v shasum >/dev/null 2>&1; then shasum -a 256 | cut -d' ' -f1
	else die "neither sha256sum nor shasum found"
	fi
}

hash="$(
	cd "$here"
	{ echo go.mod; echo go.sum; find . -name '*.go' ! -name '*_test.go' -type f | sed 's|^\./||' | LC_ALL=C sort; } |
		while IFS= read -r f; do
			printf '%s\0' "$f"
			sha256 <"$f"
		done | sha256
)"
hash="${hash:0:16}"
bin="$bin_dir/pxtoken-peer-$hash"

if [[ -x "$bin" ]]; then
	echo "$bin"
	exit 0
fi

command -v go >/dev/null 2>&1 ||
	die "go not found on PATH: pxtoken-peer needs the Go toolchain (>= 1.22) and the Go module proxy to build; install Go (your distribution's golang package or the official Go release), or put a prebuilt binary at $bin"

mkdir -p "$bin_dir"

build() {
	# Re-check under the lock: another process may have built it meanwhile.
	if [[ -x "$bin" ]]; then return 0; fi
	local tmp
	tmp="$(mktemp "$bin_dir/.pxtoken-peer-$hash.XXXXXX")"
	trap 'rm -f "$tmp"' EXIT
	echo "pxtoken-peer build: building $bin (first run downloads openstorage's dependencies; may take a minute)" >&2
	(
		cd "$here"
		# Plain flags on purpose: the build shares Go's build cache with
		# `go test ./...` in this module, so whichever runs second is quick.
		GOFLAGS="${GOFLAGS:-} -mod=readonly" go build -o "$tmp" ./cmd/pxtoken-peer
	) >&2 || die "go build failed (see above)"
	chmod 0755 "$tmp"
	mv -f "$tmp" "$bin"
	trap - EXIT
}

if command -v flock >/dev/null 2>&1; then
	exec 9>"$bin_dir/.pxtoken-peer.lock"
	flock 9
	build
	flock -u 9
else
	build
fi

echo "$bin"
