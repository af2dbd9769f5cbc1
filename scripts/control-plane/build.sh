#!/usr/bin/env bash
# Prints the folder holding kube-apiserver, etcd and kubectl for the cluster tests, building them from
# Go modules first when the cache lacks them (10-20 minutes the first time on 2 cores; seconds after).
#
#   KUBEBUILDER_ASSETS=DIR   use binaries from elsewhere (e.g. `setup-envtest use 1.36.x -p path`);
#                            nothing is built and Go is not needed
#   CDM_CONTROL_PLANE_CACHE  cache root (default ${XDG_CACHE_HOME:-~/.cache}/cdm-sink-operator/control-plane)
#   --print-dir              print the folder without building
#
# Logs go to stderr; stdout is only the folder, so callers can use "$(scripts/control-plane/build.sh)".
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
binaries=(kube-apiserver etcd kubectl)

if [[ -n "${KUBEBUILDER_ASSETS:-}" ]]; then
  for b in "${binaries[@]}"; do
    if [[ ! -x "$KUBEBUILDER_ASSETS/$b" ]]; then
      echo "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS has no executable '$b': point it at a folder holding" \
        "${binaries[*]} (setup-envtest prints one), or unset it to build them from Go modules." >&2
      exit 1
    fi
  done
  echo "$KUBEBUILDER_ASSETS"
  exit 0
fi

cache="${CDM_CONTROL_PLANE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cdm-sink-operator/control-plane}"
dir="$cache/v$KUBERNETES_VERSION"
stamp="kubernetes v$KUBERNETES_VERSION, etcd v$ETCD_VERSION"
built() { [[ -f "$dir/VERSIONS" && "$(cat "$dir/VERSIONS")" == "$stamp" ]]; }

if [[ "${1:-}" == --print-dir ]] || built; then
  echo "$dir"
  exit 0
fi

if ! command -v go >/dev/null; then
  echo "Building the test control plane needs Go >= 1.26 on PATH (or set KUBEBUILDER_ASSETS to a folder" \
    "holding ${binaries[*]} for Kubernetes $KUBERNETES_VERSION, e.g. from setup-envtest)." >&2
  exit 1
fi

mkdir -p "$cache"
# One build at a time: a second caller waits, then finds the binaries built (where flock exists; macOS
# has none, and two concurrent first builds there only waste time).
if command -v flock >/dev/null; then
  exec 9>"$cache/.lock"
  flock 9
fi
if built; then
  echo "$dir"
  exit 0
fi

# A local toolchain only (fail fast instead of downloading one); static binaries; go.mod/go.sum as
# committed, so every dependency is the one they pin.
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly
tmp="$(mktemp -d "$cache/.build.XXXXXX")"
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
echo "Building $stamp into $dir (first time: 10-20 minutes on 2 cores)..." >&2
started=$SECONDS
minor="${KUBERNETES_VERSION#1.}"
minor="${minor%%.*}"
version_flags="-X k8s.io/component-base/version.gitVersion=v$KUBERNETES_VERSION"
version_flags+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
(cd "$here/kubernetes" && go build -trimpath -ldflags "-s -w $version_flags" -o "$tmp/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl)
(cd "$here/etcd" && go build -trimpath -ldflags "-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3)
echo "$stamp" >"$tmp/VERSIONS"
rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
echo "Built in $((SECONDS - started)) s: $(du -sh "$dir" | cut -f1) in $dir" >&2
echo "$dir"
