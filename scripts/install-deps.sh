#!/usr/bin/env bash
# Idempotent dependency installer for dledger on Debian bookworm (run as root).
# Installs only what is missing; every other script and CI call this first.
#   scripts/install-deps.sh            build + test dependencies
#   scripts/install-deps.sh --no-update  skip apt-get update even when something is missing
set -euo pipefail

PACKAGES=(
  build-essential g++ cmake ninja-build pkg-config git ca-certificates
  clang clang-format libclang-rt-14-dev
  libgtest-dev libgmock-dev
  libspdlog-dev libfmt-dev libyaml-cpp-dev
  prometheus-cpp-dev libcpprest-dev libssl-dev zlib1g-dev
  libasio-dev nlohmann-json3-dev libcli11-dev
  iproute2 procps curl python3
  prometheus python3-yaml
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: must run as root to install packages (missing: ${missing[*]})" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if [ "${1:-}" != "--no-update" ]; then
  apt-get update -qq
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done"
