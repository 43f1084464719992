#!/usr/bin/env bash
# The checks of the Swift bindings and their Apple packaging that need no Swift toolchain
# and no Xcode: what compiling Swift on Linux does not show (the C header and the link, the
# Apple branch of the manifests, the Apple targets). Nothing here compiles Swift: the Swift
# sources are compiled and their XCTests run by scripts/test-swift.sh (which runs this
# first), the XCFramework and the app on a Mac (.github/workflows/swift.yml).
#
# The bindings the Swift tests use (FEATURES, default issuer,engine,file-store), from
# `scripts/build-xcframework.sh --headers-only`: the host library target/debug, the staged
# bindings/swift/Sources/DigitalOTP/DigitalOTP.swift and the XCFramework's headers folder
# target/apple/headers/DigitalOTPFFI/:
#   header-compiles         DigitalOTPFFI.h compiles as C (gcc, or clang if present)
#   header-matches-library  the functions it declares are exactly the library's exported
#                           uniffi_digital_otp_*/ffi_digital_otp_* symbols
#   header-links            a C program referencing every declared function links against
#                           -ldigital_otp and runs (all symbols bound at load)
#   checksums-match         the library's contract version and API checksums equal the
#                           values DigitalOTP.swift checks at start-up
#   swift-ffi-declared      every FFI function DigitalOTP.swift calls is declared in the header
#   headers-folder          the staged files equal the generated ones; DigitalOTPFFI/ holds
#                           DigitalOTPFFI.h and module.modulemap declaring module DigitalOTPFFI
#                           with that header; Sources/DigitalOTPFFI (the Linux branch's
#                           system library) holds the same header and links digital_otp
#   header-include-path     `#include <DigitalOTPFFI/DigitalOTPFFI.h>` compiles with -I on the
#                           headers folder (how Xcode's copied headers are included)
#   clang-module            `@import DigitalOTPFFI;` with clang -fmodules -I <headers folder>
#                           finds the module map in the subfolder and sees every function
#                           (SKIP without clang: Debian package clang)
#   package-manifest-{apple,linux}
#                           bindings/swift/Package.swift as Apple platforms read it (the
#                           `#else` of `#if os(Linux)`): binaryTarget named ffi_module_name at
#                           the XCFramework build-xcframework.sh writes, target DigitalOTP
#                           (Sources/DigitalOTP) depending on it, platforms == deployment
#                           targets, no unsafeFlags/systemLibrary; as Linux reads it: the
#                           systemLibrary Sources/DigitalOTPFFI instead (check_package_manifest.py)
#   release-manifest        bindings/swift/release/Package.swift.in rendered as a release
#                           (binaryTarget(url:checksum:), the zip named with Cargo.toml's version)
#   demo-manifest           ios-demo/DemoFlow/Package.swift's products resolve in the packages
#                           it uses by path; the paths ios-demo/project.yml names exist
#   privacy-manifest        bindings/swift/Sources/DigitalOTP/PrivacyInfo.xcprivacy is a valid
#                           privacy manifest (check_privacy_manifest.py: plistlib, Apple's keys,
#                           categories and reasons), the manifests list it as a resource of
#                           DigitalOTP (package-manifest-*, release-manifest, which also has it
#                           and every hand-written .swift file of Sources/DigitalOTP, e.g.
#                           DigitalOtp+Async.swift, Redaction.swift, in Sources/), and build-xcframework.sh
#                           copies it into every library slice of an XCFramework
#   git-ignored             the staged Swift source, the XCFramework, the release outputs; the
#                           hand-written .swift files and PrivacyInfo.xcprivacy are not
# The mobile library (`cargo build --lib --profile mobile`: default features, stripped), with
# bindings generated from its static archive (unstripped: same source and features):
#   mobile-header-matches-library, mobile-checksums-match: the same checks against the
#                           stripped shared library: it still exports what the Swift code calls
#   mobile-swift-ffi-declared
#   mobile-features         the mobile header has no issuer, engine or file-store function
# The Apple targets (scripts/check-apple-targets.sh --bindings <mobile bindings>):
#   apple-target <triple>, apple-check <triple>, apple-ios-staticlib
#   privacy-manifest-symbols  the manifest declares exactly the required-reason API categories
#                           whose C functions the iPhone library references (llvm-nm -u)
# And one swift-syntax check per file of the demo app's UI (ios-demo/DigitalOTPDemo: SwiftUI
# and UIKit, which Linux has not): it parses with tree-sitter-swift without ERROR or MISSING
# nodes (bindings/swift/check_swift_syntax.py).
#
# Ends with `N passed, M failed, K skipped`; exits non-zero if anything failed.
# SWIFT_STATIC_NO_BUILD=1 builds nothing: it checks the files already staged (to check
# hand-edited files, or to see a check fail); the mobile and Apple checks are SKIPped.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
root="$PWD"
features="${FEATURES-issuer,engine,file-store}"
no_build="${SWIFT_STATIC_NO_BUILD:-0}"

scripts/setup-python.sh || { echo "0 passed, 1 failed"; exit 1; }
if [ "$no_build" != 1 ]; then
  FEATURES="$features" scripts/build-xcframework.sh --headers-only 2>&1 || { echo "0 passed, 1 failed"; exit 1; }
fi
eval "$(scripts/build-xcframework.sh --print-layout)" || { echo "0 passed, 1 failed"; exit 1; }

python="$root/.venv/bin/python"
generated="$root/target/bindings/swift"
headers_dir="$root/$HEADERS_DIR"
work="$root/target/swift-static-check"
rm -rf "$work" && mkdir -p "$work"

# C compiler: $CC, else clang when present, else gcc. gcc lacks clang's nullability
# qualifiers, so they are defined away for it.
if [ -n "${CC:-}" ]; then cc="$CC"
elif command -v clang >/dev/null; then cc=clang
else cc=gcc
fi
cflags=(-std=c11 -Wall -Wextra -Werror)
if "$cc" --version 2>/dev/null | grep -qi clang; then
  cflags+=(-Wno-nullability-completeness)
  is_gcc=0
else
  cflags+=(-D_Nonnull= -D_Nullable=)
  is_gcc=1
fi

passed=0
failed=0
skipped=0
failures=()
pass() { passed=$((passed + 1)); echo "PASS $1${2:+: $2}"; }
skip() { skipped=$((skipped + 1)); echo "SKIP $1: $2"; }
fail() {
  failed=$((failed + 1)); failures+=("$1")
  echo "FAIL $1: $2"
  [ -n "${3:-}" ] && [ -s "$3" ] && head -n 40 "$3" | sed 's/^/    /'
  return 0
}

# The subject of checks 1-5: a label prefix, a header, a Swift file and a library directory.
subject() { # prefix header swift libdir
  s_prefix="$1" s_header="$2" s_swift="$3" s_libdir="$4"
  s_include="$(dirname "$s_header")"
  s_work="$work/${s_prefix%-}"
  [ -n "$s_prefix" ] || s_work="$work/full"
  mkdir -p "$s_work"
  case "$(uname -s)" in
    Darwin) s_lib="$s_libdir/libdigital_otp.dylib" ;;
    *) s_lib="$s_libdir/libdigital_otp.so" ;;
  esac
  # The function names the header declares: every line that starts a declaration
  # `<type> <name>(` outside typedefs and preprocessor lines.
  s_declared="$s_work/declared.txt"
  grep -E '^[A-Za-z_][A-Za-z0-9_ ]*[ *]+[A-Za-z_][A-Za-z0-9_]*\(' "$s_header" 2>/dev/null | grep -v '^typedef' |
    sed -E 's/^.*[ *]([A-Za-z_][A-Za-z0-9_]*)\(.*$/\1/' | sort > "$s_declared"
  s_declared_count=$(( $(wc -l < "$s_declared") ))
  printf '#include "%s"\n#include "%s"\nint uniffi_header_check;\n' "$FFI_FILENAME.h" "$FFI_FILENAME.h" > "$s_work/header_twice.c"
}
run_with_lib() { # runs a program with the subject's library directory on the loader path
  if [ "$(uname -s)" = Darwin ]; then
    DYLD_LIBRARY_PATH="$s_libdir" "$@"
  else
    LD_LIBRARY_PATH="$s_libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" LD_BIND_NOW=1 "$@"
  fi
}

# 1. The header compiles, alone (as in `gcc -fsyntax-only -x c`) and included twice
#    from a translation unit with warnings as errors.
check_header_compiles() {
  local name="${s_prefix}header-compiles" log="$s_work/header.log" standalone_flags=()
  # On its own, the header draws exactly one warning from gcc, "#pragma once in
  # main file" (it has no -Wno- switch); any other warning fails this check.
  for flag in "${cflags[@]}"; do [ "$flag" = -Werror ] || standalone_flags+=("$flag"); done
  if ! "$cc" -fsyntax-only "${standalone_flags[@]}" -x c "$s_header" > "$log" 2>&1; then
    fail "$name" "$cc -fsyntax-only -x c cannot compile $s_header" "$log"; return
  fi
  if grep -E 'warning:' "$log" | grep -qv 'pragma once'; then
    fail "$name" "$cc warns about $s_header" "$log"; return
  fi
  if ! "$cc" -fsyntax-only "${cflags[@]}" -I "$s_include" "$s_work/header_twice.c" > "$log" 2>&1; then
    fail "$name" "$cc cannot compile a file including the header (twice)" "$log"; return
  fi
  pass "$name" "$cc ${cflags[*]}"
}

# 2. Declared functions == the library's exported FFI symbols (and, with gcc,
#    == the prototypes gcc itself reports for the header with -aux-info).
check_header_matches_library() {
  local name="${s_prefix}header-matches-library" log="$s_work/symbols.log" exported="$s_work/exported.txt" note=""
  if [ "$s_declared_count" -eq 0 ]; then
    fail "$name" "no function declarations found in $s_header"; return
  fi
  if [ ! -f "$s_lib" ]; then
    fail "$name" "$s_lib does not exist"; return
  fi
  if [ "$(uname -s)" = Darwin ]; then
    nm -gU "$s_lib" | awk '{print $NF}' | sed 's/^_//'
  else
    nm -D --defined-only "$s_lib" | awk '{print $NF}'
  fi | grep -E '^(uniffi|ffi)_digital_otp_' | sort > "$exported"
  if ! diff "$s_declared" "$exported" > "$log"; then
    fail "$name" "declared (<) and exported (>) functions differ" "$log"; return
  fi
  if [ "$is_gcc" = 1 ]; then
    "$cc" -fsyntax-only "${cflags[@]}" -aux-info "$s_work/aux.txt" -I "$s_include" "$s_work/header_twice.c" 2>"$log" ||
      { fail "$name" "gcc -aux-info failed" "$log"; return; }
    grep -F "$FFI_FILENAME.h:" "$s_work/aux.txt" | sed -E 's/^.*[ *]([A-Za-z_][A-Za-z0-9_]*) \(.*$/\1/' | sort -u > "$s_work/aux_names.txt"
    if ! diff "$s_declared" "$s_work/aux_names.txt" > "$log"; then
      fail "$name" "the grep of the header (<) and gcc's own list (>) differ" "$log"; return
    fi
  fi
  if [ "$(uname -s)" != Darwin ]; then
    if readelf -S "$s_lib" | grep -q '\.symtab'; then note=", not stripped"; else note=", stripped (no .symtab)"; fi
  fi
  pass "$name" "$s_declared_count functions declared and exported by ${s_lib#"$root"/}$note"
}

# 3. Link and run a program that takes the address of every declared function.
check_header_links() {
  local name="${s_prefix}header-links" src="$s_work/link_all.c" exe="$s_work/link_all" log="$s_work/link.log" referenced
  {
    echo '#include <stdio.h>'
    echo "#include \"$FFI_FILENAME.h\""
    echo 'typedef void (*any_function)(void);'
    echo 'static const any_function functions[] = {'
    sed 's/.*/    (any_function)\&&,/' "$s_declared"
    echo '};'
    echo 'static const char *const names[] = {'
    sed 's/.*/    "&",/' "$s_declared"
    echo '};'
    echo 'int main(void) {'
    echo '    size_t count = sizeof functions / sizeof functions[0];'
    echo '    if (count != sizeof names / sizeof names[0]) return 2;'
    echo '    for (size_t i = 0; i < count; i++) {'
    echo '        if (functions[i] == NULL) { fprintf(stderr, "unresolved: %s\n", names[i]); return 1; }'
    echo '    }'
    echo '    printf("%zu\n", count);'
    echo '    return 0;'
    echo '}'
  } > "$src"
  referenced=$(grep -c '(any_function)&' "$src")
  if ! "$cc" "${cflags[@]}" -I "$s_include" "$src" -o "$exe" -L "$s_libdir" -ldigital_otp > "$log" 2>&1; then
    fail "$name" "linking against $s_lib failed" "$log"; return
  fi
  local ran
  if ! ran=$(run_with_lib "$exe" 2> "$log"); then
    fail "$name" "the program did not run" "$log"; return
  fi
  if [ "$s_declared_count" -le 0 ] || [ "$referenced" -ne "$s_declared_count" ] || [ "$ran" != "$s_declared_count" ]; then
    fail "$name" "declared $s_declared_count, referenced $referenced, resolved at run time ${ran:-?}"; return
  fi
  if [ "$(uname -s)" != Darwin ] && ! readelf -d "$exe" | grep -q 'NEEDED.*libdigital_otp\.so'; then
    fail "$name" "the program was not linked against the shared library"; return
  fi
  pass "$name" "$referenced of $s_declared_count functions referenced, linked and resolved"
}

# 4. What the generated Swift checks at start-up (uniffiEnsure...Initialized), checked in C.
check_checksums() {
  local name="${s_prefix}checksums-match" src="$s_work/checksums.c" exe="$s_work/checksums" log="$s_work/checksums.log" pairs="$s_work/checksums.txt"
  local contract declared_checksums
  contract=$(sed -nE 's/^[[:space:]]*let bindings_contract_version = ([0-9]+)[[:space:]]*$/\1/p' "$s_swift")
  grep -oE 'uniffi_digital_otp_checksum_[A-Za-z0-9_]+\(\) != [0-9]+' "$s_swift" |
    sed -E 's/^([a-z0-9_]+)\(\) != ([0-9]+)$/\1 \2/' | sort > "$pairs"
  declared_checksums=$(grep -c '_checksum_' "$s_declared")
  if [ -z "$contract" ] || [ ! -s "$pairs" ]; then
    fail "$name" "no contract version or checksums found in $s_swift"; return
  fi
  if [ "$(( $(wc -l < "$pairs") ))" -ne "$declared_checksums" ]; then
    fail "$name" "$SWIFT_MODULE.swift checks $(( $(wc -l < "$pairs") )) checksums, the header declares $declared_checksums"; return
  fi
  {
    echo '#include <stdio.h>'
    echo "#include \"$FFI_FILENAME.h\""
    echo 'int main(void) {'
    echo '    int bad = 0;'
    echo "    if (ffi_digital_otp_uniffi_contract_version() != $contract) { fprintf(stderr, \"contract version %u != $contract\\n\", ffi_digital_otp_uniffi_contract_version()); bad++; }"
    while read -r function value; do
      echo "    if ($function() != $value) { fprintf(stderr, \"$function: %u != $value\\n\", (unsigned) $function()); bad++; }"
    done < "$pairs"
    echo '    return bad != 0;'
    echo '}'
  } > "$src"
  if ! "$cc" "${cflags[@]}" -I "$s_include" "$src" -o "$exe" -L "$s_libdir" -ldigital_otp > "$log" 2>&1 || ! run_with_lib "$exe" >> "$log" 2>&1; then
    fail "$name" "${s_lib#"$root"/} does not match $SWIFT_MODULE.swift (rebuild and regenerate)" "$log"; return
  fi
  pass "$name" "contract version $contract and $(( $(wc -l < "$pairs") )) API checksums of ${s_lib#"$root"/}"
}

# 5. Every FFI function the Swift code calls is declared by the header.
check_swift_ffi_declared() {
  local name="${s_prefix}swift-ffi-declared" used="$s_work/swift_uses.txt" log="$s_work/swift_uses.log"
  grep -oE '\b(uniffi|ffi)_digital_otp_[A-Za-z0-9_]+' "$s_swift" | sort -u > "$used"
  if [ ! -s "$used" ]; then
    fail "$name" "$s_swift calls no FFI function?"; return
  fi
  if ! comm -23 "$used" "$s_declared" > "$log" || [ -s "$log" ]; then
    fail "$name" "$SWIFT_MODULE.swift calls functions the header does not declare" "$log"; return
  fi
  pass "$name" "$(( $(wc -l < "$used") )) functions used, all declared"
}

# 6. The staged files and the headers folder of the XCFramework.
check_headers_folder() {
  local log="$work/headers-folder.log" problems=() map="$headers_dir/$FFI_MODULE/module.modulemap"
  cmp -s "$generated/$SWIFT_MODULE.swift" "$root/$SWIFT_SOURCE" || problems+=("$SWIFT_SOURCE differs from the generated $SWIFT_MODULE.swift")
  cmp -s "$generated/$FFI_FILENAME.h" "$headers_dir/$FFI_MODULE/$FFI_FILENAME.h" || problems+=("$HEADERS_DIR/$FFI_MODULE/$FFI_FILENAME.h differs from the generated header")
  cmp -s "$generated/$FFI_FILENAME.modulemap" "$map" || problems+=("$HEADERS_DIR/$FFI_MODULE/module.modulemap differs from the generated $FFI_FILENAME.modulemap")
  local extra
  extra=$(cd "$headers_dir" && find . -mindepth 1 | sort | tr '\n' ' ')
  [ "$extra" = "./$FFI_MODULE ./$FFI_MODULE/$FFI_FILENAME.h ./$FFI_MODULE/module.modulemap " ] ||
    problems+=("$HEADERS_DIR holds '$extra', expected exactly $FFI_MODULE/{$FFI_FILENAME.h,module.modulemap}")
  grep -Eq "^[[:space:]]*module[[:space:]]+${FFI_MODULE}[[:space:]]*\{" "$map" 2>/dev/null || problems+=("module.modulemap does not declare module $FFI_MODULE")
  grep -q "header \"$FFI_FILENAME.h\"" "$map" 2>/dev/null || problems+=("module.modulemap does not name header $FFI_FILENAME.h")
  grep -q "^import $FFI_MODULE\$" "$root/$SWIFT_SOURCE" || problems+=("$SWIFT_MODULE.swift does not import $FFI_MODULE")
  # The Linux branch's system library: the same header, a module map that links the library.
  local linux_map="$LINUX_FFI_DIR/module.modulemap"
  cmp -s "$generated/$FFI_FILENAME.h" "$LINUX_FFI_DIR/$FFI_FILENAME.h" || problems+=("$LINUX_FFI_DIR/$FFI_FILENAME.h differs from the generated header")
  grep -Eq "^[[:space:]]*module[[:space:]]+${FFI_MODULE}[[:space:]]*\{" "$linux_map" 2>/dev/null || problems+=("$linux_map does not declare module $FFI_MODULE")
  grep -q "header \"$FFI_FILENAME.h\"" "$linux_map" 2>/dev/null || problems+=("$linux_map does not name header $FFI_FILENAME.h")
  grep -q 'link "digital_otp"' "$linux_map" 2>/dev/null || problems+=("$linux_map does not link digital_otp")
  if [ "${#problems[@]}" -gt 0 ]; then
    printf '%s\n' "${problems[@]}" > "$log"
    fail headers-folder "${#problems[@]} problem(s)" "$log"; return
  fi
  pass headers-folder "$HEADERS_DIR/$FFI_MODULE/{$FFI_FILENAME.h,module.modulemap} (module $FFI_MODULE), $LINUX_FFI_DIR (links digital_otp), $SWIFT_SOURCE staged"
}

# 7. The header included by its path in the headers folder.
check_header_include_path() {
  local src="$work/include_path.c" log="$work/include_path.log"
  printf '#include <%s/%s.h>\nunsigned check(void) { return ffi_digital_otp_uniffi_contract_version(); }\n' "$FFI_MODULE" "$FFI_FILENAME" > "$src"
  if ! "$cc" -fsyntax-only "${cflags[@]}" -I "$headers_dir" "$src" > "$log" 2>&1; then
    fail header-include-path "#include <$FFI_MODULE/$FFI_FILENAME.h> with -I $HEADERS_DIR does not compile" "$log"; return
  fi
  pass header-include-path "#include <$FFI_MODULE/$FFI_FILENAME.h> with -I $HEADERS_DIR ($cc)"
}

# 8. The module map, through clang's module lookup (what Swift's importer does).
check_clang_module() {
  local src="$work/module_import.m" log="$work/module_import.log"
  if ! command -v clang >/dev/null; then
    skip clang-module "clang is not installed (Debian package clang)"; return
  fi
  {
    echo "@import $FFI_MODULE;"
    echo 'typedef void (*any_function)(void);'
    echo 'const any_function every_function[] = {'
    sed 's/.*/    (any_function)\&&,/' "$work/full/declared.txt"
    echo '};'
  } > "$src"
  if ! clang -fmodules -fsyntax-only -x objective-c -fmodules-cache-path="$work/module-cache" \
      -Wall -Werror -Wno-nullability-completeness -I "$headers_dir" "$src" > "$log" 2>&1; then
    fail clang-module "clang -fmodules: @import $FFI_MODULE with -I $HEADERS_DIR failed" "$log"; return
  fi
  pass clang-module "@import $FFI_MODULE found $HEADERS_DIR/$FFI_MODULE/module.modulemap; $(wc -l < "$work/full/declared.txt") functions visible ($(clang --version | head -1))"
}

# 9-11. Package manifests.
check_package_manifest() {
  local log="$work/package-manifest.log" platform
  for platform in apple linux; do
    if "$python" bindings/swift/check_package_manifest.py sdk "$PACKAGE_DIR/Package.swift" --platform "$platform" \
        --swift-module "$SWIFT_MODULE" --ffi-module "$FFI_MODULE" --xcframework-path "${XCFRAMEWORK#"$PACKAGE_DIR"/}" \
        --ios "$IOS_DEPLOYMENT_TARGET" --macos "$MACOS_DEPLOYMENT_TARGET" --tests "${SWIFT_MODULE}Tests" \
        --resource "$(basename "$PRIVACY_MANIFEST")" > "$log" 2>&1; then
      pass "package-manifest-$platform" "$(sed 's/^ok //' "$log")"
    else
      fail "package-manifest-$platform" "$PACKAGE_DIR/Package.swift as $platform reads it does not match the build" "$log"
    fi
  done
}
release_dir="$work/release-package"
# The hand-written Swift files (build-xcframework.sh: every .swift of the target but the generated one).
read -r -a handwritten_sources <<< "$SWIFT_HANDWRITTEN_SOURCES"
handwritten_names() { local f names=(); for f in "${handwritten_sources[@]}"; do names+=("$(basename "$f")"); done; echo "${names[*]}"; }
release_has_handwritten() { # each one copied unchanged into the rendered release package
  local f
  [ "${#handwritten_sources[@]}" -gt 0 ] || return 1
  for f in "${handwritten_sources[@]}"; do
    cmp -s "$release_dir/Sources/$SWIFT_MODULE/$(basename "$f")" "$root/$f" || return 1
  done
}
check_release_manifest() {
  local log="$work/release-manifest.log" url="https://example.invalid/digital-otp/releases/download/$TAG/$FFI_MODULE-$VERSION.xcframework.zip"
  local checksum
  checksum=$(printf '%s' "$VERSION" | sha256sum | awk '{print $1}') # a stand-in: no zip is built here
  if ! scripts/build-xcframework.sh --render-release-package "$url" "$checksum" "$release_dir" > "$log" 2>&1; then
    fail release-manifest "rendering $RELEASE_TEMPLATE failed" "$log"; return
  fi
  if "$python" bindings/swift/check_package_manifest.py sdk "$release_dir/Package.swift" \
      --swift-module "$SWIFT_MODULE" --ffi-module "$FFI_MODULE" --release-version "$VERSION" \
      --ios "$IOS_DEPLOYMENT_TARGET" --macos "$MACOS_DEPLOYMENT_TARGET" --resource "$(basename "$PRIVACY_MANIFEST")" > "$log" 2>&1 &&
     cmp -s "$release_dir/Sources/$SWIFT_MODULE/$SWIFT_MODULE.swift" "$root/$SWIFT_SOURCE" &&
     release_has_handwritten &&
     cmp -s "$release_dir/Sources/$SWIFT_MODULE/$(basename "$PRIVACY_MANIFEST")" "$root/$PRIVACY_MANIFEST"; then
    pass release-manifest "$RELEASE_TEMPLATE for $TAG: binaryTarget(url: …/$FFI_MODULE-$VERSION.xcframework.zip, checksum:), target $SWIFT_MODULE with the hand-written $(handwritten_names) and the privacy manifest, no tests"
  else
    fail release-manifest "the rendered release manifest does not match the build" "$log"
  fi
}
check_demo_manifest() {
  local log="$work/demo-manifest.log" problems=()
  if [ ! -f ios-demo/DemoFlow/Package.swift ]; then
    skip demo-manifest "no ios-demo/DemoFlow/Package.swift"; return
  fi
  "$python" bindings/swift/check_package_manifest.py consumer ios-demo/DemoFlow/Package.swift > "$log" 2>&1 ||
    problems+=("$(cat "$log")")
  # Every `path:` of the XcodeGen spec exists (relative to ios-demo/).
  local path
  while read -r path; do
    [ -e "ios-demo/$path" ] || problems+=("ios-demo/project.yml: path $path does not exist")
  done < <(sed -nE 's/^[[:space:]]*(- )?path:[[:space:]]*"?([^"#]*[^"#[:space:]])"?[[:space:]]*(#.*)?$/\2/p' ios-demo/project.yml)
  grep -q "path: ../$PACKAGE_DIR\$" ios-demo/project.yml || problems+=("ios-demo/project.yml does not use the package ../$PACKAGE_DIR")
  if [ "${#problems[@]}" -gt 0 ]; then
    printf '%s\n' "${problems[@]}" > "$log"
    fail demo-manifest "${#problems[@]} problem(s)" "$log"; return
  fi
  pass demo-manifest "ios-demo/DemoFlow/Package.swift: products resolved; ios-demo/project.yml paths exist"
}

# 12a. Apple's privacy manifest: a valid one (check_privacy_manifest.py), and the full build
#      puts it into every library slice of the XCFramework (run on a stand-in XCFramework).
check_privacy_manifest() {
  local log="$work/privacy-manifest.log" fake="$work/privacy-xcframework/$FFI_MODULE.xcframework" problems=() slice
  if ! "$python" bindings/swift/check_privacy_manifest.py "$PRIVACY_MANIFEST" > "$log" 2>&1; then
    fail privacy-manifest "$PRIVACY_MANIFEST is not a valid privacy manifest" "$log"; return
  fi
  local summary
  summary=$(sed 's/^ok [^:]*: //' "$log")
  rm -rf "$work/privacy-xcframework"
  for slice in ios-arm64 ios-arm64_x86_64-simulator macos-arm64_x86_64; do
    mkdir -p "$fake/$slice/Headers" && : > "$fake/$slice/libdigital_otp.a"
  done
  if ! scripts/build-xcframework.sh --add-privacy-manifest "$fake" > "$log" 2>&1; then
    fail privacy-manifest "scripts/build-xcframework.sh --add-privacy-manifest failed" "$log"; return
  fi
  for slice in ios-arm64 ios-arm64_x86_64-simulator macos-arm64_x86_64; do
    cmp -s "$fake/$slice/PrivacyInfo.xcprivacy" "$PRIVACY_MANIFEST" || problems+=("$slice/PrivacyInfo.xcprivacy is not a copy of $PRIVACY_MANIFEST")
  done
  [ ! -e "$fake/PrivacyInfo.xcprivacy" ] || problems+=("a PrivacyInfo.xcprivacy at the top of the XCFramework")
  # The full build runs it on the XCFramework it has just created, before zipping it.
  grep -A1 -- '^xcodebuild -create-xcframework .*-output "\$xcframework"$' scripts/build-xcframework.sh | grep -qx 'add_privacy_manifest "\$xcframework"' ||
    problems+=("scripts/build-xcframework.sh does not run add_privacy_manifest right after xcodebuild -create-xcframework")
  if [ "${#problems[@]}" -gt 0 ]; then
    printf '%s\n' "${problems[@]}" > "$log"
    fail privacy-manifest "${#problems[@]} problem(s)" "$log"; return
  fi
  pass privacy-manifest "$PRIVACY_MANIFEST: a valid manifest, no tracking, no data collected, $summary; copied into every library slice of the XCFramework"
}

# 12b. The privacy manifest against the iPhone library (built by the Apple checks): it
#      declares exactly the required-reason API categories whose functions the library uses.
check_privacy_symbols() {
  local log="$work/privacy-symbols.log" lib="target/aarch64-apple-ios/mobile/libdigital_otp.a" nm
  nm=$(command -v llvm-nm || compgen -c llvm-nm- 2>/dev/null | sort -rV | head -n 1)
  if [ ! -f "$lib" ] || [ -z "$nm" ]; then
    skip privacy-manifest-symbols "no $lib (apple-ios-staticlib) or no llvm-nm"; return
  fi
  if "$python" bindings/swift/check_privacy_manifest.py "$PRIVACY_MANIFEST" --library "$lib" --nm "$nm" > "$log" 2>&1; then
    pass privacy-manifest-symbols "$(sed 's/^ok [^:]*: //' "$log")"
  else
    fail privacy-manifest-symbols "the privacy manifest does not match what $lib uses" "$log"
  fi
}

# 12. Build outputs are git-ignored.
check_git_ignored() {
  local log="$work/git-ignored.log" problems=()
  if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    skip git-ignored "not a git work tree"; return
  fi
  local f
  for f in "$SWIFT_SOURCE" "$XCFRAMEWORK/Info.plist" "$XCFRAMEWORK/ios-arm64/Headers/$FFI_MODULE/module.modulemap" \
           "$HEADERS_DIR/$FFI_MODULE/module.modulemap" "$LINUX_FFI_DIR/module.modulemap" "$ZIP" "$RELEASE_PACKAGE_DIR/Package.swift" \
           ios-demo/DigitalOTPDemo.xcodeproj/project.pbxproj "$PACKAGE_DIR/.build/x" ios-demo/DemoFlow/.build/x; do
    git check-ignore -q --no-index "$f" || problems+=("$f is not git-ignored")
  done
  local tracked handwritten
  # The hand-written files of the target are committed, never ignored; nothing else is tracked.
  for handwritten in "${handwritten_sources[@]}" "$PRIVACY_MANIFEST"; do
    ! git check-ignore -q --no-index "$handwritten" || problems+=("$handwritten (hand-written) is git-ignored")
  done
  local exclude=(-e "$PRIVACY_MANIFEST")
  for handwritten in "${handwritten_sources[@]}"; do exclude+=(-e "$handwritten"); done
  tracked=$(git ls-files "$PACKAGE_DIR/Sources" "$XCFRAMEWORK" | grep -vxF "${exclude[@]}")
  [ -z "$tracked" ] || problems+=("tracked build outputs: $tracked")
  if [ "${#problems[@]}" -gt 0 ]; then
    printf '%s\n' "${problems[@]}" > "$log"
    fail git-ignored "${#problems[@]} problem(s)" "$log"; return
  fi
  pass git-ignored "$SWIFT_SOURCE, $XCFRAMEWORK, target/apple, the demo's Xcode project and .build folders (not the hand-written $(handwritten_names) and $(basename "$PRIVACY_MANIFEST"))"
}

# 13. The mobile library: default features, profile `mobile` (stripped).
mobile_bindings="$work/mobile-bindings"
mobile_ready=0
build_mobile() {
  local log="$work/mobile-build.log"
  if [ "$no_build" = 1 ]; then
    skip mobile "SWIFT_STATIC_NO_BUILD=1"; return
  fi
  if ! cargo build --quiet --lib --profile mobile > "$log" 2>&1; then
    fail mobile-build "cargo build --lib --profile mobile failed" "$log"; return
  fi
  if ! ./target/debug/uniffi-bindgen generate --no-format --language swift --out-dir "$mobile_bindings" \
      target/mobile/libdigital_otp.a > "$log" 2>&1; then
    fail mobile-build "uniffi-bindgen could not generate from target/mobile/libdigital_otp.a" "$log"; return
  fi
  mobile_ready=1
}
check_mobile_features() {
  local log="$work/mobile/features.log"
  grep -E '_(issuer|smsgateway|hotp|totp|ocra|ocrapin|otpauthuri|otpsecret)_|_file_store' "$s_declared" > "$log"
  if [ -s "$log" ]; then
    fail mobile-features "the mobile header declares issuer/engine/file-store functions" "$log"; return
  fi
  pass mobile-features "$s_declared_count functions, none of the issuer, engine or file store (full header: $(wc -l < "$work/full/declared.txt"))"
}

# 15. tree-sitter-swift: one check per file of the demo app's UI (SwiftUI/UIKit, which no
#     Linux Swift has). Everything else is compiled by scripts/test-swift.sh.
check_swift_syntax() {
  local log="$work/syntax.log" paths=(ios-demo/DigitalOTPDemo)
  "$python" bindings/swift/check_swift_syntax.py "${paths[@]}" > "$log" 2>&1
  local status=$?
  local ok bad
  ok=$(grep -c '^ok ' "$log")
  bad=$(grep -c '^FAIL ' "$log")
  grep -E '^(ok|FAIL) ' "$log" | sed -E "s#$root/##; s/^ok +/PASS swift-syntax: /; s/^FAIL +/FAIL swift-syntax: /"
  grep -E '^  ' "$log" || true
  passed=$((passed + ok))
  failed=$((failed + bad))
  [ "$bad" -gt 0 ] && failures+=("swift-syntax ($bad files)")
  if [ "$status" -ne 0 ] && [ "$bad" -eq 0 ]; then
    failed=$((failed + 1)); failures+=("swift-syntax")
    echo "FAIL swift-syntax: check_swift_syntax.py exited with $status"
    sed 's/^/    /' "$log"
  fi
  if [ "$ok" -eq 0 ] && [ "$bad" -eq 0 ] && [ "$status" -eq 0 ]; then
    failed=$((failed + 1)); failures+=("swift-syntax: no files checked")
    echo "FAIL swift-syntax: no Swift files were checked"
  fi
}

# The bindings the Swift tests use (FEATURES).
echo "== the bindings of the Swift tests (features: $(cat target/apple/features 2>/dev/null || echo "$features"))"
subject "" "$headers_dir/$FFI_MODULE/$FFI_FILENAME.h" "$root/$SWIFT_SOURCE" "$root/target/debug"
check_header_compiles
check_header_matches_library
check_header_links
check_checksums
check_swift_ffi_declared
check_headers_folder
check_header_include_path
check_clang_module
check_package_manifest
check_release_manifest
check_demo_manifest
check_privacy_manifest
check_git_ignored

echo "== the mobile library (default features, profile mobile)"
build_mobile
if [ "$mobile_ready" = 1 ]; then
  subject mobile- "$mobile_bindings/$FFI_FILENAME.h" "$mobile_bindings/$SWIFT_MODULE.swift" "$root/target/mobile"
  check_header_matches_library
  check_checksums
  check_swift_ffi_declared
  check_mobile_features
fi

echo "== the Apple targets"
if [ "$no_build" = 1 ]; then
  skip apple "SWIFT_STATIC_NO_BUILD=1"
elif [ "$mobile_ready" != 1 ]; then
  skip apple "no mobile bindings to compare with"
else
  apple_log="$work/apple.log"
  scripts/check-apple-targets.sh --bindings "$mobile_bindings" > "$apple_log" 2>&1
  apple_status=$?
  grep -E '^(PASS|SKIP|FAIL|    )' "$apple_log"
  passed=$((passed + $(grep -c '^PASS ' "$apple_log")))
  skipped=$((skipped + $(grep -c '^SKIP ' "$apple_log")))
  apple_failed=$(grep -c '^FAIL ' "$apple_log")
  failed=$((failed + apple_failed))
  [ "$apple_failed" -gt 0 ] && failures+=("apple ($apple_failed)")
  if [ "$apple_status" -ne 0 ] && [ "$apple_failed" -eq 0 ]; then
    failed=$((failed + 1)); failures+=("apple")
    echo "FAIL apple: scripts/check-apple-targets.sh exited with $apple_status"
    tail -n 20 "$apple_log" | sed 's/^/    /'
  fi
fi

echo "== the privacy manifest against the iPhone library"
if [ "$no_build" = 1 ]; then
  skip privacy-manifest-symbols "SWIFT_STATIC_NO_BUILD=1"
else
  check_privacy_symbols
fi

echo "== Swift syntax (tree-sitter-swift)"
check_swift_syntax

if [ "$failed" -gt 0 ]; then
  echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
