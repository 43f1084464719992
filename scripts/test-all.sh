#!/usr/bin/env bash
# Every test in every language: Rust (unit, integration with all 98 RFC vectors, CLI
# against oathtool, the app side, the issuer, its HTTP service and PostgreSQL store, `dotp demo`, benchmark smoke runs; rustfmt
# and clippy with warnings as errors),
# Kotlin (JUnit on the JVM), the Android demo's flow logic (JUnit), the Android library's
# checks (Android binding compiled, Gradle files, cargo check of the Android targets), the
# mobile library's size report, Python (pytest), and Swift: the SDK package's and the iOS
# demo's XCTests compiled and run with Debian's Swift 6 toolchain in a chroot, plus the
# checks of the C header, the link and the Apple packaging (scripts/test-swift.sh).
# Installs what it needs (scripts/setup.sh, scripts/setup-swift.sh). Ends with the test
# counts of every language side by side.
set -euo pipefail
cd "$(dirname "$0")/.."

logs=target/test-logs
rm -rf "$logs" && mkdir -p "$logs"
# Runs a suite with its output shown and kept in $logs/NAME.log (for the counts at the end).
suite() { # name cmd...
  local name="$1"; shift
  "$@" 2>&1 | tee "$logs/$name.log"
  return "${PIPESTATUS[0]}"
}

scripts/setup.sh

echo "== Rust"
export DOTP_REQUIRE_OATHTOOL=1
# With a throwaway PostgreSQL cluster on loopback for the PostgreSQL store's tests and two
# `issuer serve` instances on one database (scripts/with-postgres.sh stops and removes it).
suite rust scripts/with-postgres.sh cargo test --features cli,issuer,engine,file-store,keyring,test-support --all-targets
suite rust-doc cargo test --features cli,issuer,engine,file-store,keyring,test-support --doc

echo "== Rust style (rustfmt.toml; clippy with every feature and with the mobile library's defaults)"
cargo fmt --check
cargo clippy --quiet --all-targets --features cli,issuer,engine,file-store,keyring,test-support,bindgen -- -D warnings
cargo clippy --quiet --lib -- -D warnings

echo "== Kotlin"
suite kotlin scripts/test-kotlin.sh

echo "== Android demo (flow logic on the JVM against the bindings; Android layer compiled against android-all)"
suite android-demo scripts/test-android-demo.sh

echo "== Android library (Android-flavoured binding compiled against android-all; Gradle files; cargo check of the Android targets)"
suite android-package scripts/test-android-package.sh

echo "== Mobile library size (x86_64, profile mobile, default features; budget in BENCHMARKS.md)"
scripts/size-report.sh

echo "== Python"
suite python scripts/test-python.sh

echo "== Swift (swift test of the SDK and the iOS demo's logic on Linux, Swift 6 mode; header, link and Apple checks; the XCFramework and the app's UI build on macOS CI)"
suite swift scripts/test-swift.sh

# The counts, from the logs: cargo's "test result: ok. N passed", Surefire's
# "Tests run: N" per module, pytest's "N passed", XCTest's "Executed N tests" (scripts/test-swift.sh).
sum_cargo() { grep -hoE '^test result: ok\. [0-9]+ passed' "$@" | awk '{ n += $4 } END { print n + 0 }'; }
# Surefire's per-module totals are the "Tests run:" lines without "Time elapsed".
surefire() { grep -hE 'Tests run: [0-9]+, Failures: [0-9]+, Errors: [0-9]+, Skipped: [0-9]+[[:space:]]*$' "$1" | sed -E 's/.*Tests run: ([0-9]+).*/\1/' | awk '{ n += $1 } END { print n + 0 }'; }
echo "== Test counts"
printf '%-16s %s\n' \
  Rust "$(sum_cargo "$logs/rust.log") tests, $(sum_cargo "$logs/rust-doc.log") doctests" \
  Kotlin "$(surefire "$logs/kotlin.log") JUnit tests (Android demo $(surefire "$logs/android-demo.log"), Android package $(sed -nE 's/^([0-9]+) passed, .*/\1/p' "$logs/android-package.log" | tail -n 1) checks)" \
  Python "$(grep -hoE '[0-9]+ passed' "$logs/python.log" | tail -n 1 | cut -d' ' -f1) pytest tests" \
  Swift "$(sed -nE 's/^swift: SDK ([0-9]+) XCTests, demo ([0-9]+) XCTests.*static ([0-9]+) checks$/\1 XCTests (iOS demo \2; static \3 checks)/p' "$logs/swift.log")"
echo "All tests passed."
