#!/usr/bin/env bash
# Bulk onboarding and the one-tenant floor (issue 11, "Benchmarks"), each figure a ratio measured
# in the same run, on the control plane scripts/bench.sh started:
#   - `tenant --from-file` with N new tenants vs the client-go floor (tests/bench-floor: the same
#     requests from one Go program at the same concurrency) and vs a shell loop of the documented
#     workflow over LOOP_N of the same tenants, scaled to N;
#   - renewing the N tenants at each concurrency of the sweep, plugin and floor, on the local
#     control plane (where the API server shares the 2 cores: CPU-bound) and through toxiproxy
#     adding LATENCY_MS to every response (a remote API server: latency-bound);
#   - peak memory of `--from-file` with 1, with C (the default concurrency) and with N tenants;
#   - one tenant through `kubectl pxtoken` vs its floor: `kubectl pxtoken --version` (kubectl's own
#     plugin dispatch) plus the same 3 requests made by the client-go program.
# Runs are interleaved round by round (plugin, floor, plugin, …) so a change in the machine's load
# hits both sides; ratios are medians of each round's ratio.
# Prints markdown on stdout, progress on stderr.
# Needs from scripts/bench.sh: STATE, BIN (release kubectl-pxtoken), PEER, KUBECONFIG, and PATH
# with kubectl and kubectl-pxtoken. Env: BENCH_TENANTS (1000), BENCH_LOOP_TENANTS (100),
# BENCH_ROUNDS (5), BENCH_LOOP_ROUNDS (2), BENCH_SWEEP ("1 4 8 16 64"), BENCH_LATENCY_MS (10),
# BENCH_LATENCY_TENANTS (200), RUNS (one tenant, 20).
# Bulk runs call the binary directly, as the floor is called: kubectl's dispatch is in the
# one-tenant figure.
set -euo pipefail
: "${STATE:?run through scripts/bench.sh}" "${BIN:?}" "${PEER:?}" "${KUBECONFIG:?}"
for tool in curl python3; do
  command -v "$tool" >/dev/null || { echo "error: $tool not found (apt-get install curl python3)" >&2; exit 1; }
done
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
N="${BENCH_TENANTS:-1000}"
LOOP_N="${BENCH_LOOP_TENANTS:-100}"
ROUNDS="${BENCH_ROUNDS:-5}"
LOOP_ROUNDS="${BENCH_LOOP_ROUNDS:-2}"
SWEEP="${BENCH_SWEEP:-1 4 8 16 64}"
LATENCY_MS="${BENCH_LATENCY_MS:-10}"
LATENCY_N="${BENCH_LATENCY_TENANTS:-200}"
LATENCY_N=$((LATENCY_N < N ? LATENCY_N : N))
RUNS="${RUNS:-20}"
OUT="$STATE/tenants"
rm -rf "$OUT"
mkdir -p "$OUT/loop" "$OUT/warm"

FLOOR="$(bash "$ROOT/tests/bench-floor/build.sh")"
# The default --concurrency, as the binary says it.
DEFAULT_C="$("$BIN" tenant --help | sed -n 's/.*--concurrency.*\[default: \([0-9]*\)\].*/\1/p')"
[ -n "$DEFAULT_C" ] || { echo "error: cannot read --concurrency's default from kubectl-pxtoken tenant --help" >&2; exit 1; }
KEY=(--shared-secret-ref kube-system/pxkeys:shared-secret --issuer portworx.com)

# shellcheck source=scripts/bench/common.sh
source "$ROOT/scripts/bench/common.sh"

floor_delete() { "$FLOOR" delete --prefix bench-t --count "$2" --concurrency 16 --secret-name "$1" >/dev/null; }
plugin_bulk() { "$BIN" tenant --from-file "$1" "${KEY[@]}" --concurrency "$2"; }
floor_bulk() { "$FLOOR" bulk --prefix bench-t --count "${2:-$N}" --concurrency "$1"; }

log "tenants: $N namespaces bench-t0000…, default --concurrency $DEFAULT_C"
"$FLOOR" namespaces --prefix bench-t --count "$N" --concurrency 16 >/dev/null
for i in $(seq 0 $((N - 1))); do printf -- '- namespace: bench-t%04d\n' "$i"; done >"$OUT/tenants-$N.yaml"
for n in 1 "$DEFAULT_C" "$LATENCY_N"; do
  [ "$n" -ge "$N" ] || head -n "$n" "$OUT/tenants-$N.yaml" >"$OUT/tenants-$n.yaml"
done
documented_loop "$OUT/documented-loop.sh" bench-t "$LOOP_N" create

log "new tenants: $ROUNDS rounds of $N through the plugin and the floor at concurrency $DEFAULT_C, $LOOP_ROUNDS of the documented loop over $LOOP_N"
for round in $(seq 1 "$ROUNDS"); do
  if [ "$round" -le "$LOOP_ROUNDS" ]; then
    floor_delete px-k8s-user "$N"
    timed "$OUT/new-loop" bash "$OUT/documented-loop.sh"
  fi
  floor_delete px-k8s-user "$N"
  timed "$OUT/new-plugin" plugin_bulk "$OUT/tenants-$N.yaml" "$DEFAULT_C"
  floor_delete px-floor "$N"
  timed "$OUT/new-floor" floor_bulk "$DEFAULT_C"
  log "round $round: plugin $(us_to_s "$(tail -1 "$OUT/new-plugin")"), floor $(us_to_s "$(tail -1 "$OUT/new-floor")")"
done

log "renewing $N tenants: $ROUNDS rounds of concurrency $SWEEP"
for round in $(seq 1 "$ROUNDS"); do
  for c in $SWEEP; do
    timed "$OUT/renew-plugin-$c" plugin_bulk "$OUT/tenants-$N.yaml" "$c"
    timed "$OUT/renew-floor-$c" floor_bulk "$c"
  done
  log "round $round done"
done

log "renewing $LATENCY_N tenants with ${LATENCY_MS} ms added to every response (toxiproxy): $ROUNDS rounds of concurrency $SWEEP"
TOXI="$(bash "$ROOT/tests/toxiproxy/build.sh")"
toxi_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$TOXI" -host 127.0.0.1 -port "$toxi_port" >"$OUT/toxiproxy.log" 2>&1 &
toxi_pid=$!
trap 'kill "$toxi_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$toxi_port/version" >/dev/null && break; sleep 0.1; done
server=$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}')
listen=$(curl -sf -X POST "http://127.0.0.1:$toxi_port/proxies" \
  -d "{\"name\": \"api\", \"listen\": \"127.0.0.1:0\", \"upstream\": \"${server#https://}\"}" | jq -r .listen)
curl -sf -X POST "http://127.0.0.1:$toxi_port/proxies/api/toxics" \
  -d "{\"type\": \"latency\", \"stream\": \"downstream\", \"attributes\": {\"latency\": $LATENCY_MS}}" >/dev/null
sed "s#server: $server#server: https://$listen#" "$KUBECONFIG" >"$OUT/latency.kubeconfig"
for round in $(seq 1 "$ROUNDS"); do
  for c in $SWEEP; do
    KUBECONFIG="$OUT/latency.kubeconfig" timed "$OUT/latency-plugin-$c" plugin_bulk "$OUT/tenants-$LATENCY_N.yaml" "$c"
    KUBECONFIG="$OUT/latency.kubeconfig" timed "$OUT/latency-floor-$c" floor_bulk "$c" "$LATENCY_N"
  done
  log "round $round done"
done
kill "$toxi_pid" 2>/dev/null || true

log "peak memory, --from-file with 1, $DEFAULT_C and $N tenants"
peak_kib() { /usr/bin/time -f %M "$BIN" tenant --from-file "$1" "${KEY[@]}" --concurrency "$DEFAULT_C" 2>&1 >/dev/null | tail -1; }
for _ in 1 2 3; do
  for n in 1 "$DEFAULT_C" "$N"; do peak_kib "$OUT/tenants-$n.yaml" >>"$OUT/rss-$n"; done
done

log "one tenant vs its floor: $RUNS interleaved rounds"
kubectl create namespace bench-one >/dev/null
for round in $(seq 0 "$RUNS"); do
  # Round 0 creates both Secrets and warms the caches; it is not counted.
  out="$OUT"
  [ "$round" -gt 0 ] || out="$OUT/warm"
  timed "$out/one-plugin" kubectl pxtoken tenant bench-one "${KEY[@]}"
  timed "$out/one-dispatch" kubectl pxtoken --version
  timed "$out/one-floor" "$FLOOR" one --namespace bench-one
done
paste "$OUT/one-dispatch" "$OUT/one-floor" | awk '{print $1 + $2}' >"$OUT/one-floor-total"

# --- results ---------------------------------------------------------------------------------
new_plugin=$(median "$OUT/new-plugin")
new_floor=$(median "$OUT/new-floor")
new_loop=$(median "$OUT/new-loop")
per_plugin=$(awk -v t="$new_plugin" -v n="$N" 'BEGIN {print t / n}')
per_loop=$(awk -v t="$new_loop" -v n="$LOOP_N" 'BEGIN {print t / n}')
echo
echo "### Bulk onboarding ($N tenants, medians of $ROUNDS interleaved rounds, $LOOP_ROUNDS of the loop; load $(uptime | sed 's/.*load average: //'))"
echo
printf '| measure | value | ratio |\n|---|---|---|\n'
per_floor=$(awk -v t="$new_floor" -v n="$N" 'BEGIN {print t / n}')
printf '| `tenant --from-file`, %s new tenants, concurrency %s | %s (%s a tenant) | %.2f× the client-go floor (goal ≤ 1.5×); %.0f× faster per tenant than the documented loop (goal ≥ 50×; the floor: %.0f×) |\n' \
  "$N" "$DEFAULT_C" "$(us_to_s "$new_plugin")" "$(us_to_ms "$new_plugin" "$N")" "$(ratio "$OUT/new-plugin" "$OUT/new-floor")" \
  "$(awk -v a="$per_loop" -v b="$per_plugin" 'BEGIN {print a / b}')" "$(awk -v a="$per_loop" -v b="$per_floor" 'BEGIN {print a / b}')"
printf '| client-go floor: the same requests from one Go program, concurrency %s | %s (%s a tenant) | |\n' \
  "$DEFAULT_C" "$(us_to_s "$new_floor")" "$(us_to_ms "$new_floor" "$N")"
printf '| documented workflow loop over %s of the tenants (generator + `kubectl create secret` each), scaled ×%s | %s for %s, so %s for %s (%s a tenant) | |\n' \
  "$LOOP_N" "$((N / LOOP_N))" "$(us_to_s "$new_loop")" "$LOOP_N" \
  "$(us_to_s "$(awk -v t="$new_loop" -v k="$((N / LOOP_N))" 'BEGIN {print t * k}')")" "$N" "$(us_to_ms "$new_loop" "$LOOP_N")"
rss1=$(median "$OUT/rss-1")
rssc=$(median "$OUT/rss-$DEFAULT_C")
rssn=$(median "$OUT/rss-$N")
printf '| peak memory, `--from-file` with 1 tenant | %s KiB | |\n' "$rss1"
printf '| peak memory, `--from-file` with %s tenants (all %s connections open) | %s KiB | %+.1f %% of 1 tenant |\n' \
  "$DEFAULT_C" "$DEFAULT_C" "$rssc" "$(awk -v a="$rssc" -v b="$rss1" 'BEGIN {print (a / b - 1) * 100}')"
printf '| peak memory, `--from-file` with %s tenants | %s KiB | %+.1f %% of 1 tenant (goal within 15 %%), %+.1f %% of %s tenants |\n' \
  "$N" "$rssn" "$(awk -v a="$rssn" -v b="$rss1" 'BEGIN {print (a / b - 1) * 100}')" \
  "$(awk -v a="$rssn" -v b="$rssc" 'BEGIN {print (a / b - 1) * 100}')" "$DEFAULT_C"
printf '| one tenant through `kubectl pxtoken` (3 requests), median of %s | %s | %.2f× its floor (goal ≤ 1.2×): `kubectl pxtoken --version` %s + the client-go program'"'"'s 3 requests %s |\n' \
  "$RUNS" "$(us_to_ms "$(median "$OUT/one-plugin")")" "$(ratio "$OUT/one-plugin" "$OUT/one-floor-total")" \
  "$(us_to_ms "$(median "$OUT/one-dispatch")")" "$(us_to_ms "$(median "$OUT/one-floor")")"
# sweep TITLE PREFIX: the table of one concurrency sweep.
sweep() {
  local p f prev=""
  echo
  echo "$1, median of $ROUNDS interleaved rounds:"
  echo
  printf '| concurrency | `tenant --from-file` | client-go floor | plugin / floor | plugin speed-up over the previous concurrency |\n|---|---|---|---|---|\n'
  for c in $SWEEP; do
    p=$(median "$OUT/$2-plugin-$c")
    f=$(median "$OUT/$2-floor-$c")
    printf '| %s | %s | %s | %.2f× | %s |\n' "$c" "$(us_to_s "$p")" "$(us_to_s "$f")" "$(ratio "$OUT/$2-plugin-$c" "$OUT/$2-floor-$c")" \
      "$([ -n "$prev" ] && awk -v a="$prev" -v b="$p" 'BEGIN {printf "%.2f×", a / b}')"
    prev=$p
  done
}
sweep "Renewing $N tenants (GET + replace each) on the local control plane" renew
sweep "Renewing $LATENCY_N tenants with ${LATENCY_MS} ms added to every response (toxiproxy)" latency
