#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser that takes input from outside the SDK (fuzz/:
# cargo-fuzz and libFuzzer, with AddressSanitizer):
#   request   the issuer's parser of registration requests
#   response  the app's handling of the issuer's answer (no fuzzed answer may complete)
#   stored    what the app's SecureStore hands back (device key, index, credentials)
#   issuer    the issuer's answers to registration requests, login and transaction codes
#   text      registration codes, phone numbers, OCRA suites, otpauth URIs, base32
#             secrets, app passwords, transfers (with round trips where there is a printer)
#   ocra      OCRA suites with generation and verification over arbitrary inputs
#
#   scripts/fuzz.sh                 # every target, 120 s each
#   scripts/fuzz.sh stored 1800     # one target, 30 minutes
#
# Needs a nightly toolchain (`rustup toolchain install nightly`: the sanitizer and
# coverage flags are nightly-only) and cargo-fuzz (installed from crates.io if missing).
# Not part of the test command, since CI has no nightly; tests/fuzz_inputs.rs runs the
# same target bodies on stable over the committed inputs.
#
# Each run starts from fuzz/inputs/<target> (committed seeds) and grows fuzz/corpus/<target>
# (git-ignored). A bug stops the run and leaves fuzz/artifacts/<target>/crash-*: fix it,
# then commit the input as fuzz/inputs/<target>/regression-<what-it-found>.
set -euo pipefail
cd "$(dirname "$0")/.."

all=(request response stored issuer text ocra)
targets=("${1:-}")
[ -n "${1:-}" ] || targets=("${all[@]}")
seconds="${2:-120}"
for t in "${targets[@]}"; do
  printf '%s\n' "${all[@]}" | grep -qx "$t" || { echo "fuzz: unknown target '$t' (${all[*]})" >&2; exit 2; }
done

rustup run nightly rustc --version >/dev/null 2>&1 || {
  echo "fuzz: needs a nightly toolchain: rustup toolchain install nightly" >&2
  exit 1
}
cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --version 0.13.2 --locked

for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t"
  echo "== fuzz $t (${seconds} s)"
  # -O: optimized, with debug assertions; the seeds directory is read, never written.
  log="fuzz/corpus/$t.log"
  status=0
  cargo +nightly fuzz run -O "$t" "fuzz/corpus/$t" "fuzz/inputs/$t" -- \
    -max_total_time="$seconds" -print_final_stats=1 > "$log" 2>&1 || status=$?
  grep -E '^Done [0-9]+ runs|panicked|^SUMMARY|Test unit written' "$log" || true
  [ "$status" = 0 ] || { echo "fuzz: $t found a bug (above; whole log: $log)" >&2; exit 1; }
done
echo "fuzz: no bug found in ${targets[*]} (${seconds} s each)"
