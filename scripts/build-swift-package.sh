#!/usr/bin/env bash
# Makes bindings/swift ready for `swift test` on a Mac: scripts/build-xcframework.sh with
# the features the Swift test suite covers (the engine objects, the issuer, the file
# store) and only the macOS slice of the XCFramework:
#
#   scripts/build-swift-package.sh && (cd bindings/swift && swift test)
#
# which is `FEATURES=issuer,engine,file-store scripts/build-xcframework.sh --macos-only`.
# Elsewhere (no Xcode) it stages what can be staged: --headers-only.
set -euo pipefail
cd "$(dirname "$0")/.."

export FEATURES="${FEATURES-issuer,engine,file-store}"
if [ "$(uname -s)" = Darwin ]; then
  exec scripts/build-xcframework.sh --macos-only "$@"
fi
echo "build-swift-package: not macOS: staging the Swift source and headers only; 'swift test' runs on a Mac" >&2
exec scripts/build-xcframework.sh --headers-only "$@"
