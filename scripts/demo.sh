#!/usr/bin/env bash
# Shows the main job: a local test control plane, a Portworx install as the DaemonSet style
# leaves it (Secret kube-system/pxkeys + DaemonSet with -jwt_issuer), and one command that
# onboards tenant team-a through the real kubectl.
# Usage: scripts/demo.sh   (KEEP_CLUSTER=1 leaves the control plane running)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
STATE="$ROOT/target/demo-cluster"
[ "${KEEP_CLUSTER:-0}" = 1 ] || trap 'bash tests/cluster/down.sh "$STATE/cluster" >/dev/null 2>&1 || true' EXIT

echo "==> building kubectl-pxtoken"
cargo build --quiet --bin kubectl-pxtoken
mkdir -p "$STATE/plugins"
ln -sf "$ROOT/target/debug/kubectl-pxtoken" "$STATE/plugins/kubectl-pxtoken"
KUBECTL="$(bash tests/cluster/ensure-kubectl.sh)"
export PATH="$STATE/plugins:$(dirname "$KUBECTL"):$PATH"

echo "==> starting the local control plane"
bash tests/cluster/up.sh "$STATE/cluster"
export KUBECONFIG="$STATE/cluster/admin.kubeconfig"

echo "==> seeding a Portworx DaemonSet install (kube-system/pxkeys, -jwt_issuer portworx.com)"
bash scripts/seed-portworx.sh portworx.com

echo "==> kubectl pxtoken tenant team-a --create-namespace -v 1"
kubectl pxtoken tenant team-a --create-namespace -v 1
echo "==> the Secret it wrote (annotations)"
kubectl -n team-a get secret px-k8s-user -o jsonpath='{.metadata.annotations}' | tr ',' '\n'
echo
echo "==> re-running keeps the tenant's subject"
kubectl pxtoken tenant team-a
