#!/usr/bin/env bash
# Build toxiproxy's server once and cache it; print the binary's path on stdout.
#
#   bin=$(tests/toxiproxy/build.sh)
#   "$bin" -host 127.0.0.1 -port 0   # its HTTP API creates proxies and adds toxics
#
# toxiproxy (github.com/Shopify/toxiproxy/v2, the version go.mod pins) is a TCP proxy that
# injects faults on demand: connection resets, latency, stalls. The fault tests put it
# between kubectl-pxtoken and the test control plane (tests/e2e/support).
#
# Cache: ${PXTOKEN_CACHE_DIR:-$HOME/.cache/kubectl-pxtoken}/bin/toxiproxy-<hash>/toxiproxy-server,
# where <hash> covers go.mod and go.sum. A cached binary is reused without running Go.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../lib/go-build-cache.sh"

hash="$(source_hash "$here" go.mod go.sum)"
dir="$(build_cached toxiproxy "$here" "$hash" toxiproxy-server=github.com/Shopify/toxiproxy/v2/cmd/server)"
echo "$dir/toxiproxy-server"
