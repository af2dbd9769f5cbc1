#!/usr/bin/env bash
# Makes sure the programs that check the operations pack are on PATH: promtool (Debian package
# `prometheus`: `promtool check rules` / `test rules`, and the dashboard's PromQL), lua5.4 (the Argo CD
# health check) and jq (the GitOps CI example's step). Installs the missing packages with apt-get when
# running as root on Debian/Ubuntu (CI and the dev machine); elsewhere it only says what to install. A
# no-op when all are present.
set -euo pipefail
declare -A package_of=([promtool]=prometheus [lua5.4]=lua5.4 [jq]=jq)
missing=()
for command in "${!package_of[@]}"; do
  command -v "$command" >/dev/null || missing+=("${package_of[$command]}")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
  echo "Missing ${missing[*]}: install them (Debian/Ubuntu: sudo apt-get install ${missing[*]};" \
    "elsewhere: promtool from Prometheus 2.x, a Lua 5.4 interpreter named lua5.4, and jq)." >&2
  exit 1
fi
echo "Installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# The package lists may be stale or absent on a fresh machine; refresh once when the install fails.
apt-get install -y --no-install-recommends "${missing[@]}" >&2 ||
  { apt-get update >&2 && apt-get install -y --no-install-recommends "${missing[@]}" >&2; }
