#!/usr/bin/env bash
# Creates (or reuses) the virtualenv .venv in the repository root with the pinned
# test requirements of bindings/python/requirements-test.txt: pytest for the Python
# binding tests, PyYAML + jsonschema + schemathesis for the issuer service's contract
# and fuzz tests, tree-sitter + tree-sitter-swift for the Swift syntax check.
#
#   scripts/setup-python.sh          # idempotent; fast when already set up
#   PYTHON=python3.12 scripts/setup-python.sh
#
# On Debian/Ubuntu without the venv module it installs python3-venv with apt-get
# (running `apt-get update` only if the first install attempt fails).
set -euo pipefail
cd "$(dirname "$0")/.."

python="${PYTHON:-python3}"
venv=.venv
requirements=bindings/python/requirements-test.txt
stamp="$venv/.digital-otp-requirements"

command -v "$python" >/dev/null || { echo "setup-python: $python not found" >&2; exit 1; }

# The stamp records the interpreter version and the requirements' checksum;
# when both still match and the packages import, there is nothing to do.
want="$("$python" -c 'import hashlib, sys; print(sys.version.split()[0], hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$requirements")"
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
   "$venv/bin/python" -c 'import pytest, tree_sitter, tree_sitter_swift, yaml, jsonschema, schemathesis' 2>/dev/null; then
  exit 0
fi

install_venv_module() {
  local pyver sudo=() full=(python3-venv)
  pyver="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  full+=("python${pyver}-venv")
  if ! command -v apt-get >/dev/null; then
    echo "setup-python: '$python -m venv' does not work and apt-get is not available; install Python's venv module" >&2
    exit 1
  fi
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  apt_install() { DEBIAN_FRONTEND=noninteractive ${sudo[@]+"${sudo[@]}"} apt-get install -y -qq "$@" >/dev/null 2>&1; }
  echo "setup-python: installing ${full[*]} with apt-get" >&2
  # Without `apt-get update` first: fast when the package lists are there already.
  if ! apt_install "${full[@]}" && ! apt_install python3-venv; then
    ${sudo[@]+"${sudo[@]}"} apt-get update -qq
    apt_install "${full[@]}" || apt_install python3-venv ||
      { echo "setup-python: apt-get could not install python3-venv" >&2; exit 1; }
  fi
  "$python" -c 'import venv, ensurepip' 2>/dev/null ||
    { echo "setup-python: $python still has no working venv module" >&2; exit 1; }
}

if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
  install_venv_module
fi

# A venv whose interpreter is gone or different is rebuilt from scratch.
if [ -x "$venv/bin/python" ] && ! "$venv/bin/python" -c 'import sys' 2>/dev/null; then
  rm -rf "$venv"
fi
if [ ! -x "$venv/bin/python" ] || [ "$("$venv/bin/python" -c 'import sys; print(sys.version.split()[0])')" != "${want%% *}" ]; then
  rm -rf "$venv"
  "$python" -m venv "$venv"
fi

"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$requirements"
"$venv/bin/python" -m pip check --disable-pip-version-check >/dev/null
echo "$want" > "$stamp"
echo "setup-python: $venv ready ($("$venv/bin/python" --version); $(tr '\n' ' ' < <(grep -E '^(pytest|tree-sitter)' "$requirements")))"
