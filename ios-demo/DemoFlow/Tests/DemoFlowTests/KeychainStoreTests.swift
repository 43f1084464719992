// The Keychain exists only on Apple platforms: on Linux (where `swift test` also runs)
// this file compiles to nothing.
#if canImport(Security)
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

    func testTheSdkRegistersOverTheKeychain() throws {
        let store = try makeStore()
        let app = DigitalOtp(store: store)
        defer { try? app.resetAll() }
        let issuer = try Issuer.inMemory(masterKeyHex: try generateMasterKey(), clock: nil, sms: nil)
        try issuer.addInstitution(actor: "test", institutionId: "bank-a", name: "Bank A")
        try issuer.registerCustomer(
            actor: "test",
            customer: NewCustomer(
                institutionId: "bank-a", customerId: "kim", name: "Kim", kind: .individual, residency: .domestic,
                phoneNumber: "010-1234-5678"
            )
        )
        let code = try issuer.issueNonFaceToFace(actor: "test", institutionId: "bank-a", customerId: "kim", verificationReference: "kyc")
        let device = try DeviceInfo(phoneNumber: "010-1234-5678", deviceId: "keychain-test")
        let request = try app.beginRegistration(registrationCode: code, device: device)
        let info = try app.completeRegistration(response: issuer.handleRegistration(actor: "app", request: request), password: "482915")
        XCTAssertEqual(info.status, .pending)
        let login = try app.generate(institutionId: "bank-a", password: "482915", device: device)
        XCTAssertEqual(try issuer.verifyLogin(actor: "web", institutionId: "bank-a", customerId: "kim", code: login.code), .accepted)
    }
}

#endif
