// The Keychain and CryptoKit exist only on Apple platforms: on Linux (where `swift test` also runs)
// this file compiles to nothing.
#if canImport(CryptoKit) && canImport(Security) && canImport(LocalAuthentication)
import DemoKeychain
import DigitalOTP
import Foundation
import XCTest

/// `KeychainStore` against a real Keychain: opt-in (DEMO_KEYCHAIN_TESTS=1), since it
/// writes to this Mac's login keychain, and the iOS-style data protection keychain that
/// the app uses needs a signed host with a keychain entitlement, which `swift test` does
/// not have (it uses the file-based keychain here: `useDataProtectionKeychain: false`).
/// On an iPhone or simulator the app itself is the check.
final class KeychainStoreTests: XCTestCase {
    private func makeStore() throws -> KeychainStore {
        guard ProcessInfo.processInfo.environment["DEMO_KEYCHAIN_TESTS"] == "1" else {
            throw XCTSkip("set DEMO_KEYCHAIN_TESTS=1 to write to this Mac's login keychain")
        }
        return KeychainStore(service: "org.digitalotp.demo.tests.\(UUID().uuidString)", useDataProtectionKeychain: false)
    }

    func testWriteReadReplaceDelete() throws {
        let store = try makeStore()
        defer {
            try? store.delete(key: "a")
            try? store.delete(key: "b")
        }
        XCTAssertNil(try store.read(key: "a"))
        try store.write(key: "a", value: Data([1, 2, 3]))
        XCTAssertEqual(try store.read(key: "a"), Data([1, 2, 3]))
        try store.write(key: "a", value: Data([4]))
        XCTAssertEqual(try store.read(key: "a"), Data([4]), "replaced, not duplicated")
        XCTAssertNil(try store.read(key: "b"))
        try store.write(key: "b", value: Data())
        XCTAssertEqual(try store.read(key: "b"), Data())
        try store.delete(key: "a")
        XCTAssertNil(try store.read(key: "a"))
        try store.delete(key: "a") // a missing key is not an error
    }

    /// The SDK over the Keychain: its blobs in one service, the device keys' handles
    /// (CryptoKit keys in software here: a test host has no Secure Enclave it may use) in
    /// another; a registration and a login code the bank accepts.
    func testTheSdkRegistersOverTheKeychain() async throws {
        let store = try makeStore()
        let handles = try makeStore()
        let keys = HardwareDeviceKeys(hardware: SimulatorSoftwareHardware(), handles: handles, attester: nil)
        let app = DigitalOtp(store: store, keys: keys)
        defer { try? app.resetAll() }
        let accepted = try await registerAndLogIn(app)
        XCTAssertTrue(accepted)
    }
}

#endif
