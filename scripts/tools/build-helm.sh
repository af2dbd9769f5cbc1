#!/usr/bin/env bash
# Prints the path of a `helm` binary for the chart tests, building it from Go modules first when the
# cache lacks it (1-3 minutes the first time on 2 cores; instant after).
#
#   CDM_HELM             use this helm binary instead (nothing is built; Go is not needed)
#   CDM_TOOLS_CACHE      cache root (default ${XDG_CACHE_HOME:-~/.cache}/cdm-sink-operator/tools)
#
# Logs go to stderr; stdout is only the path, so callers can use "$(scripts/tools/build-helm.sh)".
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
# shellcheck source=build-once.sh
source "$here/build-once.sh"

if [[ -n "${CDM_HELM:-}" ]]; then
  if [[ ! -x "$CDM_HELM" ]]; then
    echo "CDM_HELM=$CDM_HELM is not an executable: point it at a helm v3 binary, or unset it to build" \
      "helm v$HELM_VERSION from Go modules." >&2
    exit 1
  fi
  echo "$CDM_HELM"
  exit 0
fi
go_binary "$here/helm" helm.sh/helm/v3/cmd/helm helm "helm-v$HELM_VERSION" \
  "-X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION"
