#!/usr/bin/env bash
# Makes bindings/swift ready for `swift test`: scripts/build-xcframework.sh with the
# features the Swift test suite covers (the engine objects, the issuer, the file store).
# On a Mac, only the macOS slice of the XCFramework:
#
#   scripts/build-swift-package.sh && (cd bindings/swift && swift test)
#
# which is `FEATURES=issuer,engine,file-store scripts/build-xcframework.sh --macos-only`.
# Elsewhere --headers-only: the generated Swift, the headers and the Linux branch's system
# library over target/debug/libdigital_otp.so (scripts/test-swift.sh runs the tests there).
set -euo pipefail
cd "$(dirname "$0")/.."

export FEATURES="${FEATURES-issuer,engine,file-store}"
if [ "$(uname -s)" = Darwin ]; then
  exec scripts/build-xcframework.sh --macos-only "$@"
fi
echo "build-swift-package: not macOS: staging the Swift source, the headers and the Linux system library (swift test: scripts/test-swift.sh)" >&2
exec scripts/build-xcframework.sh --headers-only "$@"
