#!/usr/bin/env bash
# Every test in every language: Rust (unit, integration with all 88 RFC vectors, CLI
# against oathtool, the app side, the issuer, `dotp demo`, benchmark smoke runs),
# Kotlin (JUnit on the JVM), the Android demo's flow logic (JUnit), Python (pytest),
# and the Swift checks possible without a Swift toolchain (header compiles, every
# function links, Swift sources parse). Installs what it needs (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

echo "== Rust"
export DOTP_REQUIRE_OATHTOOL=1
cargo test --features cli,issuer,engine,file-store,keyring --all-targets
cargo test --features cli,issuer,engine,file-store,keyring --doc

echo "== Kotlin"
scripts/test-kotlin.sh

echo "== Android demo (flow logic on the JVM against the bindings; Android layer compiled against android-all)"
scripts/test-android-demo.sh

echo "== Python"
scripts/test-python.sh

echo "== Swift (static checks; swift test runs on macOS CI)"
scripts/test-swift-static.sh

echo "All tests passed."
