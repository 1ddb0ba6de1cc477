#!/usr/bin/env bash
# Usage: tests/cluster/add-user.sh DIR NAME... [--groups g1,g2] [--not-after RFC3339]
#
# Adds users to the control plane that up.sh started in DIR: a client certificate from
# its CA and DIR/NAME.kubeconfig for each. They have no rights until a Role grants some.
# --not-after ends the certificate's validity (a time in the past: an expired certificate).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ $# -ge 2 ] || die "usage: $0 DIR NAME... [--groups g1,g2] [--not-after RFC3339]"
DIR="$1"
shift
[ -f "$DIR/pki/ca.key" ] || die "$DIR is not a directory written by tests/cluster/up.sh (no pki/ca.key)"
bin=$(ensure_built pxtoken-testcluster)
groups=()
not_after=()
names=()
while [ $# -gt 0 ]; do
  case "$1" in
    --groups) groups=(--groups "$2"); shift 2 ;;
    --groups=*) groups=("$1"); shift ;;
    --not-after) not_after=(--not-after "$2"); shift 2 ;;
    --not-after=*) not_after=("$1"); shift ;;
    *) names+=("$1"); shift ;;
  esac
done
exec "$bin" add-user --dir "$DIR" "${groups[@]}" "${not_after[@]}" "${names[@]}"
