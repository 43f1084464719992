#!/usr/bin/env bash
# Per-call cost of the Kotlin binding on the JVM, against javax.crypto.Mac (issue 18,
# item 3). A benchmark, not a test: scripts/test-all.sh does not run it.
#
#   scripts/bench-kotlin.sh                 # release cdylib, then the debug one
#   PROFILES=release scripts/bench-kotlin.sh
#   scripts/bench-kotlin.sh --profile       # + JFR on Totp.codeForStep: top frames
#
# Builds the cdylib (`cargo build --lib --features issuer,engine,file-store`, what the
# Kotlin binding and its tests use) for each profile, generates the Kotlin binding from
# the release build with the crate's uniffi-bindgen into $CARGO_TARGET_DIR/bench-bindings,
# compiles it with bindings/kotlin/bench (Maven, Kotlin and JNA only) and runs the
# benchmark main in a plain `java` with jna.library.path set to the profile's directory.
# Prints ns per call (median and best of the batches) and the ratio to the javax.crypto
# TOTP with a precomputed Mac; the load average is printed with it (timings on a loaded
# machine are noisy). Knobs: -Dbench.warmupMs, -Dbench.batchMs, -Dbench.batches in
# JAVA_OPTS.
set -euo pipefail
cd "$(dirname "$0")/.."

profile_run=false
[ "${1-}" = --profile ] && profile_run=true

for tool in cargo java mvn; do
  command -v "$tool" >/dev/null || { echo "bench-kotlin: '$tool' is not installed" >&2; exit 1; }
done

target="${CARGO_TARGET_DIR:-target}"
features=issuer,engine,file-store
profiles="${PROFILES-release debug}"
case "$(uname -s)" in
  Darwin) libname=libdigital_otp.dylib ;;
  *) libname=libdigital_otp.so ;;
esac

cargo build --quiet --release --lib --features "$features"
for p in $profiles; do
  [ "$p" = release ] || cargo build --quiet --lib --features "$features"
done
cargo build --quiet --features bindgen --bin uniffi-bindgen

bindings="$(cd "$target" && pwd)/bench-bindings/kotlin"
rm -rf "$bindings"
"$target/debug/uniffi-bindgen" generate --no-format --language kotlin \
  --out-dir "$bindings" "$target/release/$libname" >/dev/null

mvn -B -q --no-transfer-progress -f bindings/kotlin/bench/pom.xml \
  "-Ddigitalotp.bindings.dir=$bindings" compile
out=bindings/kotlin/target/bench
classpath="$out/classes:$(cat "$out/classpath.txt")"

run() { # profile jvm-args...
  local p="$1"; shift
  # shellcheck disable=SC2086 # JAVA_OPTS is a list of flags
  java ${JAVA_OPTS-} "-Djna.library.path=$(cd "$target/$p" && pwd)" -cp "$classpath" "$@"
}

for p in $profiles; do
  echo "== $target/$p/$libname ($(java -version 2>&1 | head -1); $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg))"
  run "$p" org.digitalotp.bench.KotlinBenchKt
  echo "   load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
done

if $profile_run; then
  jfr_file="$out/codeForStep.jfr"
  echo "== JFR, Totp.codeForStep on the release cdylib: top frames of jdk.ExecutionSample"
  run release -Dbench.warmupMs=3000 -Dbench.batches=100 \
    "-XX:StartFlightRecording=filename=$jfr_file,settings=profile" \
    org.digitalotp.bench.KotlinBenchKt Totp.codeForStep >/dev/null 2>&1
  # The top frame of each sample, and every method on the sampled stacks (inclusive).
  jfr print --events jdk.ExecutionSample --stack-depth 64 "$jfr_file" | awk '
    /stackTrace = \[/ { depth = 0; inside = 1; total++; delete seen; next }
    inside && /^[[:space:]]*\]/ { inside = 0; next }
    inside && NF {
      frame = $1; sub(/\(.*/, "", frame)
      if (depth++ == 0) top[frame]++
      if (!(frame in seen)) { seen[frame] = 1; incl[frame]++ }
    }
    END {
      printf "%d samples\n-- top frame (self)\n", total
      for (f in top) printf "%6.1f%%  %s\n", 100 * top[f] / total, f | "sort -rn | head -25"
      close("sort -rn | head -25")
      printf "-- on the stack (inclusive)\n"
      for (f in incl) printf "%6.1f%%  %s\n", 100 * incl[f] / total, f | "sort -rn | head -30"
    }'
fi
