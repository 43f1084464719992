#!/usr/bin/env bash
# Installs what the tests need beyond Rust, a JDK 17+, Maven and Python 3, idempotently:
#   - oathtool (Debian package), to compare dotp's codes with OATH Toolkit's;
#   - clang and llvm (Debian packages): the module-map check of the Swift package and the
#     cross checks of the Apple targets (ring's C code; llvm-ar, llvm-nm, llvm-objdump);
#   - the Python virtualenv .venv with pytest and tree-sitter-swift (scripts/setup-python.sh).
# Kotlin, JUnit and JNA come from Maven Central through Maven itself (bindings/kotlin/pom.xml).
set -euo pipefail
cd "$(dirname "$0")/.."

apt_install() {
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  if [ ! -f /tmp/.dotp-apt-updated ]; then
    "${sudo[@]}" apt-get update -qq && touch /tmp/.dotp-apt-updated
  fi
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "$@" >/dev/null
}

command -v oathtool >/dev/null 2>&1 || apt_install oathtool
command -v cc >/dev/null 2>&1 || apt_install gcc
command -v clang >/dev/null 2>&1 || apt_install clang
command -v llvm-ar >/dev/null 2>&1 || apt_install llvm

scripts/setup-python.sh
