#!/usr/bin/env bash
# What can be checked of the Apple builds without a Mac: the Rust code of the mobile
# library (profile `mobile`, default features) compiled for the five Apple targets of
# scripts/build-xcframework.sh, and the iPhone static library built and inspected.
#
#   scripts/check-apple-targets.sh [--bindings DIR]
#
#   apple-target <triple>       `rustup target add` (timeout 120 s per target; after a
#                               timeout the rest are not tried). Where rust-std cannot be
#                               installed (no network, no rustup) the target is SKIPped,
#                               or FAILs with DOTP_REQUIRE_APPLE_TARGETS=1.
#   apple-check <triple>        `cargo check --lib --profile mobile --target <triple>`
#   apple-ios-staticlib         `cargo rustc --lib --crate-type staticlib --profile mobile
#                               --target aarch64-apple-ios` (what the XCFramework's iPhone
#                               slice is made of): its Rust object is built for iOS with
#                               minos = IPHONEOS_DEPLOYMENT_TARGET, and, with --bindings DIR
#                               (DigitalOTP.swift + DigitalOTPFFI.h generated on the host
#                               from a library with the default features), it exports exactly
#                               the functions the header declares, and UniFFI generates from
#                               it a DigitalOTP.swift identical to DIR's (same checksums).
#
# No Apple SDK here. *ring*'s build script compiles C and assembly for the target; it is
# given Debian's clang (`--target=arm64-apple-ios15.0` etc., as cc-rs passes it), llvm-ar,
# ring's own sysroot-less mode (-DRING_CORE_NOSTDLIBINC=1: no <string.h>/<assert.h>) and
# an SDKROOT stub written here: TargetConditionals.h with the values of each platform
# (it tells ring iOS from macOS) and a two-line stdlib.h (malloc, free) that clang's
# <mm_malloc.h> includes from <immintrin.h> for ring's x86_64 code. Without clang and llvm-ar (Debian
# packages clang and llvm) the cargo steps are SKIPped. The real build on a Mac uses
# Xcode's SDK and clang; nothing here links or runs Apple code.
#
# Prints PASS/SKIP/FAIL lines and `N passed, M failed, K skipped`; exits non-zero on a failure.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
root="$PWD"

bindings=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bindings) bindings="$2"; shift ;;
    -h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "check-apple-targets: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

eval "$(scripts/build-xcframework.sh --print-layout)" || { echo "0 passed, 1 failed"; exit 1; }
read -r -a targets <<< "$APPLE_TARGETS"
work="$root/target/apple-check"
mkdir -p "$work"

passed=0 failed=0 skipped=0
pass() { passed=$((passed + 1)); echo "PASS $1${2:+: $2}"; }
skip() { skipped=$((skipped + 1)); echo "SKIP $1: $2"; }
fail() {
  failed=$((failed + 1)); echo "FAIL $1: $2"
  [ -n "${3:-}" ] && [ -s "$3" ] && tail -n "${4:-30}" "$3" | sed 's/^/    /'
  return 0
}
# A missing prerequisite: SKIP, or FAIL when DOTP_REQUIRE_APPLE_TARGETS=1.
unavailable() {
  if [ "${DOTP_REQUIRE_APPLE_TARGETS:-0}" = 1 ]; then fail "$1" "$2 (DOTP_REQUIRE_APPLE_TARGETS=1)"; else skip "$1" "$2"; fi
}

# 1. rust-std for each target.
installed=()
if ! command -v rustup >/dev/null; then
  for t in "${targets[@]}"; do unavailable "apple-target $t" "rustup is not installed (rust-std for $t cannot be added)"; done
else
  have=$(rustup target list --installed 2>/dev/null)
  network_down=""
  for t in "${targets[@]}"; do
    if grep -qx "$t" <<< "$have"; then
      installed+=("$t"); pass "apple-target $t" "rust-std installed"; continue
    fi
    if [ -n "$network_down" ]; then
      unavailable "apple-target $t" "not tried: $network_down"; continue
    fi
    log="$work/rustup-$t.log"
    RUST_BACKTRACE=0 timeout 120 rustup target add "$t" > "$log" 2>&1
    status=$?
    if [ "$status" -eq 0 ]; then
      installed+=("$t"); pass "apple-target $t" "rust-std added by rustup"
    elif [ "$status" -eq 124 ]; then
      network_down="rustup target add $t timed out after 120 s"
      unavailable "apple-target $t" "$network_down"
    else
      file=$(grep -m1 -oE "https?://[^' ]+" "$log")
      code=$(grep -m1 -oE 'status code: [0-9]+' "$log")
      if [ -n "$file" ]; then
        reason="download of ${file##*/} failed${code:+ (HTTP ${code##* })}"
      else
        reason=$(grep -m1 -E '^error' "$log" | cut -c1-160)
      fi
      unavailable "apple-target $t" "rustup could not add rust-std: ${reason:-exit status $status}"
    fi
  done
fi

# 2. Cross-compilation environment (see the header).
llvm_tool() { # name -> the command `name`, else the newest `name-<version>`, else nothing
  local candidate
  for candidate in "$1" $(compgen -c "$1-" 2>/dev/null | sort -rV); do
    command -v "$candidate" >/dev/null && { echo "$candidate"; return; }
  done
}
ar=$(llvm_tool llvm-ar)
nm_tool=$(llvm_tool llvm-nm)
objdump_tool=$(llvm_tool llvm-objdump)
toolchain_missing=""
command -v clang >/dev/null || toolchain_missing="clang"
[ -n "$ar" ] || toolchain_missing="${toolchain_missing:+$toolchain_missing, }llvm-ar"

sdk_stub() { # sdk-name -> SDKROOT stub with TargetConditionals.h for that platform
  local sdk="$1" dir="$work/sdk-stub/$1" osx=0 iphone=1 simulator=0
  case "$sdk" in
    macosx) osx=1 iphone=0 ;;
    iphonesimulator) simulator=1 ;;
  esac
  mkdir -p "$dir/usr/include"
  cat > "$dir/usr/include/TargetConditionals.h" <<EOF
/* Stub for cross-checking without an Apple SDK (scripts/check-apple-targets.sh): $sdk. */
#pragma once
#define TARGET_OS_MAC 1
#define TARGET_OS_OSX $osx
#define TARGET_OS_IPHONE $iphone
#define TARGET_OS_IOS $iphone
#define TARGET_OS_MACCATALYST 0
#define TARGET_OS_TV 0
#define TARGET_OS_WATCH 0
#define TARGET_OS_VISION 0
#define TARGET_OS_SIMULATOR $simulator
#define TARGET_OS_EMBEDDED $((iphone && !simulator))
#define TARGET_OS_UNIX 0
#define TARGET_OS_WIN32 0
EOF
  # clang's own <mm_malloc.h> (from <immintrin.h>, which ring's x86_64 code includes)
  # includes <stdlib.h> for malloc and free.
  cat > "$dir/usr/include/stdlib.h" <<EOF
/* Stub for cross-checking without an Apple SDK (scripts/check-apple-targets.sh). */
#pragma once
#include <stddef.h>
void *malloc(size_t size);
void free(void *pointer);
EOF
  echo "$dir"
}

# cargo for an Apple target, in the default target directory, with the environment above.
apple_cargo() { # target cargo-args...
  local t="$1" sdk var
  shift
  case "$t" in
    *-apple-ios-sim | x86_64-apple-ios) sdk=iphonesimulator ;;
    *-apple-ios) sdk=iphoneos ;;
    *) sdk=macosx ;;
  esac
  var=${t//-/_}
  env "CC_$var=clang" "AR_$var=$ar" "CFLAGS_$var=-DRING_CORE_NOSTDLIBINC=1" \
    SDKROOT="$(sdk_stub "$sdk")" \
    IPHONEOS_DEPLOYMENT_TARGET="$IOS_DEPLOYMENT_TARGET" MACOSX_DEPLOYMENT_TARGET="$MACOS_DEPLOYMENT_TARGET" \
    cargo "$@" --lib --profile mobile --target "$t"
}

device=aarch64-apple-ios
for t in "${targets[@]}"; do
  [ "$t" = "$device" ] && continue # built in 3 (which checks it)
  if ! printf '%s\n' ${installed[@]+"${installed[@]}"} | grep -qx "$t"; then
    unavailable "apple-check $t" "no rust-std for $t (see apple-target $t)"
  elif [ -n "$toolchain_missing" ]; then
    unavailable "apple-check $t" "no $toolchain_missing for ring's C code (Debian packages clang, llvm)"
  else
    log="$work/check-$t.log"
    if apple_cargo "$t" check --quiet > "$log" 2>&1; then
      pass "apple-check $t" "cargo check --lib --profile mobile (default features)"
    else
      fail "apple-check $t" "cargo check --lib --profile mobile --target $t failed" "$log"
    fi
  fi
done

# 3. The iPhone static library.
check_ios_staticlib() {
  local name=apple-ios-staticlib log="$work/ios-staticlib.log" lib="target/$device/mobile/libdigital_otp.a"
  if ! printf '%s\n' ${installed[@]+"${installed[@]}"} | grep -qx "$device"; then
    unavailable "$name" "no rust-std for $device (see apple-target $device)"; return
  fi
  if [ -n "$toolchain_missing" ] || [ -z "$nm_tool" ] || [ -z "$objdump_tool" ]; then
    unavailable "$name" "needs clang, llvm-ar, llvm-nm and llvm-objdump (Debian packages clang, llvm)"; return
  fi
  if ! apple_cargo "$device" rustc --quiet --crate-type staticlib > "$log" 2>&1; then
    fail "$name" "cargo rustc --lib --crate-type staticlib --profile mobile --target $device failed" "$log"; return
  fi
  local notes=() problems=()
  # The Rust object (one, fat LTO): Mach-O for iOS with the deployment target.
  local versions
  versions=$("$objdump_tool" --macho --private-headers "$lib" 2>>"$log" | awk '
    /^.*\.a\(/ { member = $0 }
    /cmd LC_BUILD_VERSION/ { build = 1 }
    build && $1 == "platform" { platform = $2 }
    build && $1 == "minos" { if (member ~ /\(digital_otp-[^)]*\.o\):?$/) print platform, $2; build = 0 }' | sort -u)
  if [ "$versions" = "ios $IOS_DEPLOYMENT_TARGET" ]; then
    notes+=("Rust object: platform ios, minos $IOS_DEPLOYMENT_TARGET")
  else
    problems+=("the digital_otp object's LC_BUILD_VERSION is '${versions:-none}', expected 'ios $IOS_DEPLOYMENT_TARGET'")
  fi
  local exported="$work/ios-exported.txt"
  "$nm_tool" -g --defined-only "$lib" 2>>"$log" | awk 'NF == 3 && $2 == "T" { print $3 }' | sed 's/^_//' |
    grep -E '^(uniffi|ffi)_digital_otp_' | sort -u > "$exported"
  if [ ! -s "$exported" ]; then
    problems+=("no uniffi_digital_otp_* / ffi_digital_otp_* functions exported by $lib")
  fi
  if [ -n "$bindings" ]; then
    local header="$bindings/$FFI_FILENAME.h" declared="$work/ios-declared.txt" regenerated="$work/ios-bindings"
    grep -E '^[A-Za-z_][A-Za-z0-9_ ]*[ *]+[A-Za-z_][A-Za-z0-9_]*\(' "$header" | grep -v '^typedef' |
      sed -E 's/^.*[ *]([A-Za-z_][A-Za-z0-9_]*)\(.*$/\1/' | sort > "$declared"
    if diff "$declared" "$exported" > "$work/ios-exports.diff"; then
      notes+=("exports the $(wc -l < "$declared") functions of the host header")
    else
      problems+=("declared by the host header (<) and exported by the iOS library (>) differ: $(grep -c '^[<>]' "$work/ios-exports.diff") lines")
      sed 's/^/      /' "$work/ios-exports.diff" | head -20 >> "$log"
    fi
    rm -rf "$regenerated"
    if [ ! -x target/debug/uniffi-bindgen ]; then
      problems+=("target/debug/uniffi-bindgen missing (scripts/generate-bindings.sh builds it)")
    elif ! ./target/debug/uniffi-bindgen generate --no-format --language swift --out-dir "$regenerated" "$lib" >> "$log" 2>&1; then
      problems+=("uniffi-bindgen could not generate from $lib")
    elif ! cmp -s "$regenerated/$SWIFT_MODULE.swift" "$bindings/$SWIFT_MODULE.swift"; then
      problems+=("$SWIFT_MODULE.swift generated from the iOS library differs from the host one")
    else
      notes+=("UniFFI generates the same $SWIFT_MODULE.swift from it as from the host library")
    fi
  else
    notes+=("$(wc -l < "$exported") FFI functions exported (not compared: no --bindings)")
  fi
  if [ "${#problems[@]}" -gt 0 ]; then
    printf '%s\n' "${problems[@]}" >> "$log"
    fail "$name" "$(printf '%s; ' "${problems[@]}")" "$log" 25; return
  fi
  pass "$name" "$(IFS=';'; echo "${notes[*]}" | sed 's/;/; /g')"
}
check_ios_staticlib

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
