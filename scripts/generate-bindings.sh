#!/usr/bin/env bash
# Builds the unstripped cdylib and generates the Kotlin, Swift and Python bindings
# from it in library mode, with the crate's own uniffi-bindgen (feature `bindgen`).
#
#   scripts/generate-bindings.sh            # debug build, features issuer,engine,file-store (what the tests use)
#   FEATURES= scripts/generate-bindings.sh  # the mobile library's API (default features: the app side only)
#
# The bindings depend only on the source and the features, not on the profile or target:
# the packaging scripts (build-android.sh, build-xcframework.sh) generate from this
# unstripped host build and ship the stripped `mobile`-profile libraries with them.
#
# Output (git-ignored build products):
#   target/bindings/kotlin/org/digitalotp/digital_otp.kt
#   target/bindings/python/digital_otp.py
#   target/bindings/swift/{DigitalOTP.swift,DigitalOTPFFI.h,DigitalOTPFFI.modulemap}
#   target/<profile>/libdigital_otp.{so,dylib}
set -euo pipefail
cd "$(dirname "$0")/.."

profile="${PROFILE:-debug}"
features="${FEATURES-issuer,engine,file-store}"
flags=(--features "$features")
[ "$profile" = release ] && flags+=(--release)

case "$(uname -s)" in
  Darwin) lib="target/$profile/libdigital_otp.dylib" ;;
  *) lib="target/$profile/libdigital_otp.so" ;;
esac

cargo build --quiet --lib "${flags[@]}"
cargo build --quiet --features bindgen --bin uniffi-bindgen

out=target/bindings
rm -rf "$out"
for language in kotlin python swift; do
  ./target/debug/uniffi-bindgen generate --no-format --language "$language" \
    --out-dir "$out/$language" "$lib" >/dev/null
done
echo "bindings generated in $out from $lib"
