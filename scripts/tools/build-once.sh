# Sourced by the build-*.sh scripts of this folder.
#
#   build_once NAME SUBDIR FILE BUILDER
# Prints CACHE/SUBDIR/FILE, first running `BUILDER TMPDIR` (which must leave FILE in TMPDIR) when it is
# missing, then moving TMPDIR into place. Concurrent callers wait for the first build (flock, where it
# exists) and then find it done.
build_once() {
  local name="$1" subdir="$2" file="$3" builder="$4"
  local cache="${CDM_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cdm-sink-operator/tools}"
  local dir="$cache/$subdir"
  if [[ -e "$dir/$file" ]]; then
    echo "$dir/$file"
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
  if [[ -e "$dir/$file" ]]; then
    echo "$dir/$file"
    return 0
  fi
  local tmp started=$SECONDS
  tmp="$(mktemp -d "$cache/.$name.XXXXXX")"
  # shellcheck disable=SC2064 # expand now: tmp is local
  trap "rm -rf '$tmp'" EXIT
  echo "Building $name into $dir (first time: a few minutes)..." >&2
  # Module builds: a local toolchain only, static binaries, dependencies exactly as go.sum pins them.
  GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly "$builder" "$tmp"
  rm -rf "$dir"
  mv "$tmp" "$dir"
  trap - EXIT
  echo "Built $name in $((SECONDS - started)) s" >&2
  echo "$dir/$file"
}

#   go_binary MODULE_DIR PACKAGE NAME SUBDIR [LDFLAGS]
# Builds PACKAGE of the wrapper Go module MODULE_DIR into the tools cache once; prints the binary's path.
go_binary() {
  _go_binary_module="$1" _go_binary_package="$2" _go_binary_name="$3" _go_binary_ldflags="${5:-}"
  build_once "$3" "$4" "$3" _go_binary_build
}
_go_binary_build() {
  (cd "$_go_binary_module" && go build -trimpath -ldflags "-s -w $_go_binary_ldflags" \
    -o "$1/$_go_binary_name" "$_go_binary_package")
}
