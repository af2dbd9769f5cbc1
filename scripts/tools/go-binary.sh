# Sourced by the build-*.sh scripts: builds one binary from a wrapper Go module of this folder into the
# tools cache, once, and prints its path. The module's go.sum pins every dependency (-mod=readonly,
# GOTOOLCHAIN=local); concurrent callers wait for the first build (flock, where it exists).
#
#   go_binary MODULE_DIR PACKAGE NAME CACHE_SUBDIR [LDFLAGS]
go_binary() {
  local module="$1" package="$2" name="$3" subdir="$4" ldflags="${5:-}"
  local cache="${CDM_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cdm-sink-operator/tools}"
  local dir="$cache/$subdir"
  if [[ -x "$dir/$name" ]]; then
    echo "$dir/$name"
    return 0
  fi
  if ! command -v go >/dev/null; then
    echo "Building $name needs Go >= 1.26 on PATH." >&2
    return 1
  fi
  mkdir -p "$cache"
  if command -v flock >/dev/null; then
    exec 9>"$cache/.$name.lock"
    flock 9
  fi
  if [[ -x "$dir/$name" ]]; then
    echo "$dir/$name"
    return 0
  fi
  local tmp started=$SECONDS
  tmp="$(mktemp -d "$cache/.$name.XXXXXX")"
  # shellcheck disable=SC2064 # expand now: tmp is local
  trap "rm -rf '$tmp'" EXIT
  echo "Building $name into $dir (first time: a few minutes)..." >&2
  (cd "$module" && GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly \
    go build -trimpath -ldflags "-s -w $ldflags" -o "$tmp/$name" "$package")
  rm -rf "$dir"
  mv "$tmp" "$dir"
  trap - EXIT
  echo "Built $name in $((SECONDS - started)) s" >&2
  echo "$dir/$name"
}
