#!/usr/bin/env bash
# The Android packaging (scripts/build-android.sh, bindings/android, .cargo/config.toml),
# checked as far as it can be without the NDK, the Android SDK and Gradle:
#   1. binding   scripts/build-android.sh --bindings-only generates the Kotlin binding with the
#                Android settings; it differs from the JVM one (same host library, uniffi.toml
#                alone) only by the Android cleaner and the absent API checksum checks, and
#                uniffi.toml itself stays without android/omit_checksums;
#   2. compile   Maven (bindings/android/check/pom.xml) compiles that binding and the
#                hand-written suspending wrappers (bindings/kotlin/src/coroutines) with kotlinc
#                against android-all (Android 14), JNA and kotlinx-coroutines, warnings as
#                errors, runs the version-reading function of build.gradle.kts against
#                Cargo.toml and parses the Gradle scripts with Kotlin's parser (JUnit); JNA's AAR carries
#                libjnidispatch.so for every ABI built;
#   3. gradle    the Gradle files agree with the generated names (package, library name,
#                binding path), with the script (ABIs, minSdk) and with the other builds
#                (JNA, Kotlin, AGP, kotlinx-coroutines); the AAR compiles the wrappers; the
#                version comes from Cargo.toml; consumer rules keep what JNA reflects on and
#                the annotations it reads (-keepattributes); .cargo/config.toml touches only
#                the mobile targets; the build outputs are git-ignored;
#   4. targets   `rustup target add` of the three Android targets (at most 120 s, SKIP when the
#                download server is unreachable) and `cargo check --lib --profile mobile
#                --target <t>` of each, ring's C and assembly compiled by the host's clang
#                without a sysroot (SKIP when there is no clang).
# What needs the NDK, the SDK or Gradle (linking the .so, the AAR, a device) is not run here.
#
#   scripts/test-android-package.sh                                 # JDK 17+, Maven, Rust, Python 3
#   DOTP_REQUIRE_ANDROID_TARGETS=1 scripts/test-android-package.sh  # step 4 may not SKIP
#
# Prints PASS/FAIL/SKIP lines and "N passed, M failed, K skipped"; exits 1 on any FAIL.
# Debian/Ubuntu packages for step 4: clang (it brings llvm-ar-<version>).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

for tool in cargo java mvn python3; do
  command -v "$tool" >/dev/null || { echo "test-android-package: '$tool' is not installed" >&2; exit 1; }
done

passed=0 failed=0 skipped=0
pass() { echo "PASS: $1"; passed=$((passed + 1)); }
fail() {
  echo "FAIL: $1"
  failed=$((failed + 1))
  if [ -n "${2:-}" ]; then printf '%s\n' "$2" | tail -n 40 | sed 's/^/      /'; fi
}
skip() {
  echo "SKIP: $1"
  skipped=$((skipped + 1))
  if [ -n "${2:-}" ]; then printf '%s\n' "$2" | tail -n 5 | sed 's/^/      /'; fi
}
# check NAME COMMAND...: PASS when COMMAND succeeds, else FAIL with its output.
check() {
  local name=$1 out
  shift
  if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$out"; fi
}

work="${CARGO_TARGET_DIR:-target}/android-package-check"
mkdir -p "$work"
work=$(cd "$work" && pwd)

settings=$(scripts/build-android.sh --print-settings) || { echo "FAIL: scripts/build-android.sh --print-settings"; exit 1; }
setting() { sed -n "s/^$1=//p" <<<"$settings"; }
min_sdk=$(setting min_sdk)
abis=$(setting abis)
rust_targets=$(setting rust_targets)
host_lib=$(setting host_library)
bindgen=$(setting bindgen)

gradle_dir=bindings/android
gradle_build=$gradle_dir/build.gradle.kts
catalog=$gradle_dir/gradle/libs.versions.toml
check_pom=$gradle_dir/check/pom.xml

# toml FILE KEY.PATH: one value of a TOML file (Python 3.11's tomllib), or nothing.
toml() {
  python3 - "$1" "$2" <<'EOF'
import sys, tomllib
value = tomllib.load(open(sys.argv[1], "rb"))
for key in sys.argv[2].split("."):
    value = value.get(key, {}) if isinstance(value, dict) else {}
print(value if isinstance(value, str) else "")
EOF
}
# pom_property POM NAME: a <properties> value of a pom.
pom_property() { sed -n "s:.*<$2>\(.*\)</$2>.*:\1:p" "$1" | head -n 1; }

kotlin_package=$(toml uniffi.toml bindings.kotlin.package_name)
cdylib_name=$(toml uniffi.toml bindings.kotlin.cdylib_name)
lib_name=$(toml Cargo.toml lib.name)

# ---- 1. the Android-flavoured binding -------------------------------------------------------
echo "== 1. binding (scripts/build-android.sh --bindings-only)"
android_dir="$work/kotlin-android"
jvm_dir="$work/kotlin-jvm"
rm -rf "$android_dir" "$jvm_dir"
binding_rel="${kotlin_package//.//}/digital_otp.kt"
android_kt="$android_dir/$binding_rel"
jvm_kt="$jvm_dir/$binding_rel"
generated=0
if out=$(scripts/build-android.sh --bindings-only --kotlin-out "$android_dir" 2>&1) && [ -f "$android_kt" ]; then
  pass "generate: scripts/build-android.sh --bindings-only wrote $binding_rel (Android settings, from $host_lib)"
  if out=$("$bindgen" generate --no-format --language kotlin --out-dir "$jvm_dir" "$host_lib" 2>&1) && [ -f "$jvm_kt" ]; then
    generated=1
  else
    fail "generate: the JVM binding from the same library (uniffi.toml only)" "$out"
  fi
else
  fail "generate: scripts/build-android.sh --bindings-only" "$out"
fi

if [ "$generated" = 1 ]; then
  # Every line only in one of the two files must belong to the cleaner or to the checksums.
  check "binding: differs from the JVM one only by the cleaner and the checksum checks (same API, same native symbols)" \
    python3 - "$jvm_kt" "$android_kt" <<'EOF'
import difflib, re, sys
jvm = open(sys.argv[1]).read().splitlines()
android = open(sys.argv[2]).read().splitlines()
def significant(lines):
    return [l.strip() for l in lines if l.strip() and not l.strip().startswith("//")]
only_jvm, only_android = [], []
for op, a1, a2, b1, b2 in difflib.SequenceMatcher(None, jvm, android, autojunk=False).get_opcodes():
    if op != "equal":
        only_jvm += significant(jvm[a1:a2])
        only_android += significant(android[b1:b2])
neutral = [r"^[{}()\s,]*$", r"^\} else \{$"]
android_ok = neutral + [r"^import android\.os\.Build$", r"^import androidx\.annotation\.RequiresApi$",
                        r"Build\.VERSION", r"RequiresApi", r"AndroidSystemClean", r"android\.system\.SystemCleaner",
                        r"java\.lang\.ref\.Cleaner\.Cleanable"]
jvm_ok = neutral + [r"(?i)checksum", r"^@Suppress\(\"UNUSED_PARAMETER\"\)$", r"^throw RuntimeException\(\"UniFFI API checksum mismatch",
                    r"JavaLangRefClean", r"java\.lang\.ref\.Cleaner", r"Class\.forName", r"^try \{$", r"ClassNotFoundException",
                    r"^UniffiJnaCleaner\(\)$"]
bad = [("Android", l) for l in only_android if not any(re.search(p, l) for p in android_ok)]
bad += [("JVM", l) for l in only_jvm if not any(re.search(p, l) for p in jvm_ok)]
for side, line in bad:
    print(f"unexpected line only in the {side} binding: {line}")
print(f"{len(only_android)} lines only in the Android binding, {len(only_jvm)} only in the JVM one")
sys.exit(1 if bad or not only_android or not only_jvm else 0)
EOF

  android_cleaner() {
    grep -q 'class AndroidSystemCleaner' "$android_kt" &&
      grep -q 'Build.VERSION.SDK_INT >= Build.VERSION_CODES.UPSIDE_DOWN_CAKE' "$android_kt" &&
      grep -q 'UniffiJnaCleaner()' "$android_kt" &&
      ! grep -q 'JavaLangRefCleaner' "$android_kt" &&
      grep -q 'JavaLangRefCleaner' "$jvm_kt" && ! grep -q 'AndroidSystemCleaner' "$jvm_kt"
  }
  check "binding: Android cleaner (android.system.SystemCleaner from API 34, JNA's before); the JVM one keeps java.lang.ref.Cleaner" android_cleaner

  checksums() {
    local n_jvm
    n_jvm=$(grep -c 'UniFFI API checksum mismatch' "$jvm_kt")
    echo "JVM binding: $n_jvm checksum checks; Android binding: $(grep -c 'UniFFI API checksum mismatch' "$android_kt")"
    [ "$n_jvm" -gt 0 ] && ! grep -q 'uniffiCheckApiChecksums' "$android_kt" &&
      ! grep -q 'UniFFI API checksum mismatch' "$android_kt" &&
      grep -q 'uniffiCheckContractApiVersion(this)' "$android_kt" &&
      grep -q 'uniffiCheckContractApiVersion(this)' "$jvm_kt"
  }
  check "binding: no API checksum checks in the Android binding (the JVM one has them); both still check the contract version" checksums
fi

uniffi_toml_plain() {
  if grep -nE '^[[:space:]]*(android|android_cleaner|omit_checksums)[[:space:]]*=' uniffi.toml; then return 1; fi
  [ -n "$kotlin_package" ] && [ -n "$cdylib_name" ]
}
check "uniffi.toml: no android/android_cleaner/omit_checksums (the JVM tests' binding stays as it is)" uniffi_toml_plain

# ---- 2. compile the binding (kotlinc through Maven) and run the Gradle version function -----
echo "== 2. compile (Maven: $check_pom)"
snippet_dir="$work/gradle-snippet"
rm -rf "$snippet_dir"
mkdir -p "$snippet_dir"
sed -n '/cargoPackageVersion: begin/,/cargoPackageVersion: end/p' "$gradle_build" >"$snippet_dir/CargoPackageVersion.kt"
crate_version=$(cargo metadata --no-deps --format-version 1 2>/dev/null |
  python3 -c 'import json, sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "digital-otp"))' 2>/dev/null)
if [ "$generated" != 1 ]; then
  fail "compile: no generated binding to compile (step 1 failed)"
elif [ ! -s "$snippet_dir/CargoPackageVersion.kt" ] || [ -z "$crate_version" ]; then
  fail "compile: no cargoPackageVersion block in $gradle_build, or no version from cargo metadata"
else
  maven_log="$work/maven.log"
  mvn -B --no-transfer-progress -f "$check_pom" \
    -Ddigitalotp.android.bindings.dir="$android_dir" \
    -Ddigitalotp.gradle.snippet.dir="$snippet_dir" \
    -Ddigitalotp.expected.version="$crate_version" \
    clean test >"$maven_log" 2>&1
  maven_status=$?
  failed_before=$failed
  maven_target=target/android-package-check/maven # <build><directory> of the check pom
  classes="$maven_target/classes/${kotlin_package//.//}"
  if ls "$classes"/*.class >/dev/null 2>&1 && ! grep -q 'kotlin-maven-plugin:[^ ]*:compile (compile) on project' "$maven_log"; then
    pass "compile: the Android binding compiles against android-all $(pom_property "$check_pom" android-all.version) and JNA $(pom_property "$check_pom" jna.version), -Werror"
  else
    fail "compile: the Android binding with kotlinc against android-all and JNA (log: $maven_log)" "$(grep -E 'ERROR|error:|warning:' "$maven_log" | head -n 40)"
  fi
  if [ -f "$classes/DigitalOtpCoroutinesKt.class" ]; then
    pass "compile: the suspending wrappers (bindings/kotlin/src/coroutines) compile with the Android binding, kotlinx-coroutines $(pom_property "$check_pom" kotlinx-coroutines.version), -Werror"
  else
    fail "compile: no DigitalOtpCoroutinesKt.class: the suspending wrappers were not compiled (log: $maven_log)" "$(grep -E 'ERROR|error:|warning:' "$maven_log" | head -n 40)"
  fi
  # junit CLASS: the Surefire report of one test class says it ran and nothing failed.
  junit() {
    local report="$maven_target/surefire-reports/TEST-$1.xml"
    [ -f "$report" ] && grep -q 'failures="0"' "$report" && grep -q 'errors="0"' "$report" &&
      ! grep -q 'tests="0"' "$report"
  }
  junit_failures() { grep -E 'Tests run:.*(FAIL|ERROR)|expected|AssertionFailed|ERROR\]' "$maven_log" | head -n 20; }
  if junit CargoPackageVersionTest; then
    pass "version: build.gradle.kts's cargoPackageVersion reads $crate_version from Cargo.toml, as cargo metadata does (JUnit)"
  else
    fail "version: build.gradle.kts's cargoPackageVersion against Cargo.toml (log: $maven_log)" "$(junit_failures)"
  fi
  if junit GradleScriptSyntaxTest; then
    pass "gradle: settings.gradle.kts and build.gradle.kts parse without syntax errors (Kotlin's parser; names unresolved)"
  else
    fail "gradle: settings.gradle.kts and build.gradle.kts syntax (log: $maven_log)" "$(junit_failures)"
  fi
  if [ "$maven_status" != 0 ] && [ "$failed" = "$failed_before" ]; then
    fail "maven: $check_pom failed (log: $maven_log)" "$(grep -E 'ERROR' "$maven_log" | head -n 20)"
  fi
fi

jna_version=$(toml "$catalog" versions.jna)
jna_aar="${DOTP_MAVEN_REPO:-$HOME/.m2/repository}/net/java/dev/jna/jna/$jna_version/jna-$jna_version.aar"
if [ -f "$jna_aar" ]; then
  # shellcheck disable=SC2086 # one argument per ABI
  check "jna: its AAR carries libjnidispatch.so for every ABI built ($abis)" \
    python3 - "$jna_aar" $abis <<'EOF'
import sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
missing = [abi for abi in sys.argv[2:] if f"jni/{abi}/libjnidispatch.so" not in names]
print("missing:", missing, "in", sys.argv[1]) if missing else None
sys.exit(1 if missing else 0)
EOF
else
  skip "jna: no $jna_aar to inspect (Maven did not download it)"
fi

# ---- 3. the Gradle files against the generated names, the script and the other builds --------
echo "== 3. gradle ($gradle_dir)"
gradle_abis=$(sed -n 's/^val abis = listOf(\(.*\))$/\1/p' "$gradle_build" | tr -d '" ' | tr ',' ' ')
gradle_min_sdk=$(sed -n 's/^ *minSdk = \([0-9]*\)$/\1/p' "$gradle_build")

names() {
  local ok=0
  echo "uniffi.toml: package_name=$kotlin_package cdylib_name=$cdylib_name; Cargo.toml [lib] name=$lib_name"
  grep -q "^    namespace = \"$kotlin_package\"$" "$gradle_build" || { echo "build.gradle.kts: namespace is not $kotlin_package"; ok=1; }
  [ "$generated" != 1 ] || grep -q "^package $kotlin_package$" "$android_kt" || { echo "the binding's package is not $kotlin_package"; ok=1; }
  [ "$cdylib_name" = "$lib_name" ] || { echo "uniffi.toml cdylib_name ($cdylib_name) != Cargo.toml [lib] name ($lib_name): JNA would look for another .so than cargo-ndk builds"; ok=1; }
  [ "$generated" != 1 ] || grep -q "^    return \"$cdylib_name\"$" "$android_kt" || { echo "the binding does not load $cdylib_name"; ok=1; }
  grep -q "^val cdylibName = \"$cdylib_name\"$" "$gradle_build" || { echo "build.gradle.kts: cdylibName is not $cdylib_name"; ok=1; }
  grep -q "^val bindingFile = \"src/main/kotlin/$binding_rel\"$" "$gradle_build" || { echo "build.gradle.kts: bindingFile is not src/main/kotlin/$binding_rel"; ok=1; }
  grep -q "lib$cdylib_name\.so" scripts/build-android.sh || { echo "scripts/build-android.sh does not check lib$cdylib_name.so"; ok=1; }
  grep -q "^-keep class ${kotlin_package//./\\.}\.\*\* { \*; }$" "$gradle_dir/consumer-rules.pro" || { echo "consumer-rules.pro does not keep $kotlin_package.**"; ok=1; }
  return $ok
}
check "names: namespace/package $kotlin_package, library lib$cdylib_name.so (uniffi.toml = Cargo.toml [lib] = binding = Gradle = script)" names

abis_targets() {
  local ok=0 abi target i=0
  local -a abi_list target_list
  read -r -a abi_list <<<"$abis"
  read -r -a target_list <<<"$rust_targets"
  echo "script: ABIS=($abis) RUST_TARGETS=($rust_targets) MIN_SDK=$min_sdk; Gradle: abiFilters ($gradle_abis) minSdk=$gradle_min_sdk"
  [ "$abis" = "$gradle_abis" ] || { echo "the ABIs differ"; ok=1; }
  if [ -z "$min_sdk" ] || [ "$min_sdk" != "$gradle_min_sdk" ]; then echo "minSdk differs"; ok=1; fi
  [ "${#abi_list[@]}" = "${#target_list[@]}" ] || { echo "not one Rust target per ABI"; ok=1; }
  for abi in "${abi_list[@]}"; do
    target=${target_list[$i]:-}
    i=$((i + 1))
    case "$abi=$target" in
      arm64-v8a=aarch64-linux-android | armeabi-v7a=armv7-linux-androideabi | x86_64=x86_64-linux-android | x86=i686-linux-android) ;;
      *) echo "ABI $abi does not match Rust target $target"; ok=1 ;;
    esac
  done
  grep -q 'abiFilters += abis' "$gradle_build" || { echo "build.gradle.kts does not filter on abis"; ok=1; }
  return $ok
}
check "abis: scripts/build-android.sh ($abis, minSdk $min_sdk) = build.gradle.kts abiFilters and minSdk" abis_targets

versions() {
  local ok=0 v
  local jna_kotlin_pom jna_demo jna_check kotlin_catalog kotlin_pom kotlin_demo kotlin_check agp agp_demo all_check all_demo
  jna_kotlin_pom=$(pom_property bindings/kotlin/pom.xml jna.version)
  jna_demo=$(toml android-demo/gradle/libs.versions.toml versions.jna)
  jna_check=$(pom_property "$check_pom" jna.version)
  kotlin_catalog=$(toml "$catalog" versions.kotlin)
  kotlin_pom=$(pom_property bindings/kotlin/pom.xml kotlin.version)
  kotlin_demo=$(toml android-demo/gradle/libs.versions.toml versions.kotlin)
  kotlin_check=$(pom_property "$check_pom" kotlin.version)
  agp=$(toml "$catalog" versions.agp)
  agp_demo=$(toml android-demo/gradle/libs.versions.toml versions.agp)
  all_check=$(pom_property "$check_pom" android-all.version)
  all_demo=$(pom_property android-demo/pom.xml android-all.version)
  echo "JNA: catalog $jna_version, bindings/kotlin/pom.xml $jna_kotlin_pom, android-demo $jna_demo, check pom $jna_check"
  echo "Kotlin: catalog $kotlin_catalog, bindings/kotlin/pom.xml $kotlin_pom, android-demo $kotlin_demo, check pom $kotlin_check; AGP: $agp, android-demo $agp_demo"
  for v in "$jna_kotlin_pom" "$jna_demo" "$jna_check"; do [ -n "$jna_version" ] && [ "$v" = "$jna_version" ] || ok=1; done
  for v in "$kotlin_pom" "$kotlin_demo" "$kotlin_check"; do [ -n "$kotlin_catalog" ] && [ "$v" = "$kotlin_catalog" ] || ok=1; done
  [ -n "$agp" ] && [ "$agp" = "$agp_demo" ] || ok=1
  if [ -z "$all_check" ] || [ "$all_check" != "$all_demo" ]; then echo "android-all: check pom $all_check, android-demo $all_demo"; ok=1; fi
  grep -q '^    api(variantOf(libs.jna) { artifactType("aar") })$' "$gradle_build" || { echo "build.gradle.kts: JNA is not an api dependency on its AAR"; ok=1; }
  return $ok
}
check "versions: JNA $jna_version (AAR, api) as bindings/kotlin/pom.xml; Kotlin and AGP as android-demo" versions

# The hand-written suspending wrappers are part of the AAR, with kotlinx-coroutines as an api
# dependency, in the version the JVM tests and this check compile them with.
coroutines() {
  local ok=0 catalog_version pom_version check_version
  catalog_version=$(toml "$catalog" versions.kotlinx-coroutines)
  pom_version=$(pom_property bindings/kotlin/pom.xml kotlinx-coroutines.version)
  check_version=$(pom_property "$check_pom" kotlinx-coroutines.version)
  echo "kotlinx-coroutines: catalog $catalog_version, bindings/kotlin/pom.xml $pom_version, check pom $check_version"
  if [ -z "$catalog_version" ] || [ "$pom_version" != "$catalog_version" ] || [ "$check_version" != "$catalog_version" ]; then ok=1; fi
  grep -q '^    sourceSets\["main"\].kotlin.srcDir("../kotlin/src/coroutines/kotlin")$' "$gradle_build" || { echo "build.gradle.kts does not compile ../kotlin/src/coroutines/kotlin"; ok=1; }
  grep -q '^    api(libs.kotlinx.coroutines.core)$' "$gradle_build" || { echo "build.gradle.kts: kotlinx-coroutines-core is not an api dependency"; ok=1; }
  grep -q '^kotlinx-coroutines-core = { module = "org.jetbrains.kotlinx:kotlinx-coroutines-core", version.ref = "kotlinx-coroutines" }$' "$catalog" || { echo "$catalog: no kotlinx-coroutines-core library"; ok=1; }
  [ -f bindings/kotlin/src/coroutines/kotlin/org/digitalotp/DigitalOtpCoroutines.kt ] || { echo "no bindings/kotlin/src/coroutines/kotlin/org/digitalotp/DigitalOtpCoroutines.kt"; ok=1; }
  return $ok
}
check "coroutines: the AAR compiles the suspending wrappers, kotlinx-coroutines (api) as bindings/kotlin/pom.xml" coroutines

sdk_version() {
  local ok=0 f
  echo "Cargo.toml [package] version (cargo metadata): $crate_version"
  [ -n "$crate_version" ] || ok=1
  grep -q 'layout.projectDirectory.file("../../Cargo.toml")' "$gradle_build" || { echo "build.gradle.kts does not read ../../Cargo.toml"; ok=1; }
  grep -q '^val sdkVersion: String = cargoPackageVersion(providers.fileContents(cargoToml).asText.get())$' "$gradle_build" || { echo "build.gradle.kts does not take sdkVersion from cargoPackageVersion"; ok=1; }
  grep -q '^version = sdkVersion$' "$gradle_build" || { echo "the project version is not sdkVersion"; ok=1; }
  grep -q '^            version = sdkVersion$' "$gradle_build" || { echo "the publication version is not sdkVersion"; ok=1; }
  grep -q '^            groupId = "org.digitalotp"$' "$gradle_build" || { echo "groupId is not org.digitalotp"; ok=1; }
  grep -q '^            artifactId = "digital-otp-android"$' "$gradle_build" || { echo "artifactId is not digital-otp-android"; ok=1; }
  for f in "$gradle_build" "$gradle_dir/settings.gradle.kts" "$gradle_dir/gradle.properties" "$catalog"; do
    if [ -n "$crate_version" ] && grep -nF "\"$crate_version\"" "$f"; then echo "$f repeats the version $crate_version"; ok=1; fi
  done
  return $ok
}
check "publication: org.digitalotp:digital-otp-android:$crate_version, the version read from Cargo.toml (not repeated)" sdk_version

consumer_rules() {
  local rules="$gradle_dir/consumer-rules.pro" ok=0 rule
  for rule in '-keep class com.sun.jna.** { *; }' '-keep class * extends com.sun.jna.Structure { *; }' \
    '-keep class * implements com.sun.jna.Callback { *; }' '-dontwarn java.awt.**' "-keep class $kotlin_package.** { *; }"; do
    grep -qxF -- "$rule" "$rules" || { echo "missing: $rule"; ok=1; }
  done
  grep -q 'consumerProguardFiles("consumer-rules.pro")' "$gradle_build" || { echo "build.gradle.kts does not ship consumer-rules.pro"; ok=1; }
  return $ok
}
check "consumer-rules.pro: keeps JNA, Structure subclasses, Callback interfaces and $kotlin_package.**" consumer_rules

# R8 strips annotations and the nesting attributes of kept classes unless -keepattributes
# names them; JNA reads the binding's @Structure.FieldOrder at run time.
consumer_attributes() {
  local rules="$gradle_dir/consumer-rules.pro" ok=0 attribute kept field_orders
  kept=$(sed -n 's/^-keepattributes[[:space:]]\{1,\}//p' "$rules" | tr ',' '\n' | tr -d ' \t' | sed '/^$/d' | sort -u)
  echo "kept attributes: $(tr '\n' ' ' <<<"$kept")"
  for attribute in RuntimeVisibleAnnotations RuntimeVisibleParameterAnnotations AnnotationDefault InnerClasses EnclosingMethod; do
    grep -qx -- "$attribute" <<<"$kept" || { echo "missing: -keepattributes $attribute"; ok=1; }
  done
  if [ "$generated" = 1 ]; then
    field_orders=$(grep -c '@Structure.FieldOrder' "$android_kt")
    echo "the Android binding has $field_orders @Structure.FieldOrder annotations"
    [ "$field_orders" -gt 0 ] || { echo "no @Structure.FieldOrder in the binding: what does JNA read?"; ok=1; }
  fi
  return $ok
}
check "consumer-rules.pro: -keepattributes RuntimeVisibleAnnotations etc. (JNA reads @Structure.FieldOrder at run time)" consumer_attributes

cargo_config() {
  # shellcheck disable=SC2086 # one argument per target
  python3 - .cargo/config.toml $rust_targets <<'EOF'
import sys, tomllib
config = tomllib.load(open(sys.argv[1], "rb"))
android = set(sys.argv[2:])
ios = {"aarch64-apple-ios", "aarch64-apple-ios-sim", "x86_64-apple-ios"}
compact = 'sha2_backend_soft="compact"'
problems = [f"table [{k}] applies beyond the mobile targets" for k in config if k != "target"]
targets = config.get("target", {})
problems += [f"[target.{t}] is not an Android or iOS target" for t in targets if t not in android | ios]
for t in sorted(android):
    flags = targets.get(t, {}).get("rustflags", [])
    if "link-arg=-Wl,--pack-dyn-relocs=android" not in flags:
        problems.append(f"[target.{t}] does not pack relocations: {flags}")
    if compact not in flags:
        problems.append(f"[target.{t}] lacks --cfg {compact}: {flags}")
for t in sorted(ios & set(targets)):
    flags = targets[t].get("rustflags", [])
    if any("link-arg" in f for f in flags):
        problems.append(f"[target.{t}] passes linker flags to a static library: {flags}")
print("\n".join(problems) or f"rustflags only for {', '.join(sorted(targets))}")
sys.exit(1 if problems else 0)
EOF
}
check ".cargo/config.toml: relocation packing and compact sha2 for the Android targets, only mobile targets (host builds untouched)" cargo_config

ignored() {
  local ok=0 path
  for path in "$gradle_dir/src/main/kotlin/$binding_rel" "$gradle_dir/src/main/jniLibs/arm64-v8a/lib$cdylib_name.so" \
    "$gradle_dir/build/outputs/aar/x.aar" "$gradle_dir/.gradle/x" "$gradle_dir/.kotlin/x" "$gradle_dir/local.properties"; do
    git check-ignore -q "$path" || { echo "not git-ignored: $path"; ok=1; }
  done
  return $ok
}
if git rev-parse --git-dir >/dev/null 2>&1; then
  check "gitignore: the binding, the .so files and the Gradle outputs under $gradle_dir are ignored" ignored
else
  skip "gitignore: not a git work tree"
fi

# ---- 4. the Android targets: rustup and cargo check --------------------------------------------
echo "== 4. targets ($rust_targets)"
require=${DOTP_REQUIRE_ANDROID_TARGETS:-0}
skip_or_fail() {
  if [ "$require" = 1 ]; then fail "$1 [DOTP_REQUIRE_ANDROID_TARGETS=1]" "${2:-}"; else skip "$1" "${2:-}"; fi
}

targets_ready=0
timeout=()
command -v timeout >/dev/null && timeout=(timeout 120)
if ! command -v rustup >/dev/null; then
  skip_or_fail "rustup: not installed, cannot add $rust_targets"
else
  missing=()
  installed=$(rustup target list --installed 2>/dev/null)
  for t in $rust_targets; do grep -qx "$t" <<<"$installed" || missing+=("$t"); done
  if [ ${#missing[@]} = 0 ]; then
    pass "rustup: $rust_targets installed"
    targets_ready=1
  elif out=$(${timeout[@]+"${timeout[@]}"} rustup target add "${missing[@]}" 2>&1); then
    pass "rustup: added ${missing[*]}"
    targets_ready=1
  else
    status=$?
    why="failed"
    [ "$status" = 124 ] && why="timed out after 120 s"
    skip_or_fail "rustup target add ${missing[*]} $why (is the Rust download server reachable from here?)" "$out"
  fi
fi

# The host's clang compiles ring's C and assembly for Android without the NDK's sysroot, the
# way ring itself does for its sysroot-less targets: -nostdlibinc with RING_CORE_NOSTDLIBINC,
# plus -ffreestanding so that clang's own headers (stdint.h, immintrin.h) do not reach for a
# libc. Good for `cargo check`; linking the .so needs the NDK (scripts/build-android.sh).
cc=${DOTP_ANDROID_CHECK_CC:-clang}
ar=""
if command -v "$cc" >/dev/null; then
  ar=$(dirname "$(readlink -f "$(command -v "$cc")")")/llvm-ar
  [ -x "$ar" ] || ar=$(command -v llvm-ar || true)
fi
clang_target() {
  case "$1" in
    armv7-linux-androideabi) echo "armv7a-linux-androideabi$min_sdk" ;;
    *) echo "$1$min_sdk" ;;
  esac
}
cflags_for() { echo "--target=$(clang_target "$1") -nostdlibinc -ffreestanding -DRING_CORE_NOSTDLIBINC=1"; }

if [ "$targets_ready" != 1 ]; then
  skip_or_fail "cargo check of the Android targets: the Rust targets are not installed (see the rustup line)"
elif ! command -v "$cc" >/dev/null || [ -z "$ar" ] || [ ! -x "$ar" ]; then
  skip_or_fail "cargo check of the Android targets: no clang and llvm-ar here for ring's C code (apt-get install clang)"
else
  for t in $rust_targets; do
    u=${t//-/_}
    flags=$(cflags_for "$t")
    # shellcheck disable=SC2086
    if ! probe=$(printf '#include <stdint.h>\n#include <stddef.h>\nsize_t f(uint8_t x) { return x; }\n' |
      "$cc" $flags -x c -c - -o /dev/null 2>&1); then
      skip_or_fail "cargo check --target $t: $cc cannot compile C for $(clang_target "$t") without a sysroot" "$probe"
      continue
    fi
    if out=$(env "CC_$u=$cc" "AR_$u=$ar" "CFLAGS_$u=$flags" \
      cargo check --lib --profile mobile --target "$t" --message-format short 2>&1); then
      pass "cargo check --lib --profile mobile --target $t (ring's C by $cc $(clang_target "$t"))"
    else
      fail "cargo check --lib --profile mobile --target $t" "$out"
    fi
  done
fi

echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
