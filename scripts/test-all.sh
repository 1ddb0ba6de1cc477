#!/usr/bin/env bash
# Runs every test of the project against one shared test control plane:
#   - cargo test (unit tests and the end-to-end suite through the real kubectl; the release
#     tool's unit tests),
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

LOG_DIR="$(mktemp -d)"
trap 'cleanup; rm -rf "$LOG_DIR"' EXIT

echo "==> cargo build (xtask, which the krew test runs as \`cargo xtask release\`)"
cargo build --locked --package xtask
echo "==> cargo test"
cargo test --locked --all-targets 2>&1 | tee "$LOG_DIR/cargo.log"
# The release tool's unit tests (xtask/), in a run of their own: with --workspace above, features
# would resolve over both packages, and the krew test's `cargo xtask` (xtask alone) would then
# build some of xtask's dependencies a second time.
echo "==> cargo test (xtask)"
cargo test --locked --package xtask 2>&1 | tee -a "$LOG_DIR/cargo.log"

for module in tests/openstorage-peer tests/krew; do
  if [ -f "$module/go.mod" ]; then
    echo "==> go test ($module)"
    (cd "$module" && go test -count=1 -v ./...) 2>&1 | tee "$LOG_DIR/go-${module##*/}.log" | grep -Ev '^(=== (RUN|PAUSE|CONT)|\s+--- PASS)'
  fi
done

# One closing line over every runner: cargo's per-binary counts plus Go's top-level tests.
passed=$(grep -ho 'test result: ok\. [0-9]* passed' "$LOG_DIR/cargo.log" | awk '{s+=$4} END {print s+0}')
go_passed=$(cat "$LOG_DIR"/go-*.log 2>/dev/null | grep -c '^--- PASS' || true)
echo "==> cargo: $passed tests, go: $go_passed tests"
echo "$((passed + go_passed)) passed, 0 failed"
