#!/usr/bin/env bash
# The checks of the Swift bindings that run without a Swift toolchain (on Linux).
# `swift test` itself runs on a Mac (see .github/workflows/swift.yml).
#
#   1. header-compiles        the generated DigitalOTPFFI.h compiles as C (gcc, or clang if present)
#   2. header-matches-library the functions the header declares are exactly the
#                             library's exported uniffi_digital_otp_*/ffi_digital_otp_* symbols
#   3. header-links           a C program referencing every declared function links against
#                             -ldigital_otp and runs (all symbols bound at load)
#   4. checksums-match        the library's contract version and API checksums equal the
#                             values DigitalOTP.swift checks at start-up
#   5. swift-ffi-declared     every FFI function DigitalOTP.swift calls is declared in the header
#   6. package-layout         the staged package files equal the generated ones, the module
#                             map declares module DigitalOTPFFI, git ignores the staged files
#   7+. one check per .swift file: it parses with tree-sitter-swift without ERROR or
#      MISSING nodes (bindings/swift/check_swift_syntax.py): the generated
#      DigitalOTP.swift, bindings/swift/**, ios-demo/** if present
#
# Ends with `N passed, M failed`; exits non-zero if anything failed.
# SWIFT_STATIC_NO_BUILD=1 skips the build and checks the files already staged in
# bindings/swift/Sources (to check hand-edited files, or to see a check fail).
set -uo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

scripts/setup-python.sh || { echo "0 passed, 1 failed"; exit 1; }
if [ "${SWIFT_STATIC_NO_BUILD:-0}" != 1 ]; then
  scripts/build-swift-package.sh 2>&1 || { echo "0 passed, 1 failed"; exit 1; }
fi

profile="${PROFILE:-debug}"
libdir="$root/target/$profile"
generated="$root/target/bindings/swift"
staged_swift="$root/bindings/swift/Sources/DigitalOTP/DigitalOTP.swift"
staged_ffi="$root/bindings/swift/Sources/DigitalOTPFFI"
header="$staged_ffi/DigitalOTPFFI.h"
work="$root/target/swift-static-check"
rm -rf "$work" && mkdir -p "$work"

case "$(uname -s)" in
  Darwin) lib="$libdir/libdigital_otp.dylib"; export DYLD_LIBRARY_PATH="$libdir" ;;
  *) lib="$libdir/libdigital_otp.so"; export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ;;
esac

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
failures=()
pass() { passed=$((passed + 1)); echo "PASS $1${2:+: $2}"; }
fail() {
  failed=$((failed + 1)); failures+=("$1")
  echo "FAIL $1: $2"
  [ -n "${3:-}" ] && [ -s "$3" ] && sed 's/^/    /' "$3"
  return 0
}

# The function names the header declares: every line that starts a declaration
# `<type> <name>(` outside typedefs and preprocessor lines.
declared="$work/declared.txt"
grep -E '^[A-Za-z_][A-Za-z0-9_ ]*[ *]+[A-Za-z_][A-Za-z0-9_]*\(' "$header" | grep -v '^typedef' |
  sed -E 's/^.*[ *]([A-Za-z_][A-Za-z0-9_]*)\(.*$/\1/' | sort > "$declared"
declared_count=$(( $(wc -l < "$declared") ))

# 1. The header compiles, alone (as in `gcc -fsyntax-only -x c`) and included twice
#    from a translation unit with warnings as errors.
check_header_compiles() {
  local log="$work/header.log" standalone_flags=()
  printf '#include "DigitalOTPFFI.h"\n#include "DigitalOTPFFI.h"\nint uniffi_header_check;\n' > "$work/header_twice.c"
  # On its own, the header draws exactly one warning from gcc, "#pragma once in
  # main file" (it has no -Wno- switch); any other warning fails this check.
  for flag in "${cflags[@]}"; do [ "$flag" = -Werror ] || standalone_flags+=("$flag"); done
  if ! "$cc" -fsyntax-only "${standalone_flags[@]}" -x c "$header" > "$log" 2>&1; then
    fail header-compiles "$cc -fsyntax-only -x c cannot compile $header" "$log"; return
  fi
  if grep -E 'warning:' "$log" | grep -qv 'pragma once'; then
    fail header-compiles "$cc warns about $header" "$log"; return
  fi
  if ! "$cc" -fsyntax-only "${cflags[@]}" -I "$staged_ffi" "$work/header_twice.c" > "$log" 2>&1; then
    fail header-compiles "$cc cannot compile a file including the header (twice)" "$log"; return
  fi
  pass header-compiles "$cc ${cflags[*]}"
}

# 2. Declared functions == the library's exported FFI symbols (and, with gcc,
#    == the prototypes gcc itself reports for the header with -aux-info).
check_header_matches_library() {
  local log="$work/symbols.log" exported="$work/exported.txt"
  if [ "$declared_count" -eq 0 ]; then
    fail header-matches-library "no function declarations found in $header"; return
  fi
  if [ "$(uname -s)" = Darwin ]; then
    nm -gU "$lib" | awk '{print $NF}' | sed 's/^_//'
  else
    nm -D --defined-only "$lib" | awk '{print $NF}'
  fi | grep -E '^(uniffi|ffi)_digital_otp_' | sort > "$exported"
  if ! diff "$declared" "$exported" > "$log"; then
    fail header-matches-library "declared (<) and exported (>) functions differ" "$log"; return
  fi
  if [ "$is_gcc" = 1 ]; then
    "$cc" -fsyntax-only "${cflags[@]}" -aux-info "$work/aux.txt" -I "$staged_ffi" "$work/header_twice.c" 2>"$log" ||
      { fail header-matches-library "gcc -aux-info failed" "$log"; return; }
    grep -F "DigitalOTPFFI.h:" "$work/aux.txt" | sed -E 's/^.*[ *]([A-Za-z_][A-Za-z0-9_]*) \(.*$/\1/' | sort -u > "$work/aux_names.txt"
    if ! diff "$declared" "$work/aux_names.txt" > "$log"; then
      fail header-matches-library "the grep of the header (<) and gcc's own list (>) differ" "$log"; return
    fi
  fi
  pass header-matches-library "$declared_count functions declared and exported"
}

# 3. Link and run a program that takes the address of every declared function.
check_header_links() {
  local src="$work/link_all.c" exe="$work/link_all" log="$work/link.log" referenced
  {
    echo '#include <stdio.h>'
    echo '#include "DigitalOTPFFI.h"'
    echo 'typedef void (*any_function)(void);'
    echo 'static const any_function functions[] = {'
    sed 's/.*/    (any_function)\&&,/' "$declared"
    echo '};'
    echo 'static const char *const names[] = {'
    sed 's/.*/    "&",/' "$declared"
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
  if ! "$cc" "${cflags[@]}" -I "$staged_ffi" "$src" -o "$exe" -L "$libdir" -ldigital_otp > "$log" 2>&1; then
    fail header-links "linking against $lib failed" "$log"; return
  fi
  local ran
  if ! ran=$(LD_BIND_NOW=1 "$exe" 2> "$log"); then
    fail header-links "the program did not run" "$log"; return
  fi
  if [ "$declared_count" -le 0 ] || [ "$referenced" -ne "$declared_count" ] || [ "$ran" != "$declared_count" ]; then
    fail header-links "declared $declared_count, referenced $referenced, resolved at run time ${ran:-?}"; return
  fi
  if [ "$(uname -s)" != Darwin ] && ! readelf -d "$exe" | grep -q 'NEEDED.*libdigital_otp\.so'; then
    fail header-links "the program was not linked against the shared library"; return
  fi
  pass header-links "$referenced of $declared_count functions referenced, linked and resolved"
}

# 4. What the generated Swift checks at start-up (uniffiEnsure...Initialized), checked in C.
check_checksums() {
  local src="$work/checksums.c" exe="$work/checksums" log="$work/checksums.log" pairs="$work/checksums.txt"
  local contract declared_checksums
  contract=$(sed -nE 's/^[[:space:]]*let bindings_contract_version = ([0-9]+)[[:space:]]*$/\1/p' "$staged_swift")
  grep -oE 'uniffi_digital_otp_checksum_[A-Za-z0-9_]+\(\) != [0-9]+' "$staged_swift" |
    sed -E 's/^([a-z0-9_]+)\(\) != ([0-9]+)$/\1 \2/' | sort > "$pairs"
  declared_checksums=$(grep -c '_checksum_' "$declared")
  if [ -z "$contract" ] || [ ! -s "$pairs" ]; then
    fail checksums-match "no contract version or checksums found in DigitalOTP.swift"; return
  fi
  if [ "$(( $(wc -l < "$pairs") ))" -ne "$declared_checksums" ]; then
    fail checksums-match "DigitalOTP.swift checks $(( $(wc -l < "$pairs") )) checksums, the header declares $declared_checksums"; return
  fi
  {
    echo '#include <stdio.h>'
    echo '#include "DigitalOTPFFI.h"'
    echo 'int main(void) {'
    echo '    int bad = 0;'
    echo "    if (ffi_digital_otp_uniffi_contract_version() != $contract) { fprintf(stderr, \"contract version %u != $contract\\n\", ffi_digital_otp_uniffi_contract_version()); bad++; }"
    while read -r name value; do
      echo "    if ($name() != $value) { fprintf(stderr, \"$name: %u != $value\\n\", (unsigned) $name()); bad++; }"
    done < "$pairs"
    echo '    return bad != 0;'
    echo '}'
  } > "$src"
  if ! "$cc" "${cflags[@]}" -I "$staged_ffi" "$src" -o "$exe" -L "$libdir" -ldigital_otp > "$log" 2>&1 || ! "$exe" >> "$log" 2>&1; then
    fail checksums-match "the library does not match DigitalOTP.swift (rebuild and regenerate)" "$log"; return
  fi
  pass checksums-match "contract version $contract and $(( $(wc -l < "$pairs") )) API checksums"
}

# 5. Every FFI function the Swift code calls is declared by the header.
check_swift_ffi_declared() {
  local used="$work/swift_uses.txt" log="$work/swift_uses.log"
  grep -oE '\b(uniffi|ffi)_digital_otp_[A-Za-z0-9_]+' "$staged_swift" | sort -u > "$used"
  if [ ! -s "$used" ]; then
    fail swift-ffi-declared "DigitalOTP.swift calls no FFI function?"; return
  fi
  if ! comm -23 "$used" "$declared" > "$log" || [ -s "$log" ]; then
    fail swift-ffi-declared "DigitalOTP.swift calls functions the header does not declare" "$log"; return
  fi
  pass swift-ffi-declared "$(( $(wc -l < "$used") )) functions used, all declared"
}

# 6. Package layout: staged copies, module map, git-ignore.
check_package_layout() {
  local log="$work/layout.log" problems=()
  cmp -s "$generated/DigitalOTP.swift" "$staged_swift" || problems+=("Sources/DigitalOTP/DigitalOTP.swift differs from the generated file")
  cmp -s "$generated/DigitalOTPFFI.h" "$header" || problems+=("Sources/DigitalOTPFFI/DigitalOTPFFI.h differs from the generated file")
  cmp -s "$generated/DigitalOTPFFI.modulemap" "$staged_ffi/module.modulemap" || problems+=("module.modulemap differs from the generated DigitalOTPFFI.modulemap")
  grep -Eq '^[[:space:]]*module[[:space:]]+DigitalOTPFFI[[:space:]]*\{' "$staged_ffi/module.modulemap" || problems+=("module.modulemap does not declare module DigitalOTPFFI")
  grep -q 'header "DigitalOTPFFI.h"' "$staged_ffi/module.modulemap" || problems+=("module.modulemap does not name header DigitalOTPFFI.h")
  grep -q '^import DigitalOTPFFI$' "$staged_swift" || problems+=("DigitalOTP.swift does not import DigitalOTPFFI")
  grep -q 'systemLibrary(name: "DigitalOTPFFI", path: "Sources/DigitalOTPFFI")' bindings/swift/Package.swift || problems+=("Package.swift has no system library target DigitalOTPFFI at Sources/DigitalOTPFFI")
  grep -q '\.linkedLibrary("digital_otp")' bindings/swift/Package.swift || problems+=("Package.swift does not link digital_otp")
  local ignore_note="git-ignored"
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    for f in bindings/swift/Sources/DigitalOTP/DigitalOTP.swift bindings/swift/Sources/DigitalOTPFFI/DigitalOTPFFI.h bindings/swift/Sources/DigitalOTPFFI/module.modulemap; do
      git check-ignore -q "$f" || problems+=("$f is not git-ignored")
    done
  else
    ignore_note="git-ignore not checked: not a git work tree"
  fi
  if [ "${#problems[@]}" -gt 0 ]; then
    printf '%s\n' "${problems[@]}" > "$log"
    fail package-layout "${#problems[@]} problem(s)" "$log"; return
  fi
  pass package-layout "staged files, module DigitalOTPFFI, Package.swift targets, $ignore_note"
}

# 7+. tree-sitter-swift: one check per file.
check_swift_syntax() {
  local log="$work/syntax.log" paths=(target/bindings/swift/DigitalOTP.swift bindings/swift)
  [ -d ios-demo ] && paths+=(ios-demo)
  .venv/bin/python bindings/swift/check_swift_syntax.py "${paths[@]}" > "$log" 2>&1
  local status=$?
  local ok bad
  ok=$(grep -c '^ok ' "$log")
  bad=$(grep -c '^FAIL ' "$log")
  grep -E '^(ok|FAIL) ' "$log" | sed -E 's/^ok +/PASS swift-syntax: /; s/^FAIL +/FAIL swift-syntax: /'
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

check_header_compiles
check_header_matches_library
check_header_links
check_checksums
check_swift_ffi_declared
check_package_layout
check_swift_syntax

if [ "$failed" -gt 0 ]; then
  echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
