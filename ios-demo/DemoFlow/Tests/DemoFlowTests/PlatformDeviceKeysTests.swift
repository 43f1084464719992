// CryptoKit, the Secure Enclave and App Attest exist only on Apple platforms: on Linux
// (where `swift test` also runs) this file compiles to nothing. Compiled and run by the
// macOS CI (`swift test --package-path ios-demo/DemoFlow`), where the Secure Enclave test
// is skipped unless the Mac has one and DEMO_SECURE_ENCLAVE_TESTS=1.
#if canImport(CryptoKit) && canImport(Security) && canImport(LocalAuthentication)
import CryptoKit
import DemoFakeBank
import DemoKeychain
import DigitalOTP
import Foundation
import XCTest

/// Registers `app` with a fresh in-memory demo bank and makes a login code; whether the
/// bank accepted it. The device keys' public key, confirmation signature and unlock
/// signature all pass the issuer's checks on the way.
func registerAndLogIn(_ app: DigitalOtp) async throws -> Bool {
    let bank = try FakeBankApi.inMemory()
    let phone = "010-1234-5678"
    let code = try bank.issueRegistrationCode(phoneNumber: phone)
    let device = try DeviceInfo(phoneNumber: phone, deviceId: "platform-keys-test")
    let institution = FakeBankApi.demoInstitutionId
    let request = try app.beginRegistration(institutionId: institution, registrationCode: code, device: device, password: "482915")
    let confirmation = try app.confirmRegistration(response: try await bank.register(request: request))
    let info = try app.completeRegistration(institutionId: institution, outcome: try await bank.confirmRegistration(confirmation: confirmation))
    let unlock = try app.beginLoginCode(institutionId: institution, password: "482915", device: device)
    let login = try app.completeLoginCode(answer: try await bank.unlock(request: unlock))
    return try await bank.verifyLogin(institutionId: institution, serialNumber: info.serialNumber, code: login.code)
}

/// A `SecureStore` in memory (for the handles), behind a lock.
private final class HandleStore: DigitalOTP.SecureStore, @unchecked Sendable {
    private let lock = NSLock()
    private var map: [String: Data] = [:]

    func read(key: String) throws -> Data? { lock.withLock { map[key] } }
    func write(key: String, value: Data) throws { lock.withLock { map[key] = value } }
    func delete(key: String) throws { lock.withLock { _ = map.removeValue(forKey: key) } }
    var keys: [String] { lock.withLock { map.keys.sorted() } }
}

/// The demo's Apple device keys against the SDK and the issuer: CryptoKit's formats
/// (`x963Representation`, `derRepresentation`) are the ones the SDK and the bank expect,
/// and the Secure Enclave's handle works where there is one.
final class PlatformDeviceKeysTests: XCTestCase {
    func testCryptoKitKeysInSoftwareAreWhatTheSdkAndTheBankExpect() async throws {
        let handles = HandleStore()
        let keys = HardwareDeviceKeys(hardware: SimulatorSoftwareHardware(), handles: handles, attester: nil)
        let key = try keys.createKey(alias: "a", challenge: Data(repeating: 1, count: 32))
        XCTAssertEqual(key.publicKey.count, 65)
        XCTAssertEqual(key.evidence, KeyEvidence(kind: .none))
        XCTAssertEqual(handles.keys, [HardwareDeviceKeys.handlePrefix + "a"])
        let signature = try keys.sign(alias: "a", message: Data("hello".utf8))
        let publicKey = try P256.Signing.PublicKey(x963Representation: key.publicKey)
        XCTAssertTrue(publicKey.isValidSignature(try P256.Signing.ECDSASignature(derRepresentation: signature), for: Data("hello".utf8)))
        try keys.deleteKey(alias: "a")
        XCTAssertEqual(handles.keys, [])
        XCTAssertThrowsError(try keys.sign(alias: "a", message: Data()), "a deleted key signs nothing")

        let app = DigitalOtp(store: HandleStore(), keys: HardwareDeviceKeys(hardware: SimulatorSoftwareHardware(), handles: handles, attester: nil))
        let accepted = try await registerAndLogIn(app)
        XCTAssertTrue(accepted)
    }

    /// Opt-in: the Secure Enclave of this Mac (Apple silicon or T2), which a CI runner
    /// has not. Its handle is an encrypted blob, not the key.
    func testSecureEnclaveKeysAreWhatTheSdkAndTheBankExpect() async throws {
        guard ProcessInfo.processInfo.environment["DEMO_SECURE_ENCLAVE_TESTS"] == "1", SecureEnclaveHardware.isAvailable else {
            throw XCTSkip("set DEMO_SECURE_ENCLAVE_TESTS=1 on a Mac with a Secure Enclave")
        }
        let handles = HandleStore()
        let keys = HardwareDeviceKeys(hardware: SecureEnclaveHardware(), handles: handles, attester: nil)
        let key = try keys.createKey(alias: "a", challenge: Data(repeating: 1, count: 32))
        XCTAssertEqual(key.publicKey.count, 65)
        let handle = try XCTUnwrap(try handles.read(key: HardwareDeviceKeys.handlePrefix + "a"))
        XCTAssertThrowsError(try P256.Signing.PrivateKey(rawRepresentation: handle), "the handle is no private key")
        let app = DigitalOtp(store: HandleStore(), keys: keys)
        let accepted = try await registerAndLogIn(app)
        XCTAssertTrue(accepted)
    }
}
#endif
