#!/usr/bin/env bash
# Stages the Swift package bindings/swift for `swift test` (on a Mac):
#   1. scripts/generate-bindings.sh: `cargo build` of libdigital_otp for this host
#      (macOS: target/debug/libdigital_otp.dylib) and the UniFFI Swift bindings
#   2. copies the generated files into the package (git-ignored build outputs):
#        Sources/DigitalOTP/DigitalOTP.swift        (module DigitalOTP)
#        Sources/DigitalOTPFFI/DigitalOTPFFI.h      (system library target DigitalOTPFFI)
#        Sources/DigitalOTPFFI/module.modulemap     (from DigitalOTPFFI.modulemap)
#
#   scripts/build-swift-package.sh && (cd bindings/swift && swift test)
#
# Package.swift links libdigital_otp from target/debug; with PROFILE=release set
# DIGITAL_OTP_LIB_DIR=$PWD/target/release for `swift test` as well.
set -euo pipefail
cd "$(dirname "$0")/.."

case "$(uname -s)" in
  Darwin) ;;
  *) echo "build-swift-package: not macOS: staging with the $(uname -s) library; 'swift test' is run on a Mac" >&2 ;;
esac

scripts/generate-bindings.sh

generated=target/bindings/swift
package=bindings/swift
swift_dir="$package/Sources/DigitalOTP"
ffi_dir="$package/Sources/DigitalOTPFFI"

for f in DigitalOTP.swift DigitalOTPFFI.h DigitalOTPFFI.modulemap; do
  [ -s "$generated/$f" ] || { echo "build-swift-package: $generated/$f was not generated" >&2; exit 1; }
done

rm -rf "$ffi_dir" "$swift_dir/DigitalOTP.swift"
mkdir -p "$swift_dir" "$ffi_dir"
cp "$generated/DigitalOTP.swift" "$swift_dir/DigitalOTP.swift"
cp "$generated/DigitalOTPFFI.h" "$ffi_dir/DigitalOTPFFI.h"
# SwiftPM reads a system library target's module map from `module.modulemap`.
cp "$generated/DigitalOTPFFI.modulemap" "$ffi_dir/module.modulemap"

if ! grep -Eq '^[[:space:]]*module[[:space:]]+DigitalOTPFFI[[:space:]]*\{' "$ffi_dir/module.modulemap" ||
   ! grep -q 'header "DigitalOTPFFI.h"' "$ffi_dir/module.modulemap"; then
  echo "build-swift-package: the module map does not declare module DigitalOTPFFI with header DigitalOTPFFI.h:" >&2
  cat "$ffi_dir/module.modulemap" >&2
  exit 1
fi

echo "swift package staged in $package (library: target/${PROFILE:-debug}); next: cd $package && swift test"
