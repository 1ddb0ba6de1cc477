#!/usr/bin/env bash
# Usage: tests/cluster/ensure-kubectl.sh
#
# Prints the path of a usable kubectl: $PXTOKEN_KUBECTL if set, else kubectl from PATH,
# else one built from this module (k8s.io/kubectl of the same Kubernetes release as
# the test control plane) into ${PXTOKEN_CACHE_DIR:-$HOME/.cache/kubectl-pxtoken}/bin/.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ -n "${PXTOKEN_KUBECTL:-}" ]; then
  [ -x "$PXTOKEN_KUBECTL" ] || die "PXTOKEN_KUBECTL=$PXTOKEN_KUBECTL is not an executable"
  echo "$PXTOKEN_KUBECTL"
elif path=$(command -v kubectl 2>/dev/null); then
  echo "$path"
else
  ensure_built kubectl
fi
