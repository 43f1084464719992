#!/usr/bin/env bash
# The Android library (AAR) of digital-otp, from the repository root:
#   1. libdigital_otp.so for arm64-v8a, armeabi-v7a and x86_64 with cargo-ndk, Cargo profile
#      `mobile` (size-optimized, stripped), API level MIN_SDK, into
#      bindings/android/src/main/jniLibs/<abi>/;
#   2. the Kotlin binding generated with the Android settings (android = true,
#      omit_checksums = true; see bindings/android/README.md) from an unstripped host build
#      with the same sources and features, into bindings/android/src/main/kotlin/;
#   3. the AAR, `assembleRelease` of the Gradle module bindings/android, when ./gradlew or
#      `gradle` exists there (bindings/android/build/outputs/aar/digital-otp-android-release.aar).
# Steps 1 and 2 write git-ignored build outputs only.
#
#   ANDROID_NDK_HOME=$HOME/Android/Sdk/ndk/<version> scripts/build-android.sh
#   FEATURES=engine scripts/build-android.sh        # cargo features of the .so and the binding (default: none)
#   scripts/build-android.sh --no-gradle            # steps 1 and 2 only
#   scripts/build-android.sh --bindings-only [--kotlin-out DIR]   # step 2 only (no NDK); DIR from the repo root
#   scripts/build-android.sh --print-settings       # MIN_SDK, ABIs, targets, cargo-ndk version (for checks)
#
# Needs: Rust (rustup, for the three Android targets, which it adds), an NDK r27 or newer in
# ANDROID_NDK_HOME, cargo-ndk (installed at CARGO_NDK_VERSION with `cargo install --locked` if
# missing); for step 3 the Android SDK (platform 35) and Gradle 8.11.1+ or a wrapper.
# scripts/test-android-package.sh checks what can be checked without the NDK.
set -euo pipefail
cd "$(dirname "$0")/.."

# --- Settings (bindings/android/build.gradle.kts repeats MIN_SDK and ABIS;
#     scripts/test-android-package.sh checks that they agree) --------------------------------
# Android 7.0. An app's minSdk must be at least this; relocation packing (.cargo/config.toml)
# needs 23+. cargo-ndk passes it to clang as the target's API level (--platform).
MIN_SDK=24
ABIS=(arm64-v8a armeabi-v7a x86_64)
RUST_TARGETS=(aarch64-linux-android armv7-linux-androideabi x86_64-linux-android)
CARGO_NDK_VERSION=4.1.2
MIN_NDK_MAJOR=27
# -------------------------------------------------------------------------------------------

module=bindings/android
jni_libs="$module/src/main/jniLibs"
kotlin_out="$module/src/main/kotlin"
features="${FEATURES-}"
cargo_target="${CARGO_TARGET_DIR:-target}"
# The host build the binding is generated from (unstripped, dev profile, FEATURES). A target
# directory of its own: target/debug holds the tests' build with other features.
host_target="${DOTP_ANDROID_HOST_TARGET_DIR:-$cargo_target/android-host}"
case "$(uname -s)" in
  Darwin) host_lib="$host_target/debug/libdigital_otp.dylib" ;;
  *) host_lib="$host_target/debug/libdigital_otp.so" ;;
esac
bindgen="$cargo_target/debug/uniffi-bindgen"

die() { echo "build-android: $*" >&2; exit 1; }
note() { echo "build-android: $*" >&2; }

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

mode=all
run_gradle=1
while [ $# -gt 0 ]; do
  case "$1" in
    --bindings-only) mode=bindings ;;
    --no-gradle) run_gradle=0 ;;
    --kotlin-out) [ $# -ge 2 ] || die "--kotlin-out needs a directory"; kotlin_out=$2; shift ;;
    --print-settings) mode=settings ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
  shift
done

if [ "$mode" = settings ]; then
  echo "min_sdk=$MIN_SDK"
  echo "abis=${ABIS[*]}"
  echo "rust_targets=${RUST_TARGETS[*]}"
  echo "cargo_ndk_version=$CARGO_NDK_VERSION"
  echo "min_ndk_major=$MIN_NDK_MAJOR"
  echo "jni_libs=$jni_libs"
  echo "kotlin_out=$module/src/main/kotlin"
  echo "host_library=$host_lib"
  echo "bindgen=$bindgen"
  exit 0
fi

feature_flags=()
if [ -n "$features" ]; then feature_flags=(--features "$features"); fi
case ",$features," in
  *,issuer,*|*,cli,*) note "warning: FEATURES=$features puts the issuer (SQLite) into the mobile library" ;;
esac

# The Kotlin binding with the Android settings, generated in library mode from the host
# cdylib. uniffi-bindgen 0.32's --config takes a *global* config file ([defaults],
# [crates.<crate>], [crate-roots]); it merges the crate's own uniffi.toml under
# [crates.digital_otp], so the override below adds the two Android keys to uniffi.toml's
# [bindings.kotlin] (package_name, cdylib_name) for this generation only. A flat copy of
# uniffi.toml would be ignored with a warning (uniffi_bindgen's global_config.rs).
generate_android_kotlin() {
  local out=$1 lib=$host_lib
  CARGO_TARGET_DIR="$host_target" cargo build --quiet --lib ${feature_flags[@]+"${feature_flags[@]}"}
  cargo build --quiet --features bindgen --bin uniffi-bindgen

  local work
  work=$(mktemp -d "${TMPDIR:-/tmp}/dotp-android-bindings.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" EXIT
  {
    echo "# Written by scripts/build-android.sh for one generation; uniffi.toml stays as it is."
    echo "# Merged over the crate's uniffi.toml by uniffi-bindgen (global config format)."
    echo "[crates.digital_otp.bindings.kotlin]"
    echo "# android.system.SystemCleaner on API 34+, JNA's cleaner below (no java.lang.ref.Cleaner before API 33)."
    echo "android = true"
    echo "# No API checksum calls at load time: see bindings/android/README.md (32-bit ARM)."
    echo "omit_checksums = true"
  } >"$work/uniffi-android.toml"

  "$bindgen" generate --no-format --language kotlin --config "$work/uniffi-android.toml" \
    --out-dir "$work/kotlin" "$lib" >"$work/log" 2>&1 || { cat "$work/log" >&2; die "uniffi-bindgen failed"; }
  if grep -qi "warning" "$work/log"; then
    cat "$work/log" >&2
    die "uniffi-bindgen warned about the Android config (is it still honoured?)"
  fi

  local kt="$work/kotlin/org/digitalotp/digital_otp.kt"
  [ -f "$kt" ] || die "uniffi-bindgen wrote no $kt (package_name from uniffi.toml not applied?)"
  # The override must have been honoured: fail rather than ship a JVM-flavoured binding.
  grep -q 'class AndroidSystemCleaner' "$kt" || die "the generated binding has no Android cleaner: android = true was not applied"
  ! grep -q 'uniffiCheckApiChecksums' "$kt" || die "the generated binding still checks API checksums: omit_checksums = true was not applied"

  mkdir -p "$out/org/digitalotp"
  cp "$kt" "$out/org/digitalotp/digital_otp.kt.tmp.$$"
  mv -f "$out/org/digitalotp/digital_otp.kt.tmp.$$" "$out/org/digitalotp/digital_otp.kt"
  rm -rf "$work"
  trap - EXIT
  note "Kotlin binding (Android settings) in $out/org/digitalotp/digital_otp.kt from $lib${features:+ (features: $features)}"
}

if [ "$mode" = bindings ]; then
  generate_android_kotlin "$kotlin_out"
  exit 0
fi

# --- 1. the native libraries -----------------------------------------------------------------
[ -n "${ANDROID_NDK_HOME:-}" ] || die "ANDROID_NDK_HOME is not set: point it at an NDK r$MIN_NDK_MAJOR+ \
(Android Studio: SDK Manager > SDK Tools > NDK (Side by side); then e.g. \
export ANDROID_NDK_HOME=\$HOME/Android/Sdk/ndk/<version>)"
[ -f "$ANDROID_NDK_HOME/source.properties" ] || die "ANDROID_NDK_HOME=$ANDROID_NDK_HOME is not an NDK (no source.properties)"
ndk_revision=$(sed -n 's/^Pkg\.Revision *= *//p' "$ANDROID_NDK_HOME/source.properties" | tr -d '\r')
ndk_major=${ndk_revision%%.*}
case "$ndk_major" in
  ''|*[!0-9]*) die "cannot read the NDK version from $ANDROID_NDK_HOME/source.properties" ;;
esac
[ "$ndk_major" -ge "$MIN_NDK_MAJOR" ] || die "NDK $ndk_revision is too old: r$MIN_NDK_MAJOR or newer is needed (16 KB page alignment; see bindings/android/README.md)"
export ANDROID_NDK_HOME

if [ -n "${RUSTFLAGS:-}${CARGO_ENCODED_RUSTFLAGS:-}" ]; then
  note "warning: RUSTFLAGS is set, so Cargo ignores the Android rustflags of .cargo/config.toml (relocation packing)"
fi

command -v rustup >/dev/null || die "rustup is needed to add the Android targets (${RUST_TARGETS[*]})"
installed=$(rustup target list --installed)
missing=()
for t in "${RUST_TARGETS[@]}"; do
  grep -qx "$t" <<<"$installed" || missing+=("$t")
done
if [ ${#missing[@]} -gt 0 ]; then
  rustup target add "${missing[@]}"
fi

if ! cargo ndk --version >/dev/null 2>&1; then
  cargo install cargo-ndk --version "$CARGO_NDK_VERSION" --locked
else
  have=$(cargo ndk --version 2>/dev/null | awk '{print $NF}')
  [ "$have" = "$CARGO_NDK_VERSION" ] || note "note: using the installed cargo-ndk $have (the scripts were written for $CARGO_NDK_VERSION)"
fi

ndk_targets=()
for abi in "${ABIS[@]}"; do ndk_targets+=(-t "$abi"); done
cargo ndk "${ndk_targets[@]}" --platform "$MIN_SDK" -o "$jni_libs" \
  build --lib --profile mobile ${feature_flags[@]+"${feature_flags[@]}"}

for abi in "${ABIS[@]}"; do
  so="$jni_libs/$abi/libdigital_otp.so"
  [ -f "$so" ] || die "cargo-ndk wrote no $so"
  note "$so: $(wc -c <"$so") bytes"
done

# --- 2. the Kotlin binding (same sources, same features) --------------------------------------
generate_android_kotlin "$kotlin_out"

# --- 3. the AAR --------------------------------------------------------------------------------
if [ "$run_gradle" = 1 ]; then
  if [ -x "$module/gradlew" ]; then
    (cd "$module" && ./gradlew --no-daemon assembleRelease)
  elif command -v gradle >/dev/null; then
    (cd "$module" && gradle --no-daemon assembleRelease)
  else
    note "no ./gradlew in $module and no gradle command: skipping the AAR (open $module in Android Studio, or see its README)"
    exit 0
  fi
  note "AAR: $module/build/outputs/aar/digital-otp-android-release.aar"
fi
