#!/usr/bin/env bash
# Build bench-floor once and cache it; print the binary's path on stdout.
#
#   path=$(tests/bench-floor/build.sh)
#
# Cache: ${PXTOKEN_CACHE_DIR:-$HOME/.cache/kubectl-pxtoken}/bin/bench-floor-<hash>/bench-floor,
# <hash> over go.mod, go.sum and every *.go file here. Same client-go (v0.37.2) and module
# versions as tests/cluster, so Go's build cache from the control plane's build is reused.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../lib/go-build-cache.sh"

mapfile -t sources < <(cd "$here" && find . -name '*.go' -type f | sed 's|^\./||' | LC_ALL=C sort)
hash="$(source_hash "$here" go.mod go.sum "${sources[@]}")"
dir="$(build_cached bench-floor "$here" "$hash" bench-floor=./cmd/bench-floor)"
echo "$dir/bench-floor"
