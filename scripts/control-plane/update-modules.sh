#!/usr/bin/env bash
# Regenerates the two wrapper Go modules (kubernetes/ and etcd/) for the versions in versions.env.
# Run it after changing a version there, then commit go.mod and go.sum: they pin every dependency the
# build uses, and build.sh never changes them (-mod=readonly).
#
# Why wrapper modules: `go install k8s.io/kubernetes/cmd/kube-apiserver@v1.x` is refused because
# k8s.io/kubernetes' go.mod replaces its staging modules (k8s.io/api, k8s.io/apiserver, ...) with local
# paths. A module of our own requires k8s.io/kubernetes and replaces each staging module with its
# published v0.x.y twin. etcd's server module has `../api`-style replaces too, and lives in a module of
# its own so that its dependencies never raise the ones kube-apiserver selects.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
k="v$KUBERNETES_VERSION"
staging="v0.${KUBERNETES_VERSION#1.}"

rm -rf "$here/kubernetes" "$here/etcd"
mkdir -p "$here/kubernetes" "$here/etcd"

cd "$here/kubernetes"
go mod init cdm-sink-operator.local/control-plane/kubernetes
go mod edit -go=1.26.0
# The staging list comes from the go.mod the module proxy serves for that very release.
gomod=$(go mod download -json "k8s.io/kubernetes@$k" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
for m in $(sed -n 's|^[[:space:]]*\(k8s.io/[^ ]*\) => \./staging/.*|\1|p' "$gomod"); do
  go mod edit -replace="$m=$m@$staging"
done
go get -tool "k8s.io/kubernetes/cmd/kube-apiserver@$k"
go get -tool "k8s.io/kubernetes/cmd/kubectl@$k"

cd "$here/etcd"
go mod init cdm-sink-operator.local/control-plane/etcd
go mod edit -go=1.26.0
go get -tool "go.etcd.io/etcd/server/v3@v$ETCD_VERSION"
