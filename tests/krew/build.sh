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
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../lib/go-build-cache.sh"

hash="$(source_hash "$here" go.mod go.sum)"
build_cached krew-tools "$here" "$hash" \
  kubectl-krew=sigs.k8s.io/krew/cmd/krew \
  validate-krew-manifest=sigs.k8s.io/krew/cmd/validate-krew-manifest
