#!/usr/bin/env bash
# Installs the Debian packages kuiperd needs to build, run and test.
# Called by `make run` and `make test`; idempotent and quiet when nothing is missing.
# Usage: scripts/install-deps.sh [run|test]   (test adds the peers the tests talk to)
set -euo pipefail

mode=${1:-test}

build_pkgs=(build-essential cmake pkg-config clang
  libcjson-dev libsqlite3-dev libpcre2-dev libmicrohttpd-dev libyaml-dev
  libcurl4-openssl-dev libssl-dev libedit-dev zlib1g-dev libzstd-dev
  libpaho-mqtt-dev)
# What kuiperd runs at run time: unzip extracts a plugin installed from a .zip (docs/plugins.md).
run_pkgs=(unzip)
test_pkgs=(libcunit1-dev mosquitto mosquitto-clients python3 python3-paho-mqtt
  sqlite3 curl procps openssl tzdata
  chromium chromium-driver python3-selenium docker-compose)

pkgs=("${build_pkgs[@]}" "${run_pkgs[@]}")
if [ "$mode" = test ]; then pkgs+=("${test_pkgs[@]}"); fi
# libcunit1-dev is needed by the build too, because the tests are CMake targets.
pkgs+=(libcunit1-dev)

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing Debian packages: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
