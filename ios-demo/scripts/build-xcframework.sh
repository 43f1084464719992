#!/usr/bin/env bash
# The demo's build of the SDK, on a Mac with Xcode 16+: scripts/build-xcframework.sh with
# the features `issuer` (the demo's FakeBankApi runs the bank in the app) and `file-store`
# (`softwareDeviceKeys`, over which the DemoFlow tests' stand-in for the Secure Enclave
# signs; the app itself uses the Secure Enclave), which writes what both the Xcode project
# (ios-demo/project.yml) and `swift test` in ios-demo/DemoFlow use:
#
#   bindings/swift/DigitalOTPFFI.xcframework           iPhone, simulators (arm64, x86_64), macOS
#   bindings/swift/Sources/DigitalOTP/DigitalOTP.swift the Swift API for those features
#
#   ios-demo/scripts/build-xcframework.sh               # every platform
#   ios-demo/scripts/build-xcframework.sh --macos-only  # enough for `swift test` in DemoFlow
#
# A real bank app ships the library without the issuer: scripts/build-xcframework.sh with
# the default features (no DemoFakeBank). The Swift file and the libraries come from the
# same features: the generated Swift checks the library's API checksums at start-up.
set -euo pipefail
cd "$(dirname "$0")/../.."
FEATURES="${FEATURES-issuer,file-store}" exec scripts/build-xcframework.sh "$@"
