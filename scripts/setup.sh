#!/usr/bin/env bash
# Installs what building and testing AkiDB needs on Debian: a C++ toolchain, CMake and BLAS/LAPACK
# for the statically built FAISS, curl for the demo, and the operator tests' Python tools.
# Idempotent: only missing packages are installed.
set -euo pipefail

packages=(cmake g++ make pkg-config libopenblas-dev curl)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found; install the Rust toolchain (rustup) first" >&2
  exit 1
fi

# The operator's chart tests use Python packages; Debian's own python3 needs pip (and, being
# "externally managed", permission to install beside system packages).
if ! python3 -m pip --version >/dev/null 2>&1; then
  echo "setup: installing python3-pip"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3 python3-pip >/dev/null
fi
export PIP_BREAK_SYSTEM_PACKAGES=1

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -f "$here/.ci/operator-deps.sh" ]; then
  bash "$here/.ci/operator-deps.sh"
fi
