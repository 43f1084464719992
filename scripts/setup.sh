#!/usr/bin/env bash
# Installs what the tests need beyond Rust, a JDK 17+, Maven and Python 3, idempotently:
#   - oathtool (Debian package), to compare dotp's codes with OATH Toolkit's;
#   - clang and llvm (Debian packages): the module-map check of the Swift package and the
#     cross checks of the Apple targets (ring's C code; llvm-ar, llvm-nm, llvm-objdump);
#   - PostgreSQL (Debian package), for the tests of the issuer's PostgreSQL store:
#     scripts/with-postgres.sh runs them on a throwaway cluster of its initdb and pg_ctl;
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
# Debian puts PostgreSQL's server programs in /usr/lib/postgresql/<version>/bin, off PATH.
have_postgres() {
  { command -v initdb && command -v pg_ctl; } >/dev/null 2>&1 && return 0
  local bin
  for bin in /usr/lib/postgresql/*/bin; do
    [ -x "$bin/initdb" ] && [ -x "$bin/pg_ctl" ] && return 0
  done
  return 1
}
have_postgres || apt_install postgresql
# The throwaway cluster's TLS certificates (scripts/with-postgres.sh).
command -v openssl >/dev/null 2>&1 || apt_install openssl

scripts/setup-python.sh
