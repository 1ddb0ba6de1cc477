#!/usr/bin/env bash
# Build krew's own tools once and cache them; print the directory that holds them on stdout.
#
#   dir=$(tests/krew/build.sh)
#   "$dir/validate-krew-manifest" -manifest pxtoken.yaml   # needs "$dir" on PATH: it runs `kubectl krew`
#   PATH="$dir:$PATH" kubectl krew install --manifest=pxtoken.yaml --archive=…
#
# The directory holds `kubectl-krew` (sigs.k8s.io/krew/cmd/krew, named as kubectl finds it)
# and `validate-krew-manifest` (sigs.k8s.io/krew/cmd/validate-krew-manifest), both at the krew
# version go.mod pins (v0.4.3): the exact tools krew-index's CI runs on a submitted manifest.
#
# Cache: ${PXTOKEN_CACHE_DIR:-$HOME/.cache/kubectl-pxtoken}/bin/krew-tools-<hash>/, where <hash>
# covers go.mod and go.sum. A cached directory is reused without running Go.
# Build output goes to stderr; stdout carries only the path.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache_root="${PXTOKEN_CACHE_DIR:-${HOME:-/tmp}/.cache/kubectl-pxtoken}"
bin_dir="$cache_root/bin"

die() { echo "krew tools build: $*" >&2; exit 1; }

sha256() {
	if command -v sha256sum >/dev/null 2>&1; then sha256sum | cut -d' ' -f1
	elif command -v shasum >/dev/null 2>&1; then shasum -a 256 | cut -d' ' -f1
	else die "neither sha256sum nor shasum found"
	fi
}

hash="$(
	cd "$here"
	for f in go.mod go.sum; do
		printf '%s\0' "$f"
		sha256 <"$f"
	done | sha256
)"
hash="${hash:0:16}"
dir="$bin_dir/krew-tools-$hash"

if [[ -x "$dir/kubectl-krew" && -x "$dir/validate-krew-manifest" ]]; then
	echo "$dir"
	exit 0
fi

command -v go >/dev/null 2>&1 ||
	die "go not found on PATH: krew's tools need the Go toolchain (>= 1.24) and the Go module proxy to build; install Go (your distribution's golang package or the official Go release), or put prebuilt kubectl-krew and validate-krew-manifest in $dir"

mkdir -p "$bin_dir"

build() {
	# Re-check under the lock: another process may have built them meanwhile.
	if [[ -x "$dir/kubectl-krew" && -x "$dir/validate-krew-manifest" ]]; then return 0; fi
	local tmp
	tmp="$(mktemp -d "$bin_dir/.krew-tools-$hash.XXXXXX")"
	trap 'rm -rf "$tmp"' EXIT
	echo "krew tools build: building $dir (first run downloads krew's dependencies; about a minute)" >&2
	(
		cd "$here"
		GOFLAGS="${GOFLAGS:-} -mod=readonly" go build -o "$tmp/kubectl-krew" sigs.k8s.io/krew/cmd/krew &&
			GOFLAGS="${GOFLAGS:-} -mod=readonly" go build -o "$tmp/validate-krew-manifest" sigs.k8s.io/krew/cmd/validate-krew-manifest
	) >&2 || die "go build failed (see above)"
	chmod 0755 "$tmp"/*
	rm -rf "$dir"
	mv "$tmp" "$dir"
	trap - EXIT
}

if command -v flock >/dev/null 2>&1; then
	exec 9>"$bin_dir/.krew-tools.lock"
	flock 9
	build
	flock -u 9
else
	build
fi

echo "$dir"
