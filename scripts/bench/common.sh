# shellcheck shell=bash
# Helpers shared by scripts/bench/*.sh (sourced): timing, medians, ratios, and the documented
# workflow's loop. Needs OUT (the script's output directory), PEER and KUBECONFIG.

log() { echo "==> $*" >&2; }

# timed FILE CMD…: runs CMD (stdout discarded, stderr kept for a failure) and appends its wall
# time in microseconds to FILE (bash's own clock: no process is started to read it).
timed() {
  local file=$1 t0 t1
  shift
  t0=${EPOCHREALTIME/./}
  if ! "$@" >/dev/null 2>"$OUT/last.err"; then
    echo "error: benchmark command failed: $*" >&2
    tail -n 20 "$OUT/last.err" >&2
    exit 1
  fi
  t1=${EPOCHREALTIME/./}
  echo $((t1 - t0)) >>"$file"
}
# median FILE: median of the numbers in FILE, one a line.
median() { sort -g "$1" | awk '{a[NR] = $1} END {print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2)}'; }
# ratio A B: median over rounds of A's time / B's time in the same round.
ratio() { paste "$1" "$2" | awk '{print $1 / $2}' >"$OUT/ratio.tmp" && median "$OUT/ratio.tmp"; }
us_to_s() { awk -v us="$1" 'BEGIN {printf "%.2f s", us / 1e6}'; }
us_to_ms() { awk -v us="$1" -v n="${2:-1}" 'BEGIN {printf "%.1f ms", us / n / 1e3}'; }

# documented_loop SCRIPT PREFIX COUNT create|apply: writes SCRIPT, the documented workflow over
# namespaces PREFIX0000 … PREFIX(COUNT-1). One auth-config file per tenant (written by hand in the
# docs, so not timed, in $OUT/loop), the shared secret fetched once, then per tenant the generator
# and `kubectl create secret` exactly as documented (with `apply`: piped through
# `--dry-run=client -o yaml | kubectl apply -f -`, to replace a Secret that exists). openstorage's
# generator stands in for `pxctl auth token generate`, which needs a Portworx node; it reads the
# secret from a 0600 file, not argv.
documented_loop() {
  local script=$1 prefix=$2 count=$3 store i ns
  case $4 in
    create) store='' ;;
    apply) store=' --dry-run=client -o yaml | kubectl apply -f -' ;;
    *) echo "error: documented_loop: create or apply, not $4" >&2 && exit 2 ;;
  esac
  mkdir -p "$OUT/loop"
  for i in $(seq 0 $((count - 1))); do
    ns=$(printf '%s%04d' "$prefix" "$i")
    printf 'name: %s\nemail: %s@portworx.com\nsub: %s\nroles: ["system.user"]\n' "$ns" "$ns" "$(cat /proc/sys/kernel/random/uuid)" >"$OUT/loop/$ns.yaml"
  done
  cat >"$script" <<LOOP
set -euo pipefail
umask 077
kubectl -n kube-system get secret pxkeys -o json | jq -r '.data."shared-secret"' | base64 -d >"$OUT/loop-secret"
for i in \$(seq 0 $((count - 1))); do
  ns=\$(printf '$prefix%04d' "\$i")
  TENANT_TOKEN=\$("$PEER" generate --auth-config "$OUT/loop/\$ns.yaml" --issuer portworx.com --shared-secret-file "$OUT/loop-secret" --token-duration 1y)
  kubectl -n "\$ns" create secret generic px-k8s-user --from-literal=auth-token="\$TENANT_TOKEN"$store
done
LOOP
}
