import DigitalOTP
import Foundation
import XCTest

/// The native library reports the SDK version this package is built from: one version
/// everywhere, the crate's. The Kotlin VersionTest compares it with the module's version
/// (from the pom); the Swift package has no version of its own in Package.swift (a
/// release is a git tag), so this compares it with `[package] version` of the
/// repository's Cargo.toml, found from this file's path like the vector files.
final class VersionTests: XCTestCase {
    /// The `version` of the `[package]` table of `<repo>/Cargo.toml`.
    private func cargoPackageVersion() throws -> String {
        let url = repositoryRoot.appendingPathComponent("Cargo.toml")
        let text = try String(contentsOf: url, encoding: .utf8)
        var inPackage = false
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[") {
                inPackage = line == "[package]"
                continue
            }
            guard inPackage, line.hasPrefix("version") else { continue }
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, parts[0] == "version" else { continue }
            let value = parts[1]
            guard value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") else {
                XCTFail("[package] version of \(url.path) is not a plain string: \(line)")
                continue
            }
            return String(value.dropFirst().dropLast())
        }
        throw MissingVersion(path: url.path)
    }

    private struct MissingVersion: Error, CustomStringConvertible {
        let path: String
        var description: String { "no [package] version in \(path)" }
    }

    func testSdkVersionIsTheCrateVersion() throws {
        let expected = try cargoPackageVersion()
        XCTAssertTrue(matchesWhole(expected, "[0-9]+\\.[0-9]+\\.[0-9]+([-+][0-9A-Za-z.-]+)?"), "Cargo.toml version: \(expected)")
        XCTAssertEqual(sdkVersion(), expected)
    }
}
