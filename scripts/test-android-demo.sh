#!/usr/bin/env bash
# The Android demo (android-demo/) on the JVM, without Gradle or the Android SDK:
# builds the debug cdylib and generates the Kotlin binding (scripts/generate-bindings.sh),
# then Maven (android-demo/pom.xml)
#   - compiles the flow module with the binding and runs its JUnit 5 tests against the
#     freshly built library through JNA (state machine, sealed file store);
#   - compiles and tests the fake bank (demo only) the same way;
#   - compiles servicebank (demo only: ServiceBankApi, the flow's BankApi over HTTP) and runs
#     the flow against a real `dotp issuer serve`: Maven runs under
#     scripts/with-issuer-service.sh, which starts a throwaway service on a loopback port and
#     exports DIGITAL_OTP_SERVICE_URL, DIGITAL_OTP_SERVICE_INSTITUTION, DIGITAL_OTP_CHANNEL_KEY
#     and DIGITAL_OTP_STAFF_KEY (servicebank/pom.xml hands them to Surefire's JVM);
#   - compiles the Android layer against the Android 14 framework classes
#     (org.robolectric:android-all; compile only, nothing runs).
#
#   scripts/test-android-demo.sh                     # needs JDK 17+, Maven 3.6.3+, Rust
#   scripts/test-android-demo.sh -Dtest=OtpFlowTest  # extra arguments go to Maven
#
# The binding and library are copied to android-demo/target/sdk before Maven starts, so a
# concurrent regeneration of target/ cannot pull them from under the build. Maven downloads
# Kotlin, JUnit, JNA and android-all (~140 MB, once) into ~/.m2. Surefire's summary lines
# are left visible.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in cargo java mvn; do
  command -v "$tool" >/dev/null || { echo "test-android-demo: '$tool' is not installed" >&2; exit 1; }
done

case "$(uname -s)" in
  Darwin) lib=libdigital_otp.dylib ;;
  *) lib=libdigital_otp.so ;;
esac
binding=target/bindings/kotlin/org/digitalotp/digital_otp.kt
snapshot=android-demo/target/sdk

# Generate, then snapshot; another job regenerating at the same moment may remove the
# output between the two steps, so try again a few times.
for attempt in 1 2 3; do
  scripts/generate-bindings.sh
  rm -rf "$snapshot"
  mkdir -p "$snapshot/kotlin/org/digitalotp" "$snapshot/native"
  if cp "$binding" "$snapshot/kotlin/org/digitalotp/" 2>/dev/null && cp "target/debug/$lib" "$snapshot/native/" 2>/dev/null; then
    break
  fi
  [ "$attempt" = 3 ] && { echo "test-android-demo: $binding or target/debug/$lib disappeared after generation" >&2; exit 1; }
  echo "test-android-demo: the generated binding changed under us; generating again" >&2
done

# Maven runs beside a throwaway issuer service (servicebank's tests), started after the
# snapshot: Maven reads only the binding and library copied above.
exec scripts/with-issuer-service.sh mvn -B --no-transfer-progress -f android-demo/pom.xml \
  -Ddigitalotp.bindings.dir="$PWD/$snapshot/kotlin" \
  -Ddigitalotp.native.dir="$PWD/$snapshot/native" \
  test "$@"
