// The Android library (AAR) of digital-otp: open this directory (bindings/android) in Android
// Studio, or run Gradle here. The native libraries and the Kotlin binding are build outputs of
// scripts/build-android.sh (run it first, from the repository root); see README.md.
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

// Also the AAR's file name: build/outputs/aar/digital-otp-android-release.aar.
rootProject.name = "digital-otp-android"
