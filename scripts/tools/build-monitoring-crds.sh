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
# shellcheck source=build-once.sh
source "$here/build-once.sh"
module="$here/monitoring-crds"
version=$(sed -n 's|^require github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring \(v[^ ]*\)$|\1|p' \
  "$module/go.mod")
kinds=(servicemonitors podmonitors prometheusrules)

generate() {
  (cd "$module" && go tool controller-gen crd:maxDescLen=0,allowDangerousTypes=true \
    paths=github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1 "output:crd:dir=$1/all")
  for k in "${kinds[@]}"; do mv "$1/all/monitoring.coreos.com_$k.yaml" "$1/"; done
  rm -rf "$1/all"
}
# The last file generate() moves marks a complete folder.
file=$(build_once monitoring-crds "monitoring-crds-$version" "monitoring.coreos.com_${kinds[-1]}.yaml" generate)
dirname "$file"
