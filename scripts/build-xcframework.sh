#!/usr/bin/env bash
# The Apple packaging of the SDK: the XCFramework DigitalOTPFFI (static libraries for
# iPhone, the simulators and macOS, with the C header and module map) and the Swift
# package bindings/swift that wraps it. On a Mac with Xcode 16+ and rustup:
#
#   scripts/build-xcframework.sh                 # everything: iOS, simulators, macOS; release zip
#   scripts/build-xcframework.sh --macos-only    # the macOS slice only (for `swift test` on a Mac)
#   scripts/build-xcframework.sh --headers-only  # anywhere: generate the bindings, stage the Swift
#                                                # source and assemble the headers folder (no Xcode)
#   scripts/build-xcframework.sh --print-layout  # the names and paths below, as shell variables
#
# Environment:
#   FEATURES   the crate features of the library (default: none, i.e. the mobile library:
#              no issuer, no engine objects, no file store). The Swift test suite needs
#              FEATURES=issuer,engine,file-store; the iOS demo FEATURES=issuer.
#   PLATFORMS  "all" (default) or "macos" (the same as --macos-only).
#   IPHONEOS_DEPLOYMENT_TARGET (default 15.0), MACOSX_DEPLOYMENT_TARGET (default 12.0):
#              must match `platforms:` in bindings/swift/Package.swift (checked on Linux by
#              scripts/test-swift-static.sh).
#   RELEASE_URL  where the release zip will be downloaded from (the URL of the asset
#              DigitalOTPFFI-<version>.xcframework.zip); with it, a full build with the default
#              features also writes the publishable Swift package to target/apple/swift-package/.
#
# Steps:
#   1. scripts/generate-bindings.sh with the same FEATURES: a host `cargo build --lib` (dev
#      profile, unstripped) and UniFFI's library-mode generation from it. Same source and
#      features give the same checksums as the mobile libraries built below.
#   2. bindings/swift/Sources/DigitalOTP/DigitalOTP.swift  (the Swift API, git-ignored)
#      target/apple/headers/DigitalOTPFFI/{DigitalOTPFFI.h,module.modulemap}
#      With --headers-only also bindings/swift/Sources/DigitalOTPFFI/ (git-ignored): the
#      header and a module map that links libdigital_otp, the system library target of
#      Package.swift's Linux branch (`swift test` on Linux: scripts/test-swift.sh).
#      The subfolder named after the module keeps this module.modulemap from clashing with
#      other XCFrameworks' in an app's build products (Xcode copies every library
#      XCFramework's headers into one include directory); clang finds
#      <include dir>/DigitalOTPFFI/module.modulemap when looking up module DigitalOTPFFI.
#   3. `cargo rustc --lib --crate-type staticlib --profile mobile --target <triple>` for
#      aarch64-apple-ios, aarch64-apple-ios-sim, x86_64-apple-ios, aarch64-apple-darwin,
#      x86_64-apple-darwin (the `mobile` profile of Cargo.toml: size-optimized, fat LTO,
#      panic=abort). Only the static library is built: the XCFramework has no use for the
#      cdylib, and linking it would cost a second LTO pass per target.
#   4. lipo: one simulator library (arm64 + x86_64), one macOS library (arm64 + x86_64).
#   5. xcodebuild -create-xcframework -> bindings/swift/DigitalOTPFFI.xcframework (git-ignored),
#      the binaryTarget of bindings/swift/Package.swift; then the privacy manifest
#      bindings/swift/Sources/DigitalOTP/PrivacyInfo.xcprivacy into each of its slices
#      (beside libdigital_otp.a), so the zip carries it too.
#   6. A full build with the default features (what an app ships) also writes
#      target/apple/DigitalOTPFFI-<version>.xcframework.zip and its SwiftPM checksum
#      (.zip.sha256), <version> being Cargo.toml's [package] version; with RELEASE_URL, the
#      release package target/apple/swift-package/ (Package.swift from
#      bindings/swift/release/Package.swift.in with binaryTarget(url:checksum:), and
#      Sources/: the generated Swift, every hand-written .swift file of
#      bindings/swift/Sources/DigitalOTP (async overloads, redaction) and the privacy manifest).
#      Publishing: bindings/swift/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=all
[ "${PLATFORMS:-all}" = macos ] && mode=macos
case "${PLATFORMS:-all}" in all | macos) ;; *) echo "build-xcframework: PLATFORMS must be all or macos" >&2; exit 2 ;; esac
render_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --macos-only) mode=macos ;;
    --headers-only) mode=headers ;;
    --print-layout) mode=layout ;;
    # Internal (used by this script and by scripts/test-swift-static.sh):
    #   --render-release-package URL CHECKSUM DIR
    --render-release-package)
      [ $# -ge 4 ] || { echo "build-xcframework: --render-release-package URL CHECKSUM DIR" >&2; exit 2; }
      mode=render; render_args=("$2" "$3" "$4"); shift 3 ;;
    #   --add-privacy-manifest XCFRAMEWORK (step 5b on an XCFramework already built)
    --add-privacy-manifest)
      [ $# -ge 2 ] || { echo "build-xcframework: --add-privacy-manifest XCFRAMEWORK" >&2; exit 2; }
      mode=privacy; render_args=("$2"); shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-xcframework: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

# Names: the Swift module names come from uniffi.toml, the version from Cargo.toml.
toml_value() { # file section key
  awk -v section="[$2]" -v key="$3" '
    /^[[:space:]]*\[/ { in_section = ($0 == section) }
    in_section && $1 == key && $2 == "=" { value = $0; sub(/^[^=]*=[[:space:]]*"/, "", value); sub(/".*$/, "", value); print value; exit }
  ' "$1"
}
swift_module=$(toml_value uniffi.toml bindings.swift module_name)
ffi_module=$(toml_value uniffi.toml bindings.swift ffi_module_name)
ffi_filename=$(toml_value uniffi.toml bindings.swift ffi_module_filename)
version=$(toml_value Cargo.toml package version)
for v in swift_module ffi_module ffi_filename version; do
  [ -n "${!v}" ] || { echo "build-xcframework: could not read $v from uniffi.toml / Cargo.toml" >&2; exit 1; }
done

features="${FEATURES-}"
ios_min="${IPHONEOS_DEPLOYMENT_TARGET:-15.0}"
macos_min="${MACOSX_DEPLOYMENT_TARGET:-12.0}"
ios_device=aarch64-apple-ios
ios_simulators=(aarch64-apple-ios-sim x86_64-apple-ios)
macos_targets=(aarch64-apple-darwin x86_64-apple-darwin)
package=bindings/swift
xcframework="$package/$ffi_module.xcframework"
swift_source="$package/Sources/$swift_module/$swift_module.swift"
# Hand-written, committed, next to the generated source: every other .swift file of the
# target (the async overloads DigitalOtp+Async.swift, the redacted text forms
# Redaction.swift, ...), shipped in the release package; and Apple's privacy manifest (a
# resource of the target; also copied into every XCFramework slice).
swift_handwritten=()
for f in "$package/Sources/$swift_module"/*.swift; do
  [ -f "$f" ] && [ "$f" != "$swift_source" ] && swift_handwritten+=("$f")
done
[ "${#swift_handwritten[@]}" -gt 0 ] || { echo "build-xcframework: no hand-written Swift in $package/Sources/$swift_module" >&2; exit 1; }
privacy_manifest="$package/Sources/$swift_module/PrivacyInfo.xcprivacy"
apple=target/apple
headers="$apple/headers"
zip="$apple/$ffi_module-$version.xcframework.zip"
release_package="$apple/swift-package"
release_template="$package/release/Package.swift.in"
generated=target/bindings/swift
# The system library of Package.swift's Linux branch (headers only; git-ignored).
linux_ffi="$package/Sources/$ffi_module"

if [ "$mode" = layout ]; then
  cat <<EOF
SWIFT_MODULE=$swift_module
FFI_MODULE=$ffi_module
FFI_FILENAME=$ffi_filename
VERSION=$version
TAG=v$version
PACKAGE_DIR=$package
XCFRAMEWORK=$xcframework
SWIFT_SOURCE=$swift_source
SWIFT_HANDWRITTEN_SOURCES="${swift_handwritten[*]}"
PRIVACY_MANIFEST=$privacy_manifest
HEADERS_DIR=$headers
LINUX_FFI_DIR=$linux_ffi
ZIP=$zip
RELEASE_PACKAGE_DIR=$release_package
RELEASE_TEMPLATE=$release_template
IOS_DEPLOYMENT_TARGET=$ios_min
MACOS_DEPLOYMENT_TARGET=$macos_min
APPLE_TARGETS="$ios_device ${ios_simulators[*]} ${macos_targets[*]}"
EOF
  exit 0
fi

# The publishable package: Package.swift (binaryTarget(url:checksum:)) and the Swift sources.
render_release_package() { # url checksum dir
  local url="$1" checksum="$2" dir="$3"
  [[ "$checksum" =~ ^[0-9a-f]{64}$ ]] || { echo "build-xcframework: checksum must be 64 hex digits: $checksum" >&2; return 1; }
  [ -s "$swift_source" ] || { echo "build-xcframework: $swift_source missing (run --headers-only first)" >&2; return 1; }
  case "$url" in *'|'* | *'&'* | *'\'* | *'"'*) echo "build-xcframework: unsupported character in RELEASE_URL" >&2; return 1 ;; esac
  rm -rf "$dir"
  mkdir -p "$dir/Sources/$swift_module"
  sed -e "s|@VERSION@|$version|g" -e "s|@URL@|$url|g" -e "s|@CHECKSUM@|$checksum|g" \
    "$release_template" > "$dir/Package.swift"
  if grep -n '@[A-Z_]*@' "$dir/Package.swift" >&2; then
    echo "build-xcframework: unreplaced placeholders in $dir/Package.swift" >&2; return 1
  fi
  cp "$swift_source" "$dir/Sources/$swift_module/$swift_module.swift"
  cp "${swift_handwritten[@]}" "$privacy_manifest" "$dir/Sources/$swift_module/"
}

# Apple's privacy manifest in each library slice of an XCFramework (ios-arm64/,
# ios-arm64_x86_64-simulator/, macos-arm64_x86_64/: the folders holding libdigital_otp.a),
# beside the library, where Xcode's privacy report finds it for a static library.
add_privacy_manifest() { # xcframework
  local slice count=0
  for slice in "$1"/*/; do
    [ -f "$slice/libdigital_otp.a" ] || continue
    cp "$privacy_manifest" "$slice/PrivacyInfo.xcprivacy"
    count=$((count + 1))
  done
  [ "$count" -gt 0 ] || { echo "build-xcframework: no library slice in $1 for $(basename "$privacy_manifest")" >&2; return 1; }
  echo "build-xcframework: $(basename "$privacy_manifest") in $count slice(s) of $1"
}

if [ "$mode" = render ]; then
  render_release_package "${render_args[@]}"
  exit 0
fi
if [ "$mode" = privacy ]; then
  add_privacy_manifest "${render_args[0]}"
  exit 0
fi

if [ "$mode" != headers ]; then
  if [ "$(uname -s)" != Darwin ] || ! command -v xcodebuild >/dev/null || ! command -v lipo >/dev/null; then
    echo "build-xcframework: needs macOS with Xcode 16+ (xcodebuild, lipo) and rustup." >&2
    echo "  Elsewhere only '$0 --headers-only' runs (what scripts/test-swift-static.sh checks)." >&2
    exit 1
  fi
  xcode_major=$(xcodebuild -version 2>/dev/null | sed -nE 's/^Xcode ([0-9]+).*/\1/p')
  if [ -n "$xcode_major" ] && [ "$xcode_major" -lt 16 ]; then
    echo "build-xcframework: Xcode $xcode_major found; Xcode 16 or later is needed (swift-tools-version 6.0)" >&2
    exit 1
  fi
  command -v rustup >/dev/null || { echo "build-xcframework: rustup is needed to add the Apple targets" >&2; exit 1; }
  case "$mode" in
    all) targets=("$ios_device" "${ios_simulators[@]}" "${macos_targets[@]}") ;;
    macos) targets=("${macos_targets[@]}") ;;
  esac
  rustup target add "${targets[@]}"
fi

# 1-2. Bindings from the host library with the same features; stage them.
echo "build-xcframework: generating the bindings (features: ${features:-none})"
PROFILE=debug FEATURES="$features" scripts/generate-bindings.sh
for f in "$swift_module.swift" "$ffi_filename.h" "$ffi_filename.modulemap"; do
  [ -s "$generated/$f" ] || { echo "build-xcframework: $generated/$f was not generated" >&2; exit 1; }
done
if ! grep -Eq "^[[:space:]]*module[[:space:]]+${ffi_module}[[:space:]]*\{" "$generated/$ffi_filename.modulemap" ||
   ! grep -q "header \"$ffi_filename.h\"" "$generated/$ffi_filename.modulemap"; then
  echo "build-xcframework: the module map does not declare module $ffi_module with header $ffi_filename.h:" >&2
  cat "$generated/$ffi_filename.modulemap" >&2
  exit 1
fi
rm -rf "$headers" "$linux_ffi"
mkdir -p "$headers/$ffi_module" "$(dirname "$swift_source")"
cp "$generated/$ffi_filename.h" "$headers/$ffi_module/$ffi_filename.h"
cp "$generated/$ffi_filename.modulemap" "$headers/$ffi_module/module.modulemap"
cp "$generated/$swift_module.swift" "$swift_source"
echo "$features" > "$apple/features"

if [ "$mode" = headers ]; then
  # 2b. The Linux branch of Package.swift: a system library target over the same header,
  #     linking the host's libdigital_otp.so (scripts/test-swift.sh gives its directory).
  mkdir -p "$linux_ffi"
  cp "$generated/$ffi_filename.h" "$linux_ffi/$ffi_filename.h"
  printf 'module %s {\n    header "%s.h"\n    link "digital_otp"\n    export *\n}\n' \
    "$ffi_module" "$ffi_filename" > "$linux_ffi/module.modulemap"
  echo "build-xcframework: staged $swift_source, $headers/$ffi_module/ and $linux_ffi/ (headers only)"
  exit 0
fi

# 3. Static libraries, size-optimized (profile `mobile`), one per target.
export IPHONEOS_DEPLOYMENT_TARGET="$ios_min" MACOSX_DEPLOYMENT_TARGET="$macos_min"
for target in "${targets[@]}"; do
  echo "build-xcframework: $target"
  cargo rustc --quiet --lib --crate-type staticlib --profile mobile --target "$target" --features "$features"
done
lib() { echo "target/$1/mobile/libdigital_otp.a"; }

# 4. One library per platform.
libs="$apple/libs"
rm -rf "$libs"
xcodebuild_args=()
if [ "$mode" = all ]; then
  mkdir -p "$libs/ios" "$libs/ios-simulator"
  cp "$(lib "$ios_device")" "$libs/ios/libdigital_otp.a"
  lipo -create "$(lib "${ios_simulators[0]}")" "$(lib "${ios_simulators[1]}")" -output "$libs/ios-simulator/libdigital_otp.a"
  xcodebuild_args+=(-library "$libs/ios/libdigital_otp.a" -headers "$headers")
  xcodebuild_args+=(-library "$libs/ios-simulator/libdigital_otp.a" -headers "$headers")
fi
mkdir -p "$libs/macos"
lipo -create "$(lib "${macos_targets[0]}")" "$(lib "${macos_targets[1]}")" -output "$libs/macos/libdigital_otp.a"
xcodebuild_args+=(-library "$libs/macos/libdigital_otp.a" -headers "$headers")
for l in "$libs"/*/libdigital_otp.a; do lipo -info "$l"; done

# 5. The XCFramework.
rm -rf "$xcframework"
xcodebuild -create-xcframework "${xcodebuild_args[@]}" -output "$xcframework"
add_privacy_manifest "$xcframework"
echo "build-xcframework: built $xcframework ($mode, features: ${features:-none}) and $swift_source"

# 6. Release artefacts: only for what an app ships (every platform, default features).
if [ "$mode" != all ] || [ -n "$features" ]; then
  echo "build-xcframework: no release zip (it is made by a full build with the default features)"
  exit 0
fi
rm -f "$zip" "$zip.sha256"
ditto -c -k --sequesterRsrc --keepParent "$xcframework" "$zip"
if command -v swift >/dev/null; then
  checksum=$(cd "$package" && swift package compute-checksum "$OLDPWD/$zip")
else
  checksum=$(shasum -a 256 "$zip" | awk '{print $1}') # what compute-checksum computes
fi
echo "$checksum" > "$zip.sha256"
echo "build-xcframework: $zip (checksum $checksum)"
if [ -n "${RELEASE_URL:-}" ]; then
  render_release_package "$RELEASE_URL" "$checksum" "$release_package"
  echo "build-xcframework: release package in $release_package (publish it with tag v$version; see bindings/swift/README.md)"
else
  echo "build-xcframework: set RELEASE_URL to the zip's download URL to write $release_package"
fi
