#!/usr/bin/env bash
# Runs the Kotlin binding's JVM test suite (JUnit 5 through Maven Surefire):
# builds the debug cdylib, generates the Kotlin binding from it, compiles both the
# binding and bindings/kotlin/src/test/kotlin with the Kotlin Maven plugin, and runs
# the tests against target/debug/libdigital_otp.so through JNA.
#
#   scripts/test-kotlin.sh                 # needs JDK 17+, Maven 3.6.3+, Rust
#   scripts/test-kotlin.sh -Dtest=OcraTest # extra arguments go to Maven
#
# Maven downloads the Kotlin compiler, JUnit, JNA and org.json from Maven Central
# into ~/.m2 on the first run. Surefire's "Tests run: ..." lines are left visible.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in cargo java mvn; do
  command -v "$tool" >/dev/null || { echo "test-kotlin: '$tool' is not installed" >&2; exit 1; }
done

scripts/generate-bindings.sh

binding=target/bindings/kotlin/org/digitalotp/digital_otp.kt
[ -f "$binding" ] || { echo "test-kotlin: $binding was not generated" >&2; exit 1; }

exec mvn -B --no-transfer-progress -f bindings/kotlin/pom.xml test "$@"
