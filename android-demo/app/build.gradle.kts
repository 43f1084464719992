import org.jetbrains.kotlin.gradle.dsl.JvmTarget

// The Android application: a thin layer over :flow (views, AndroidKeyStore, platform values).
plugins {
    alias(libs.plugins.android.application)
    alias(libs.plugins.kotlin.android)
}

val repoRoot: File = rootDir.parentFile
val abis = listOf("arm64-v8a", "x86_64")

// DEMO ONLY: the issuer service (`dotp issuer serve`) the app talks to instead of its
// in-process fake bank: Gradle property -> string resource -> the manifest's <meta-data> of
// the property's name (DemoApplication, ServiceBankSettings). All unset: the fake bank, as
// a preview. Give them with -P or in ~/.gradle/gradle.properties, never in a checked-in
// file: the channel key is a server credential (README.md, "The app against the service").
val serviceSettings = mapOf(
    "digitalotp.serviceUrl" to "digitalotp_service_url",
    "digitalotp.institution" to "digitalotp_institution",
    "digitalotp.customer" to "digitalotp_customer",
    "digitalotp.channelKey" to "digitalotp_channel_key",
)

android {
    namespace = "org.digitalotp.demo.android"
    compileSdk = 35

    defaultConfig {
        applicationId = "org.digitalotp.demo"
        minSdk = 26
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
        // Phones (arm64) and the emulator (x86_64); add "armeabi-v7a" for old 32-bit phones.
        ndk { abiFilters += abis }
        for ((property, resource) in serviceSettings) {
            resValue("string", resource, providers.gradleProperty(property).getOrElse(""))
        }
    }

    buildTypes {
        // Debug builds only (src/debug/): plain HTTP to the development machine
        // (10.0.2.2, the emulator's host; 127.0.0.1 through `adb reverse`), for a local
        // `dotp issuer serve`. Release builds allow no cleartext at all.
        release {
            isMinifyEnabled = true
            proguardFiles(getDefaultProguardFile("proguard-android-optimize.txt"), "proguard-rules.pro")
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    // libdigital_otp.so per ABI, built by cargo-ndk (task cargoNdk, or by hand: README.md).
    sourceSets["main"].jniLibs.srcDir("src/main/jniLibs")
}

kotlin {
    compilerOptions { jvmTarget.set(JvmTarget.JVM_17) }
}

dependencies {
    implementation(project(":flow"))
    // DEMO ONLY: the in-process fake bank (the preview), and BankApi over HTTP to the
    // issuer service (with a channel key in the app: never in a real one).
    implementation(project(":fakebank"))
    implementation(project(":servicebank"))
    // JNA for Android: the AAR carries libjnidispatch.so for every ABI.
    implementation(variantOf(libs.jna) { artifactType("aar") })
}

// Builds the native library for the app's ABIs with cargo-ndk (cargo install cargo-ndk;
// rustup target add aarch64-linux-android x86_64-linux-android; an NDK from the SDK manager).
// The demo needs the `issuer` feature for its fake bank; a real app builds without it.
val cargoNdk by tasks.registering(Exec::class) {
    group = "rust"
    description = "Builds libdigital_otp.so for ${abis.joinToString()} into src/main/jniLibs with cargo-ndk."
    workingDir = repoRoot
    commandLine(
        listOf("cargo", "ndk") + abis.flatMap { listOf("-t", it) } +
            listOf("-o", file("src/main/jniLibs").path, "build", "--release", "--lib", "--features", "issuer"),
    )
}

if (providers.gradleProperty("digitalotp.buildRust").orNull == "true") {
    tasks.named("preBuild") { dependsOn(cargoNdk) }
}
