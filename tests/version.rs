//! One version for the crate, the Android AAR, the Swift package, the Python package and
//! the Kotlin test module: Cargo.toml's `[package] version`. The AAR and the Swift
//! release read it from Cargo.toml; the files that must spell it out are checked here,
//! and so is the CHANGELOG's newest release heading.

use std::path::Path;

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn read(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

#[test]
fn the_library_reports_the_crate_version() {
    assert_eq!(digital_otp::ffi::sdk_version(), VERSION);
}

#[test]
fn the_python_package_has_the_crate_version() {
    let pyproject = read("bindings/python/pyproject.toml");
    let line = pyproject.lines().find(|l| l.starts_with("version = ")).expect("a version line");
    assert_eq!(line, format!("version = \"{VERSION}\""));
}

#[test]
fn the_kotlin_test_module_has_the_crate_version() {
    let pom = read("bindings/kotlin/pom.xml");
    let after_artifact = pom
        .split("<artifactId>digital-otp-kotlin-tests</artifactId>")
        .nth(1)
        .expect("the artifact");
    let version =
        after_artifact.split("<version>").nth(1).and_then(|v| v.split("</version>").next());
    assert_eq!(version, Some(VERSION));
}

#[test]
fn the_android_library_reads_the_version_from_cargo_toml() {
    let gradle = read("bindings/android/build.gradle.kts");
    assert!(gradle.contains("Cargo.toml"), "the AAR's version must come from Cargo.toml");
    assert!(
        !gradle.contains(&format!("\"{VERSION}\"")),
        "the AAR must not repeat the version literally"
    );
}

#[test]
fn the_changelog_names_this_version() {
    let changelog = read("CHANGELOG.md");
    let newest = changelog.lines().find(|l| l.starts_with("## [")).expect("a release heading");
    assert!(
        newest.starts_with(&format!("## [{VERSION}]")) || newest.starts_with("## [Unreleased]"),
        "newest heading {newest:?} is neither [{VERSION}] nor [Unreleased]"
    );
    assert!(changelog.contains(&format!("## [{VERSION}]")), "no heading for {VERSION}");
}
