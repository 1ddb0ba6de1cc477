#!/usr/bin/env bash
# Benchmarks the SPEC's performance budgets on the local test control plane, against the
# documented workflow measured in the same run:
#   - one tenant: the seed's steps (kubectl + jq + base64 for the shared secret, a token from
#     openstorage's own generator standing in for `pxctl auth token generate`, which needs a node,
#     kubectl to store it) vs `kubectl pxtoken tenant` (with discovery, and with explicit flags);
#   - API requests per tenant (counted from the plugin's -v 3 request log);
#   - startup (`kubectl-pxtoken --version`), stripped release binary size, peak memory;
#   - `list -A` over 1,000 and then 10,000 token Secrets: wall time against
#     `kubectl get secrets -A -l <managed-by>` over the same Secrets, API requests, and peak memory
#     (flat: at 10,000 within 15 % of 1,000).
#   - bulk onboarding, the concurrency sweep and one tenant against the client-go floor
#     (scripts/bench/tenants.sh, which says what it measures);
#   - `rotate -A --all` over 1,000 tenants against its floor and the documented loop
#     (scripts/bench/rotate.sh), first, while no other token Secret exists.
# Usage: scripts/bench.sh [RUNS]   (needs hyperfine, jq, bc, curl, python3, /usr/bin/time and Go;
# builds a release binary; several minutes on 2 cores)
#        BENCH=list scripts/bench.sh   measures only `list`; BENCH=rotate only `rotate`;
#        BENCH=tenants only bulk onboarding (scripts/bench/tenants.sh)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
RUNS="${1:-20}"
BENCH="${BENCH:-all}"
for tool in hyperfine jq bc /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "error: $tool not found (apt-get install hyperfine jq bc time)" >&2; exit 1; }
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

requests() { "$@" -v 3 2>&1 >/dev/null | grep -c ': requesting$' || true; }
mean() { jq -r ".results[$2].mean" "$1"; }
median() { jq -r ".results[$2].median" "$1"; }

if [ "$BENCH" = tenants ]; then
  STATE="$STATE" BIN="$BIN" PEER="$PEER" RUNS="$RUNS" bash scripts/bench/tenants.sh
  exit 0
fi

if [ "$BENCH" = all ] || [ "$BENCH" = rotate ]; then
  STATE="$STATE" BIN="$BIN" PEER="$PEER" bash scripts/bench/rotate.sh
  [ "$BENCH" = all ] || exit 0
fi

if [ "$BENCH" = all ]; then
echo "==> one tenant, $RUNS runs each"
hyperfine --warmup 2 --runs "$RUNS" --export-json "$STATE/tenant.json" \
  -n "documented workflow (kubectl+jq+base64, generator, kubectl)" "bash $STATE/seed-workflow.sh" \
  -n "kubectl pxtoken tenant (discovery)" "kubectl pxtoken tenant bench-discover" \
  -n "kubectl pxtoken tenant (--shared-secret-ref, --issuer)" \
  "kubectl pxtoken tenant bench-explicit --shared-secret-ref kube-system/pxkeys:shared-secret --issuer portworx.com"

echo "==> startup"
hyperfine --warmup 5 --runs 200 -N --export-json "$STATE/startup.json" "$BIN --version" "$KUBECTL version --client"

discover_requests=$(requests kubectl pxtoken tenant bench-discover)
explicit_requests=$(requests kubectl pxtoken tenant bench-explicit --shared-secret-ref kube-system/pxkeys:shared-secret --issuer portworx.com)
peak_kb=$(/usr/bin/time -f %M "$BIN" tenant bench-explicit --shared-secret-ref kube-system/pxkeys:shared-secret --issuer portworx.com 2>&1 >/dev/null | tail -1)
size=$(stat -c %s "$BIN")

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
fi

# --- list -A over many token Secrets -----------------------------------------------------------
# Secrets as `tenant` writes them (label, annotations, a valid token), spread over 10 namespaces,
# created 500 to a `kubectl create -f -` of a List, four at a time.
MANAGED="app.kubernetes.io/managed-by=kubectl-pxtoken"
LIST_RUNS="${LIST_RUNS:-5}"
kubectl create namespace bench-list-template >/dev/null
kubectl pxtoken tenant bench-list-template >/dev/null
kubectl -n bench-list-template get secret px-k8s-user -o json |
  jq '{metadata: {labels: .metadata.labels, annotations: .metadata.annotations}, data: .data, type: .type}' \
    >"$STATE/template.json"
for i in $(seq 0 9); do kubectl create namespace "bench-list-$i" >/dev/null; done
secrets_list() { # FROM TO: a List of Secrets tenant-FROM .. tenant-(TO-1)
  jq -c --argjson from "$1" --argjson to "$2" '. as $t | {apiVersion: "v1", kind: "List", items: [range($from; $to) |
    {apiVersion: "v1", kind: "Secret", type: $t.type, data: $t.data,
     metadata: ($t.metadata + {namespace: "bench-list-\(. % 10)", name: "tenant-\(.)"})}]}' "$STATE/template.json"
}
create_secrets() { # FROM TO
  local running=0 start end
  for ((start = $1; start < $2; start += 500)); do
    end=$((start + 500 < $2 ? start + 500 : $2))
    secrets_list "$start" "$end" | kubectl create -f - >/dev/null &
    running=$((running + 1))
    if ((running >= 4)); then wait -n; running=$((running - 1)); fi
  done
  wait
}
declare -A list_ms get_ms list_req get_req rss rows
measure_list() { # N: the Secrets now in the cluster
  local n=$1 runs
  echo "==> list -A over $n token Secrets, $LIST_RUNS runs each"
  hyperfine --warmup 1 --runs "$LIST_RUNS" --export-json "$STATE/list-$n.json" \
    -n "kubectl pxtoken list -A" "kubectl pxtoken list -A" \
    -n "kubectl get secrets -A -l $MANAGED" "kubectl get secrets -A -l $MANAGED"
  list_ms[$n]=$(echo "$(mean "$STATE/list-$n.json" 0) * 1000" | bc -l)
  get_ms[$n]=$(echo "$(mean "$STATE/list-$n.json" 1) * 1000" | bc -l)
  list_req[$n]=$(requests kubectl pxtoken list -A)
  get_req[$n]=$(kubectl get secrets -A -l "$MANAGED" -v 6 2>&1 >/dev/null | grep -c '\] GET https' || true)
  rows[$n]=$("$BIN" list -A -o name | wc -l)
  # Peak RSS of the release binary itself (no kubectl in between): the median of three runs.
  runs=$(for _ in 1 2 3; do /usr/bin/time -f %M "$BIN" list -A 2>&1 >/dev/null | tail -1; done | sort -n)
  rss[$n]=$(echo "$runs" | sed -n 2p)
}
create_secrets 0 1000
measure_list 1000
create_secrets 1000 10000
measure_list 10000

echo
echo "## list -A ($(date -u +%F), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg))"
printf '| token Secrets | rows listed | list -A | kubectl get -A -l | ratio | API requests (list / get) | peak RSS |\n|---|---|---|---|---|---|---|\n'
for n in 1000 10000; do
  printf '| %s | %s | %.0f ms | %.0f ms | %.2f× | %s / %s | %s KiB |\n' "$n" "${rows[$n]}" "${list_ms[$n]}" "${get_ms[$n]}" \
    "$(echo "${list_ms[$n]} / ${get_ms[$n]}" | bc -l)" "${list_req[$n]}" "${get_req[$n]}" "${rss[$n]}"
done
growth=$(echo "(${rss[10000]} - ${rss[1000]}) * 100 / ${rss[1000]}" | bc -l)
printf '\npeak RSS at 10,000 is %+.1f %% of 1,000 (budget: within 15 %%)\n' "$growth"
if (($(echo "$growth > 15 || $growth < -15" | bc -l))); then
  echo "error: list -A memory is not flat in the number of token Secrets" >&2
  exit 1
fi
