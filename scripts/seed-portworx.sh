#!/usr/bin/env bash
# Lays down what a DaemonSet-style Portworx install leaves in a cluster (objects only, nothing
# runs): Secret kube-system/pxkeys with a fresh 64-character shared-secret, and DaemonSet
# kube-system/portworx reading it through PORTWORX_AUTH_JWT_SHAREDSECRET with -jwt_issuer ISSUER.
# Usage: scripts/seed-portworx.sh [ISSUER]   (uses $KUBECONFIG; ISSUER defaults to portworx.com)
set -euo pipefail
ISSUER="${1:-portworx.com}"
secret_file="$(mktemp)"
trap 'rm -f "$secret_file"' EXIT
chmod 600 "$secret_file"
# The secret travels through a file, never argv.
head -c 48 /dev/urandom | base64 | tr -d '\n/+=' | head -c 64 >"$secret_file"
kubectl -n kube-system create secret generic pxkeys --from-file=shared-secret="$secret_file" \
  --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: portworx, namespace: kube-system, labels: {name: portworx}}
spec:
  selector: {matchLabels: {name: portworx}}
  template:
    metadata: {labels: {name: portworx}}
    spec:
      containers:
      - name: portworx
        image: portworx/oci-monitor:3.1.0
        args: ["-c", "px-cluster", "-jwt_issuer", "$ISSUER"]
        env:
        - name: PORTWORX_AUTH_JWT_SHAREDSECRET
          valueFrom: {secretKeyRef: {name: pxkeys, key: shared-secret}}
YAML
