import org.jetbrains.kotlin.gradle.dsl.JvmTarget

// DEMO ONLY: the in-process fake bank. A real app deletes this module (and its line in
// settings.gradle.kts and app/build.gradle.kts) and builds the library without `issuer`.
plugins {
    alias(libs.plugins.kotlin.jvm)
}

val nativeDir: File = rootDir.resolve(providers.gradleProperty("digitalotp.nativeDir").getOrElse("../target/debug"))

java {
    sourceCompatibility = JavaVersion.VERSION_17
    targetCompatibility = JavaVersion.VERSION_17
}

kotlin {
    compilerOptions { jvmTarget.set(JvmTarget.JVM_17) }
}

dependencies {
    implementation(project(":flow"))
    compileOnly(libs.jna)
    testImplementation(libs.jna)
    testImplementation(platform(libs.junit.bom))
    testImplementation(libs.junit.jupiter)
    testRuntimeOnly(libs.junit.platform.launcher)
}

tasks.test {
    useJUnitPlatform()
    systemProperty("jna.library.path", nativeDir.path)
}
