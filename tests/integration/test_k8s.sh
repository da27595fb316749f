#!/usr/bin/env bash
# Kubernetes manifests: renders k8s/ with kubectl kustomize and validates it
# offline (schemas, unknown fields, policy, agent config, dashboard).
# Prints "ok"/"not ok" lines and "N passed, M failed".
exec bash "$(dirname "$0")/../k8s/run.sh"
