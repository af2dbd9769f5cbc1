#!/usr/bin/env bash
# Prints the path of flux-health (flux-health/main.go): Flux's own status reader for a Kustomization's
# healthCheckExprs, which the GitOps example test runs on the controller's status shapes. Built from Go
# modules into the tools cache when missing (a few minutes the first time; instant after).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=build-once.sh
source "$here/build-once.sh"
# The cache folder is named after the sources, so an edit of main.go or a dependency bump builds anew.
digest=$(cat "$here/flux-health/main.go" "$here/flux-health/go.sum" | sha256sum | cut -c1-12)
go_binary "$here/flux-health" . flux-health "flux-health-$digest"
