#!/usr/bin/env bash
# On a Mac with Xcode: builds what the demo app's Xcode project (ios-demo/project.yml)
# links against:
#
#   target/bindings/swift/DigitalOTP.swift          the Swift API (compiled by the DigitalOTP framework target)
#   ios-demo/Frameworks/DigitalOTPFFI.xcframework   libdigital_otp.a for iPhone and for the simulator,
#                                                   with DigitalOTPFFI.h and its module.modulemap
#
#   ios-demo/scripts/build-xcframework.sh            # release, with the issuer (the demo's fake bank needs it)
#   PROFILE=debug ios-demo/scripts/build-xcframework.sh
#
# The demo is built WITH the `issuer` feature because its FakeBankApi runs the bank in the
# app. A real bank app builds its library without it (FEATURES= here, and no DemoFakeBank).
# The Swift file and the libraries must come from the same features: the generated
# Swift checks the library's API checksums at start-up.
set -euo pipefail
cd "$(dirname "$0")/../.."

[ "$(uname -s)" = Darwin ] || { echo "build-xcframework: needs macOS with Xcode (xcodebuild, lipo)" >&2; exit 1; }

profile="${PROFILE:-release}"
features="${FEATURES-issuer}"
flags=(--lib --features "$features")
[ "$profile" = release ] && flags+=(--release)
export IPHONEOS_DEPLOYMENT_TARGET="${IPHONEOS_DEPLOYMENT_TARGET:-15.0}"

device=aarch64-apple-ios
simulators=(aarch64-apple-ios-sim x86_64-apple-ios)
rustup target add "$device" "${simulators[@]}"

# 1. The Swift bindings and header (generated from the host library with the same features).
PROFILE=debug FEATURES="$features" scripts/generate-bindings.sh

# 2. The static library for each target; one simulator library for both architectures.
for target in "$device" "${simulators[@]}"; do
  cargo build "${flags[@]}" --target "$target"
done
work=target/ios-xcframework
rm -rf "$work" && mkdir -p "$work/headers" "$work/simulator"
lipo -create \
  "target/aarch64-apple-ios-sim/$profile/libdigital_otp.a" \
  "target/x86_64-apple-ios/$profile/libdigital_otp.a" \
  -output "$work/simulator/libdigital_otp.a"

# 3. Headers: Xcode finds the C module through a file named module.modulemap.
cp target/bindings/swift/DigitalOTPFFI.h "$work/headers/DigitalOTPFFI.h"
cp target/bindings/swift/DigitalOTPFFI.modulemap "$work/headers/module.modulemap"

# 4. The XCFramework.
out=ios-demo/Frameworks/DigitalOTPFFI.xcframework
rm -rf "$out" && mkdir -p ios-demo/Frameworks
xcodebuild -create-xcframework \
  -library "target/$device/$profile/libdigital_otp.a" -headers "$work/headers" \
  -library "$work/simulator/libdigital_otp.a" -headers "$work/headers" \
  -output "$out"

echo "built $out and target/bindings/swift/DigitalOTP.swift; next: cd ios-demo && xcodegen generate && open DigitalOTPDemo.xcodeproj"
