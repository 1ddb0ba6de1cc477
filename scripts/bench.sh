#!/usr/bin/env bash
# Benchmarks the SPEC's performance budgets on the local test control plane, against the
# documented workflow measured in the same run:
#   - one tenant: the seed's steps (kubectl + jq + base64 for the shared secret, a token from
#     openstorage's own generator standing in for `pxctl auth token generate`, which needs a node,
#     kubectl to store it) vs `kubectl pxtoken tenant` (with discovery, and with explicit flags);
#   - API requests per tenant (counted from the plugin's -v 3 request log);
#   - startup (`kubectl-pxtoken --version`), stripped release binary size, peak memory;
#   - bulk onboarding, the concurrency sweep and one tenant against the client-go floor
#     (scripts/bench/tenants.sh, which says what it measures).
# Usage: scripts/bench.sh [RUNS]   (needs hyperfine, jq, bc, curl, python3, /usr/bin/time and Go;
# builds a release binary; about 4 minutes on 2 cores)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
RUNS="${1:-20}"
for tool in hyperfine jq /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "error: $tool not found (apt-get install hyperfine jq time)" >&2; exit 1; }
done

STATE="$ROOT/target/bench"
mkdir -p "$STATE/plugins"
trap 'bash tests/cluster/down.sh "$STATE/cluster" >/dev/null 2>&1 || true' EXIT

echo "==> building the release binary"
cargo build --release --locked --quiet --bin kubectl-pxtoken
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/kubectl-pxtoken"
ln -sf "$BIN" "$STATE/plugins/kubectl-pxtoken"
KUBECTL="$(bash tests/cluster/ensure-kubectl.sh)"
PEER="$(bash tests/openstorage-peer/build.sh)"
export PATH="$STATE/plugins:$(dirname "$KUBECTL"):$PATH"
bash tests/cluster/up.sh "$STATE/cluster" >/dev/null
export KUBECONFIG="$STATE/cluster/admin.kubeconfig"

# A DaemonSet-style Portworx install, as scripts/demo.sh lays it down.
bash scripts/seed-portworx.sh portworx.com
for ns in bench-seed bench-discover bench-explicit; do kubectl create namespace "$ns" >/dev/null; done
printf 'name: bench-seed\nemail: bench-seed@portworx.com\nsub: bench-seed\nroles: ["system.user"]\n' >"$STATE/tenant.yaml"

# The documented workflow, step for step (reference/seed-generating-tokens.md). The secret goes
# through a 0600 file rather than argv; that costs nothing measurable.
cat >"$STATE/seed-workflow.sh" <<SEED
set -euo pipefail
umask 077
kubectl -n kube-system get secret pxkeys -o json | jq -r '.data."shared-secret"' | base64 -d >"$STATE/seed-secret"
TOKEN=\$("$PEER" generate --auth-config "$STATE/tenant.yaml" --issuer portworx.com --shared-secret-file "$STATE/seed-secret" --token-duration 1y)
kubectl -n bench-seed create secret generic px-k8s-user --from-literal=auth-token="\$TOKEN" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
SEED

echo "==> one tenant, $RUNS runs each"
hyperfine --warmup 2 --runs "$RUNS" --export-json "$STATE/tenant.json" \
  -n "documented workflow (kubectl+jq+base64, generator, kubectl)" "bash $STATE/seed-workflow.sh" \
  -n "kubectl pxtoken tenant (discovery)" "kubectl pxtoken tenant bench-discover" \
  -n "kubectl pxtoken tenant (--shared-secret-ref, --issuer)" \
  "kubectl pxtoken tenant bench-explicit --shared-secret-ref kube-system/pxkeys:shared-secret --issuer portworx.com"

echo "==> startup"
hyperfine --warmup 5 --runs 200 -N --export-json "$STATE/startup.json" "$BIN --version" "$KUBECTL version --client"

requests() { "$@" -v 3 2>&1 >/dev/null | grep -c ': requesting$' || true; }
discover_requests=$(requests kubectl pxtoken tenant bench-discover)
explicit_requests=$(requests kubectl pxtoken tenant bench-explicit --shared-secret-ref kube-system/pxkeys:shared-secret --issuer portworx.com)
peak_kb=$(/usr/bin/time -f %M "$BIN" tenant bench-explicit --shared-secret-ref kube-system/pxkeys:shared-secret --issuer portworx.com 2>&1 >/dev/null | tail -1)
size=$(stat -c %s "$BIN")

mean() { jq -r ".results[$2].mean" "$1"; }
median() { jq -r ".results[$2].median" "$1"; }
seed=$(mean "$STATE/tenant.json" 0)
echo
echo "## Results ($(date -u +%F), $(nproc) cores, load average $(uptime | sed 's/.*load average: //'))"
printf '| measure | value | ratio |\n|---|---|---|\n'
for i in 0 1 2; do
  name=$(jq -r ".results[$i].command" "$STATE/tenant.json")
  m=$(mean "$STATE/tenant.json" "$i")
  printf '| %s | %.1f ms | %.2f× the documented workflow |\n' "$name" "$(echo "$m * 1000" | bc -l)" "$(echo "$m / $seed" | bc -l)"
done
startup=$(median "$STATE/startup.json" 0)
kubectl_startup=$(median "$STATE/startup.json" 1)
printf '| kubectl-pxtoken --version (median) | %.2f ms | %.3f× `kubectl version --client` (budget 2 ms) |\n' \
  "$(echo "$startup * 1000" | bc -l)" "$(echo "$startup / $kubectl_startup" | bc -l)"
printf '| API requests, one tenant with discovery | %s | |\n' "$discover_requests"
printf '| API requests, one tenant with --shared-secret-ref and --issuer | %s | budget 3 |\n' "$explicit_requests"
printf '| peak memory, one tenant | %s KiB | budget 15 MiB |\n' "$peak_kb"
printf '| release binary (stripped) | %s bytes | %.3f× kubectl (budget 6,000,000) |\n' "$size" "$(echo "$size / $(stat -L -c %s "$KUBECTL")" | bc -l)"

# Bulk onboarding, the concurrency sweep, peak memory by tenant count, one tenant vs its floor.
STATE="$STATE" BIN="$BIN" PEER="$PEER" RUNS="$RUNS" bash scripts/bench/tenants.sh
