// The Android demo, for Android Studio: open this directory (android-demo/).
//   :flow      plain Kotlin: the screens' state machine and the sealed file store, compiled
//              with the generated binding (../target/bindings/kotlin); JVM unit tests
//   :fakebank  DEMO ONLY: the in-process fake bank; remove it from a real app
//   :servicebank DEMO ONLY: BankApi over HTTP to `dotp issuer serve` (a stand-in for the
//              bank's backend relay), which the app uses when a service is configured
//              (README.md); its tests need a running service (scripts/with-issuer-service.sh)
//   :app       the Android application (thin: views, AndroidKeyStore, platform values)
// See README.md for building the native library with cargo-ndk first.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "digital-otp-android-demo"
include(":flow", ":fakebank", ":servicebank", ":app")
