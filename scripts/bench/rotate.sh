#!/usr/bin/env bash
# `rotate -A --all` over N managed tenants (issue 9), each figure a ratio measured in the same run
# on the control plane scripts/bench.sh started, rounds interleaved (loop, plugin, floor, …),
# ratios the medians of each round's ratio:
#   - vs the client-go floor (tests/bench-floor rotate: the same list, then per Secret GET,
#     replace at the version read and an Event, at the same concurrency, on its own N Secrets);
#   - vs a shell loop of the documented workflow over LOOP_N of the same tenants, scaled to N:
#     re-issuing is onboarding again (scripts/bench/common.sh's loop, storing with
#     `kubectl create secret … --dry-run=client -o yaml | kubectl apply -f -`).
# Deletes its Secrets at the end (the `list -A` figures count token Secrets). Markdown on stdout.
# Needs from scripts/bench.sh: STATE, BIN, PEER, KUBECONFIG, PATH with kubectl. Env:
# BENCH_TENANTS (1000), BENCH_LOOP_TENANTS (100), BENCH_ROUNDS (3), BENCH_LOOP_ROUNDS (1).
set -euo pipefail
: "${STATE:?run through scripts/bench.sh}" "${BIN:?}" "${PEER:?}" "${KUBECONFIG:?}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
N="${BENCH_TENANTS:-1000}"
LOOP_N="${BENCH_LOOP_TENANTS:-100}"
LOOP_N=$((LOOP_N < N ? LOOP_N : N))
ROUNDS="${BENCH_ROUNDS:-3}"
LOOP_ROUNDS="${BENCH_LOOP_ROUNDS:-1}"
OUT="$STATE/rotate"
rm -rf "$OUT"
mkdir -p "$OUT"
# shellcheck source=scripts/bench/common.sh
source "$ROOT/scripts/bench/common.sh"

FLOOR="$(bash "$ROOT/tests/bench-floor/build.sh")"
C="$("$BIN" rotate --help | sed -n 's/.*--concurrency.*\[default: \([0-9]*\)\].*/\1/p')"
[ -n "$C" ] || { echo "error: cannot read --concurrency's default from kubectl-pxtoken rotate --help" >&2; exit 1; }
KEY=(--shared-secret-ref kube-system/pxkeys:shared-secret --issuer portworx.com)

log "rotate: seeding $N tenants bench-r0000… (tenant --from-file) and the floor's own $N Secrets"
"$FLOOR" namespaces --prefix bench-r --count "$N" --concurrency 16 >/dev/null
for i in $(seq 0 $((N - 1))); do printf -- '- namespace: bench-r%04d\n' "$i"; done >"$OUT/tenants.yaml"
"$BIN" tenant --from-file "$OUT/tenants.yaml" "${KEY[@]}" --concurrency 16 >/dev/null
"$FLOOR" bulk --prefix bench-r --count "$N" --concurrency 16 >/dev/null
documented_loop "$OUT/documented-loop.sh" bench-r "$LOOP_N" apply
rows=$("$BIN" list -A -o name | wc -l)
[ "$rows" -eq "$N" ] || { echo "error: rotate -A would see $rows token Secrets, not $N" >&2; exit 1; }

# The plugin's per-tenant report is kept (a failure names the Secret and why).
plugin_rotate() { "$BIN" rotate -A --all "${KEY[@]}" --concurrency "$C" >"$OUT/plugin.out"; }
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
log "rotate: $ROUNDS rounds of rotate -A --all and the floor at concurrency $C, $LOOP_ROUNDS of the documented loop over $LOOP_N"
for round in $(seq 1 "$ROUNDS"); do
  [ "$round" -gt "$LOOP_ROUNDS" ] || timed "$OUT/documented" bash "$OUT/documented-loop.sh"
  timed "$OUT/plugin" plugin_rotate
  timed "$OUT/floor" "$FLOOR" rotate --concurrency "$C"
  log "round $round: plugin $(us_to_s "$(tail -1 "$OUT/plugin")"), floor $(us_to_s "$(tail -1 "$OUT/floor")")"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
"$FLOOR" delete --prefix bench-r --count "$N" --concurrency 16 --secret-name px-k8s-user >/dev/null
"$FLOOR" delete --prefix bench-r --count "$N" --concurrency 16 --secret-name px-floor >/dev/null

plugin=$(median "$OUT/plugin")
floor=$(median "$OUT/floor")
loop=$(median "$OUT/documented")
echo
echo "### rotate -A ($N tenants, $(date -u +%F), $(nproc) cores, load average $load_before before, $load_after after; medians of $ROUNDS interleaved rounds, $LOOP_ROUNDS of the loop)"
echo
printf '| measure | value | ratio |\n|---|---|---|\n'
printf '| `rotate -A --all`, %s managed tenants, concurrency %s | %s (%s a tenant) | %.2f× the client-go floor (goal ≤ 1.5×); %.0f× faster per tenant than the documented loop (goal ≥ 50×) |\n' \
  "$N" "$C" "$(us_to_s "$plugin")" "$(us_to_ms "$plugin" "$N")" "$(ratio "$OUT/plugin" "$OUT/floor")" \
  "$(awk -v l="$loop" -v ln="$LOOP_N" -v p="$plugin" -v n="$N" 'BEGIN {print (l / ln) / (p / n)}')"
printf '| client-go floor: list, then GET + replace + Event per Secret, concurrency %s | %s (%s a tenant) | |\n' \
  "$C" "$(us_to_s "$floor")" "$(us_to_ms "$floor" "$N")"
printf '| documented workflow loop over %s of the tenants (generator + `kubectl create secret --dry-run=client -o yaml`, `kubectl apply` each), scaled ×%s | %s for %s, so %s for %s (%s a tenant) | |\n' \
  "$LOOP_N" "$((N / LOOP_N))" "$(us_to_s "$loop")" "$LOOP_N" \
  "$(us_to_s "$(awk -v t="$loop" -v k="$((N / LOOP_N))" 'BEGIN {print t * k}')")" "$N" "$(us_to_ms "$loop" "$LOOP_N")"
