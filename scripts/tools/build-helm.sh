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

if [[ -n "${CDM_HELM:-}" ]]; then
  if [[ ! -x "$CDM_HELM" ]]; then
    echo "CDM_HELM=$CDM_HELM is not an executable: point it at a helm v3 binary, or unset it to build" \
      "helm v$HELM_VERSION from Go modules." >&2
    exit 1
  fi
  echo "$CDM_HELM"
  exit 0
fi

cache="${CDM_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cdm-sink-operator/tools}"
dir="$cache/helm-v$HELM_VERSION"
if [[ -x "$dir/helm" ]]; then
  echo "$dir/helm"
  exit 0
fi
if ! command -v go >/dev/null; then
  echo "Building helm needs Go >= 1.26 on PATH (or set CDM_HELM to a helm v3 binary)." >&2
  exit 1
fi
mkdir -p "$cache"
if command -v flock >/dev/null; then
  exec 9>"$cache/.helm.lock"
  flock 9
fi
if [[ -x "$dir/helm" ]]; then
  echo "$dir/helm"
  exit 0
fi
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly
tmp="$(mktemp -d "$cache/.helm.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "Building helm v$HELM_VERSION into $dir (first time: 1-3 minutes)..." >&2
started=$SECONDS
(cd "$here/helm" && go build -trimpath \
  -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION" -o "$tmp/helm" \
  helm.sh/helm/v3/cmd/helm)
rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
echo "Built helm in $((SECONDS - started)) s" >&2
echo "$dir/helm"
