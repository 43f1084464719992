import org.jetbrains.kotlin.gradle.dsl.JvmTarget

// The AAR: the UniFFI Kotlin binding (package org.digitalotp, generated with the Android
// settings) and libdigital_otp.so for each ABI, both produced by scripts/build-android.sh,
// with JNA's AAR as a dependency. See README.md.
plugins {
    alias(libs.plugins.android.library)
    alias(libs.plugins.kotlin.android)
    `maven-publish`
}

// --- cargoPackageVersion: begin (plain Kotlin; scripts/test-android-package.sh compiles and tests this block)
/** The `version = "..."` of the `[package]` table of a Cargo.toml (not `version.workspace`). */
fun cargoPackageVersion(cargoToml: String): String {
    var inPackage = false
    for (raw in cargoToml.lineSequence()) {
        val line = raw.substringBefore('#').trim()
        if (line.startsWith("[")) {
            inPackage = line.removeSurrounding("[", "]").trim() == "package"
            continue
        }
        if (!inPackage) continue
        val match = Regex("""^version\s*=\s*"([^"]+)"$""").find(line) ?: continue
        return match.groupValues[1]
    }
    throw IllegalArgumentException("no version = \"...\" in the [package] table of Cargo.toml")
}
// --- cargoPackageVersion: end

// One version for the crate and the AAR: the [package] version of the repository's Cargo.toml.
val cargoToml = layout.projectDirectory.file("../../Cargo.toml")
val sdkVersion: String = cargoPackageVersion(providers.fileContents(cargoToml).asText.get())
group = "org.digitalotp"
version = sdkVersion

// The ABIs scripts/build-android.sh builds (ABIS there; MIN_SDK there = minSdk here).
// scripts/test-android-package.sh checks that both agree.
val abis = listOf("arm64-v8a", "armeabi-v7a", "x86_64")
// libdigital_otp.so: uniffi.toml's [bindings.kotlin] cdylib_name (what JNA loads) and
// Cargo.toml's [lib] name (what cargo-ndk builds).
val cdylibName = "digital_otp"
// The binding: the package (uniffi.toml package_name) and the UniFFI namespace of the crate.
val bindingFile = "src/main/kotlin/org/digitalotp/digital_otp.kt"

android {
    namespace = "org.digitalotp"
    compileSdk = 35

    defaultConfig {
        minSdk = 24
        // R8/ProGuard rules for the apps that use the AAR (JNA and the binding use reflection).
        consumerProguardFiles("consumer-rules.pro")
        ndk { abiFilters += abis }
    }

    buildTypes {
        release {
            // A library is not minified itself; the app's R8 applies consumer-rules.pro.
            isMinifyEnabled = false
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    // Both directories are git-ignored build outputs of scripts/build-android.sh.
    sourceSets["main"].kotlin.srcDir("src/main/kotlin")
    // Hand-written: the suspending wrappers of the blocking DigitalOtp calls (tested on the
    // JVM by bindings/kotlin, compiled against Android by scripts/test-android-package.sh).
    sourceSets["main"].kotlin.srcDir("../kotlin/src/coroutines/kotlin")
    sourceSets["main"].jniLibs.srcDir("src/main/jniLibs")

    publishing {
        singleVariant("release") {
            withSourcesJar()
        }
    }
}

kotlin {
    compilerOptions { jvmTarget.set(JvmTarget.JVM_17) }
}

dependencies {
    // JNA for Android: its AAR carries libjnidispatch.so for every ABI. `api`: the binding's
    // public types extend JNA's (RustBuffer is a com.sun.jna.Structure, the FfiConverter
    // objects name it), so an app compiling against the AAR needs JNA on its classpath too.
    api(variantOf(libs.jna) { artifactType("aar") })
    // The suspending wrappers: withContext and CoroutineDispatcher are in their signatures.
    api(libs.kotlinx.coroutines.core)
    // @RequiresApi on the binding's private Android cleaner classes: class-retention, not
    // needed at run time (consumer-rules.pro tells R8 so).
    compileOnly(libs.androidx.annotation)
}

// Fail early, with the fix, when scripts/build-android.sh has not been run.
val rustOutputs: List<File> =
    listOf(file(bindingFile)) +
        abis.map { file("src/main/jniLibs/$it/lib$cdylibName.so") }
val checkRustOutputs by tasks.registering {
    group = "rust"
    description = "Checks that the binding and libdigital_otp.so for every ABI are there."
    val required = rustOutputs
    doLast {
        val missing = required.filterNot { it.isFile }
        if (missing.isNotEmpty()) {
            throw GradleException(
                "missing: ${missing.joinToString()}\n" +
                    "Run scripts/build-android.sh --no-gradle from the repository root first " +
                    "(ANDROID_NDK_HOME set), or set digitalotp.buildRust=true in gradle.properties.",
            )
        }
    }
}

// cargo-ndk and the binding, by the same script as the command line.
val buildRust by tasks.registering(Exec::class) {
    group = "rust"
    description = "Runs scripts/build-android.sh --no-gradle: libdigital_otp.so for ${abis.joinToString()} and the binding."
    workingDir = rootDir.resolve("../..")
    commandLine("bash", "scripts/build-android.sh", "--no-gradle")
}

if (providers.gradleProperty("digitalotp.buildRust").orNull == "true") {
    checkRustOutputs.configure { dependsOn(buildRust) }
}
tasks.named("preBuild") { dependsOn(checkRustOutputs) }

publishing {
    publications {
        register<MavenPublication>("release") {
            groupId = "org.digitalotp"
            artifactId = "digital-otp-android"
            version = sdkVersion
            afterEvaluate { from(components["release"]) }
            pom {
                name.set("digital-otp Android")
                description.set("Digital OTP SDK for Android: the UniFFI Kotlin binding and libdigital_otp.so")
                licenses {
                    license {
                        name.set("Apache-2.0")
                        url.set("https://www.apache.org/licenses/LICENSE-2.0")
                    }
                }
            }
        }
    }
    repositories {
        // ./gradlew publishReleasePublicationToBuildRepoRepository -> build/repo (a file Maven
        // repository to inspect or copy); publishToMavenLocal -> ~/.m2. Add the bank's own
        // repository here (credentials from Gradle properties, never from this file).
        maven {
            name = "buildRepo"
            url = uri(layout.buildDirectory.dir("repo"))
        }
    }
}
