#!/usr/bin/env bash
# Prints a folder holding the prometheus-operator CRDs (ServiceMonitor, PodMonitor, PrometheusRule) the
# chart tests install into the test API server, so the chart's monitoring objects are validated by their
# real schemas. The operator's own module (which ships the YAML) is not on the Go module proxy; its API
# types module is, so controller-gen generates the CRDs from those types, as the operator's Makefile does.
# Built once into the cache (about a minute); instant after.
#
#   CDM_TOOLS_CACHE      cache root (default ${XDG_CACHE_HOME:-~/.cache}/cdm-sink-operator/tools)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
module="$here/monitoring-crds"
version=$(sed -n 's|^require github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring \(v[^ ]*\)$|\1|p' \
  "$module/go.mod")
cache="${CDM_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cdm-sink-operator/tools}"
dir="$cache/monitoring-crds-$version"
kinds=(servicemonitors podmonitors prometheusrules)
built() { for k in "${kinds[@]}"; do [[ -f "$dir/monitoring.coreos.com_$k.yaml" ]] || return 1; done; }
if built; then
  echo "$dir"
  exit 0
fi
if ! command -v go >/dev/null; then
  echo "Generating the prometheus-operator CRDs needs Go >= 1.26 on PATH." >&2
  exit 1
fi
mkdir -p "$cache"
if command -v flock >/dev/null; then
  exec 9>"$cache/.monitoring-crds.lock"
  flock 9
fi
if built; then
  echo "$dir"
  exit 0
fi
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly
tmp="$(mktemp -d "$cache/.monitoring-crds.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "Generating the monitoring.coreos.com CRDs $version into $dir (first time: about a minute)..." >&2
(cd "$module" && go tool controller-gen crd:maxDescLen=0,allowDangerousTypes=true \
  paths=github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1 "output:crd:dir=$tmp/all")
mkdir -p "$tmp/out"
for k in "${kinds[@]}"; do mv "$tmp/all/monitoring.coreos.com_$k.yaml" "$tmp/out/"; done
rm -rf "$dir"
mv "$tmp/out" "$dir"
echo "$dir"
