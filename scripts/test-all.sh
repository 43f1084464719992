#!/usr/bin/env bash
# Every test in every language: Rust (unit, integration with all 88 RFC vectors, CLI
# against oathtool, the app side, the issuer, `dotp demo`, benchmark smoke runs; rustfmt
# and clippy with warnings as errors),
# Kotlin (JUnit on the JVM), the Android demo's flow logic (JUnit), the Android library's
# checks (Android binding compiled, Gradle files, cargo check of the Android targets), the
# mobile library's size report, Python (pytest), and the Swift and Apple checks possible
# without Xcode (header, module map, link, Package.swift, cargo check of the Apple targets,
# Swift sources parse). Installs what it needs (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

echo "== Rust"
export DOTP_REQUIRE_OATHTOOL=1
cargo test --features cli,issuer,engine,file-store,keyring --all-targets
cargo test --features cli,issuer,engine,file-store,keyring --doc

echo "== Rust style (rustfmt.toml; clippy with every feature and with the mobile library's defaults)"
cargo fmt --check
cargo clippy --quiet --all-targets --features cli,issuer,engine,file-store,keyring,bindgen -- -D warnings
cargo clippy --quiet --lib -- -D warnings

echo "== Kotlin"
scripts/test-kotlin.sh

echo "== Android demo (flow logic on the JVM against the bindings; Android layer compiled against android-all)"
scripts/test-android-demo.sh

echo "== Android library (Android-flavoured binding compiled against android-all; Gradle files; cargo check of the Android targets)"
scripts/test-android-package.sh

echo "== Mobile library size (x86_64, profile mobile, default features; budget in BENCHMARKS.md)"
scripts/size-report.sh

echo "== Python"
scripts/test-python.sh

echo "== Swift (static checks, Apple cross checks; swift test and the XCFramework build run on macOS CI)"
scripts/test-swift-static.sh

echo "All tests passed."
