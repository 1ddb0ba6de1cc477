#!/usr/bin/env bash
# Build pxtoken-peer once and cache it; print the binary's path on stdout.
#
#   path=$(tests/openstorage-peer/build.sh)
#
# Cache: ${PXTOKEN_CACHE_DIR:-$HOME/.cache/kubectl-pxtoken}/bin/pxtoken-peer-<hash>/pxtoken-peer,
# where <hash> covers go.mod, go.sum and every non-test *.go file of this module (paths and
# contents). A cached binary is reused without running Go. Build output goes to stderr.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../lib/go-build-cache.sh"

mapfile -t sources < <(cd "$here" && find . -name '*.go' ! -name '*_test.go' -type f | sed 's|^\./||' | LC_ALL=C sort)
hash="$(source_hash "$here" go.mod go.sum "${sources[@]}")"
dir="$(build_cached pxtoken-peer "$here" "$hash" pxtoken-peer=./cmd/pxtoken-peer)"
echo "$dir/pxtoken-peer"
