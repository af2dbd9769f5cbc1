#!/usr/bin/env bash
# Regenerates the wrapper Go module helm/ for the version in versions.env; commit go.mod and go.sum after.
# helm.sh/helm/v3 has no replace directives, so `go install ...@v3.x` would work too; a module of ours
# pins every dependency in go.sum, and build-helm.sh builds with -mod=readonly, like the control plane.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
rm -rf "$here/helm"
mkdir -p "$here/helm"
cd "$here/helm"
go mod init cdm-sink-operator.local/tools/helm
go mod edit -go=1.26.0
go get -tool "helm.sh/helm/v3/cmd/helm@v$HELM_VERSION"
