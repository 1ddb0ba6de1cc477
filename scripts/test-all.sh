#!/usr/bin/env bash
# Runs every test of the project against one shared test control plane:
#   - cargo test (unit tests and the end-to-end suite through the real kubectl),
#   - go test of the peer checkers (openstorage's token verifier, krew's tools).
# Usage: scripts/test-all.sh            (from anywhere; builds whatever is missing)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

command -v go >/dev/null || { echo "error: go not found: install Go >= 1.26 (the test control plane and peer checkers are built from Go modules)" >&2; exit 1; }
command -v cargo >/dev/null || { echo "error: cargo not found: install Rust with rustup" >&2; exit 1; }

STATE="$ROOT/target/test-cluster"
cleanup() { bash tests/cluster/down.sh "$STATE" >/dev/null 2>&1 || true; }
trap cleanup EXIT
echo "==> starting the test control plane (first run builds kube-apiserver from Go modules)"
bash tests/cluster/up.sh "$STATE"
export PXTOKEN_TEST_KUBECONFIG="$STATE/admin.kubeconfig"

echo "==> cargo test"
cargo test --locked --all-targets

for module in tests/peers tests/krew; do
  if [ -f "$module/go.mod" ]; then
    echo "==> go test ($module)"
    (cd "$module" && go test -count=1 ./...)
  fi
done
echo "==> all tests passed"
