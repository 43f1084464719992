#!/usr/bin/env bash
# The Swift suite on Linux, with Debian trixie's Swift 6 toolchain in a chroot
# (scripts/setup-swift.sh, created once; see the README for what that costs):
#
#   1. the static checks of the C header, the link, the checksums, the Apple packaging and
#      the Apple targets (scripts/test-swift-static.sh); they also stage the bindings
#      (features issuer,engine,file-store) and build the mobile library;
#   2. `swift test` of the SDK package bindings/swift (Tests/DigitalOTPTests) against
#      target/debug/libdigital_otp.so, through the Linux branch of its Package.swift;
#   3. `swift test` of the iOS demo's logic ios-demo/DemoFlow (the flow, the fake bank, and
#      ServiceBankTests: the flow over HTTP against a real `dotp issuer serve`);
#   4. the mobile library's Swift binding (default features) compiled in Swift 6 mode and
#      linked against the stripped target/mobile/libdigital_otp.so;
# every Swift target in Swift 6 language mode (complete concurrency checking) with
# warnings as errors. Swift Testing is disabled (`--disable-swift-testing`): the tests
# are XCTests, and its "0 tests" line would read as a suite that ran nothing.
#
# Prints `swift: SDK N XCTests, demo M XCTests, mobile binding compiled, static K checks`
# and exits non-zero if anything failed or a suite ran no test.
# What needs UIKit/SwiftUI (the demo app's views) and the XCFramework build run only on
# macOS (.github/workflows/swift.yml).
#
# The whole script runs beside a throwaway issuer service (scripts/with-issuer-service.sh,
# started first, so that its `cargo build` of dotp comes before the bindings and the
# library the Swift tests load); its address and keys (DIGITAL_OTP_SERVICE_URL, _INSTITUTION,
# DIGITAL_OTP_CHANNEL_KEY, DIGITAL_OTP_STAFF_KEY) reach the demo's `swift test` in the
# chroot, whose environment is otherwise cleared, through a file only its owner can read
# (target/swift-test/service.env, deleted at the end), not the command line. Run under a
# service of your own (those variables set), the script uses it.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
root="$PWD"
if [ -z "${DIGITAL_OTP_SERVICE_URL:-}" ] && [ -z "${DOTP_TEST_SWIFT_UNDER_SERVICE:-}" ]; then
  DOTP_TEST_SWIFT_UNDER_SERVICE=1 exec scripts/with-issuer-service.sh "$root/scripts/test-swift.sh" "$@"
fi
logs="$root/target/swift-test"
mkdir -p "$logs"
failures=()

# The service's variables, for the chroot: `export NAME=VALUE` lines that `sh` reads.
service_env="$logs/service.env"
trap 'rm -f "$service_env"' EXIT
rm -f "$service_env"
(
  umask 077
  for name in DIGITAL_OTP_SERVICE_URL DIGITAL_OTP_SERVICE_INSTITUTION DIGITAL_OTP_CHANNEL_KEY DIGITAL_OTP_STAFF_KEY; do
    value="${!name:-}"
    # URLs, ids and dotp_<hex>_<hex> keys only: nothing the shell would read otherwise.
    if [[ -n "$value" && ! "$value" =~ ^[A-Za-z0-9._:/-]+$ ]]; then
      echo "test-swift: $name has characters other than A-Z a-z 0-9 . _ : / -" >&2
      exit 1
    fi
    [ -z "$value" ] || printf 'export %s=%s\n' "$name" "$value"
  done > "$service_env"
) || failures+=("the issuer service's variables")

scripts/setup-swift.sh >/dev/null || { echo "test-swift: the Swift toolchain could not be set up" >&2; exit 1; }
swift_in() { # dir cmd... : runs in the chroot
  scripts/setup-swift.sh run "$@"
}
swift_in / swift --version 2>&1 | head -n 1

echo "-- static checks (scripts/test-swift-static.sh)"
scripts/test-swift-static.sh 2>&1 | tee "$logs/static.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || failures+=("static checks")
static_passed=$(sed -nE 's/^([0-9]+) passed, [0-9]+ failed, [0-9]+ skipped$/\1/p' "$logs/static.log" | tail -n 1)

libdir="$root/target/debug"
link_flags=(-Xlinker -L"$libdir" -Xlinker -rpath -Xlinker "$libdir")
strict=(-Xswiftc -warnings-as-errors)

# swift test in PACKAGE; sets `executed` to the XCTest count of its last summary line.
# With ENV_FILE, `swift test` runs with the variables it exports.
run_package() { # label package [env_file]
  local label="$1" package="$2" log="$logs/$1.log" summary
  local with_env=()
  [ -z "${3:-}" ] || with_env=(sh -c '. "$1" && shift && exec "$@"' sh "$3")
  executed=0
  echo "-- swift test: $package"
  if ! swift_in "$root/$package" swift build --build-tests "${strict[@]}" "${link_flags[@]}" > "$log.build" 2>&1; then
    tail -n 60 "$log.build"
    failures+=("$label: build"); return
  fi
  swift_in "$root/$package" "${with_env[@]}" swift test --skip-build --disable-swift-testing "${link_flags[@]}" > "$log" 2>&1
  local status=$?
  grep -E "^Test Case '.*' (failed|skipped)|error:|XCTAssert|Fatal error" "$log" | head -n 40
  # The last summary is the run's: "Executed N tests, with F failures (U unexpected) in ..."
  summary=$(grep -E '^[[:space:]]*Executed [0-9]+ tests?, with [0-9]+ failures?' "$log" | tail -n 1)
  echo "${summary#"${summary%%[![:space:]]*}"}"
  executed=$(sed -nE 's/^[[:space:]]*Executed ([0-9]+) tests?, with ([0-9]+) failures?.*/\1/p' <<< "$summary")
  local failed
  failed=$(sed -nE 's/^[[:space:]]*Executed ([0-9]+) tests?, with ([0-9]+) failures?.*/\2/p' <<< "$summary")
  if [ "$status" -ne 0 ] || [ -z "$executed" ] || [ "${failed:-1}" -ne 0 ] || [ "$executed" -eq 0 ]; then
    tail -n 30 "$log"
    failures+=("$label: swift test (status $status, ${executed:-no} tests, ${failed:-?} failures)")
    executed=${executed:-0}
  fi
}

run_package sdk bindings/swift
sdk_tests=$executed
run_package demo ios-demo/DemoFlow "$service_env"
demo_tests=$executed

echo "-- the mobile library's Swift binding (default features), compiled and linked"
mobile="$root/target/swift-static-check/mobile-bindings"
mobile_out="$logs/mobile"
mobile_status="not compiled"
if [ -s "$mobile/DigitalOTP.swift" ] && [ -s "$root/target/mobile/libdigital_otp.so" ]; then
  rm -rf "$mobile_out" && mkdir -p "$mobile_out/include"
  cp "$mobile/DigitalOTPFFI.h" "$mobile_out/include/"
  printf 'module DigitalOTPFFI {\n    header "DigitalOTPFFI.h"\n    link "digital_otp"\n    export *\n}\n' > "$mobile_out/include/module.modulemap"
  # --no-undefined: every symbol the binding uses must resolve, in libdigital_otp.so or
  # the Swift runtime (a shared library may otherwise leave them for load time).
  if swift_in "$mobile_out" swiftc -swift-version 6 -warnings-as-errors -parse-as-library \
      -module-name DigitalOTP -emit-library -emit-module -o libDigitalOTP.so \
      -I include -L "$root/target/mobile" -Xlinker --no-undefined \
      "$mobile/DigitalOTP.swift" > "$logs/mobile.log" 2>&1; then
    mobile_status="mobile binding compiled"
    echo "PASS mobile-swift-compiles: target/swift-static-check/mobile-bindings/DigitalOTP.swift, swiftc -swift-version 6, linked against target/mobile/libdigital_otp.so"
  else
    head -n 40 "$logs/mobile.log"
    failures+=("mobile binding: swiftc")
  fi
else
  failures+=("mobile binding: target/swift-static-check/mobile-bindings or target/mobile/libdigital_otp.so missing")
fi

echo "swift: SDK $sdk_tests XCTests, demo $demo_tests XCTests, $mobile_status, static ${static_passed:-0} checks"
if [ "${#failures[@]}" -gt 0 ]; then
  printf 'test-swift: FAILED: %s\n' "${failures[@]}"
  exit 1
fi
