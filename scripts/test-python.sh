#!/usr/bin/env bash
# Runs the Python binding tests (bindings/python/tests) with pytest:
#   1. scripts/setup-python.sh      -> .venv with the pinned test requirements
#   2. scripts/generate-bindings.sh -> cdylib + target/bindings/python/digital_otp.py
#   3. copies both into the package bindings/python/src/digital_otp/ (git-ignored
#      build outputs): the generated loader looks for the library beside the module
#   4. pytest with bindings/python/src importable
#
#   scripts/test-python.sh                 # all tests
#   scripts/test-python.sh -k otpauth -q   # extra arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup-python.sh
scripts/generate-bindings.sh

profile="${PROFILE:-debug}"
case "$(uname -s)" in
  Darwin) lib="target/$profile/libdigital_otp.dylib" ;;
  *) lib="target/$profile/libdigital_otp.so" ;;
esac

package=bindings/python/src/digital_otp
rm -f "$package"/digital_otp.py "$package"/libdigital_otp.so "$package"/libdigital_otp.dylib
cp target/bindings/python/digital_otp.py "$package/"
cp "$lib" "$package/"

# The issuer service for test_service_api.py, with the Rust suite's features (so that
# after `cargo test` nothing is rebuilt); the binding's library was copied above.
cargo build --quiet --features cli,issuer,engine,file-store,keyring,test-support --bin dotp
export DIGITAL_OTP_DOTP="$PWD/target/debug/dotp"

export PYTHONPATH="$PWD/bindings/python/src${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1
exec .venv/bin/python -m pytest bindings/python/tests "$@"
