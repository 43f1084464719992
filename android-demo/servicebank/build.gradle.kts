import org.jetbrains.kotlin.gradle.dsl.JvmTarget

// DEMO ONLY: ServiceBankApi, the flow's BankApi over HTTP (java.net.HttpURLConnection, which
// Android has too) to `dotp issuer serve`, a stand-in for the bank's backend relay (an API
// key is a server credential: never ship one in a real app), and ServiceBankSettings, the
// demo app's choice of bank (:app uses both). Its tests need a running service: run them
// under scripts/with-issuer-service.sh, which exports DIGITAL_OTP_SERVICE_URL,
// DIGITAL_OTP_SERVICE_INSTITUTION, DIGITAL_OTP_CHANNEL_KEY and DIGITAL_OTP_STAFF_KEY
// (Gradle's test JVM inherits them).
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
    // Part of Android itself; on the JVM (the tests) from Maven Central.
    compileOnly(libs.org.json)
    testImplementation(libs.org.json)
    testImplementation(libs.jna)
    testImplementation(platform(libs.junit.bom))
    testImplementation(libs.junit.jupiter)
    testRuntimeOnly(libs.junit.platform.launcher)
}

tasks.test {
    useJUnitPlatform()
    systemProperty("jna.library.path", nativeDir.path)
}
