import DemoFakeBank
import DemoFlow
import DemoKeychain
import DigitalOTP
import Foundation
import XCTest

// Helpers for OtpFlowTests and BankRoundTripTests: an in-memory SecureStore and a test
// Clock written in Swift, a stand-in for the Secure Enclave and for App Attest, a BankApi
// wrapper that can go offline, and `World` (one phone with the demo's flow, its device
// keys and the fake bank, on one clock). The bank is the SDK's real issuer, in memory:
// `Issuer.inMemory(masterKeyHex: generateMasterKey(), clock:, sms: nil)`.

enum Fixture {
    static let t0: UInt64 = 1_800_000_000
    static let phone = "010-1234-5678"
    static let phoneE164 = "+821012345678"
    static let otherPhone = "010-9876-5432"
    static let otherPhoneE164 = "+821098765432"
    static let deviceId = "6F9619FF-8B86-D011-B42D-00C04FC964FF"
    static let reinstalledDeviceId = "0E984725-C51C-4BF4-9960-E1C80E27ABA0"
    static let password = "482915"
    static let otherPassword = "730264"
    static let wrongPassword = "000001"
    /// What no message on screen may contain.
    static let secrets = [password, otherPassword, wrongPassword, phone, phoneE164, "1234-5678", deviceId]

    /// A transfer of `amount` won to 홍길동.
    static func transfer(_ amount: UInt64) -> Transaction {
        Transaction(amountMinor: amount, currency: "KRW", payeeAccount: "110-123-456789", payeeName: "홍길동", memo: nil)
    }
}

// MARK: - A SecureStore and a Clock written in Swift

/// A `SecureStore` in memory, as an app would write one: called by Rust from any thread,
/// so behind a lock.
final class MemoryStore: DigitalOTP.SecureStore, @unchecked Sendable {
    private let lock = NSLock()
    private var map: [String: Data] = [:]

    func read(key: String) throws -> Data? {
        lock.lock()
        defer { lock.unlock() }
        return map[key]
    }

    func write(key: String, value: Data) throws {
        lock.lock()
        defer { lock.unlock() }
        map[key] = value
    }

    func delete(key: String) throws {
        lock.lock()
        defer { lock.unlock() }
        map.removeValue(forKey: key)
    }

    /// The keys starting with `prefix`, sorted.
    func keys(prefix: String = "") -> [String] {
        lock.lock()
        defer { lock.unlock() }
        return map.keys.filter { $0.hasPrefix(prefix) }.sorted()
    }

    /// The whole content: a backup of the phone, or what root copies out of it.
    func snapshot() -> [String: Data] {
        lock.lock()
        defer { lock.unlock() }
        return map
    }

    /// Puts back exactly `content` (an earlier `snapshot`): a restored backup.
    func restore(_ content: [String: Data]) {
        lock.lock()
        defer { lock.unlock() }
        map = content
    }
}

// MARK: - Stand-ins for the Secure Enclave and App Attest

/// A stand-in for the Secure Enclave (Linux has none, nor does a Mac CI runner): P-256
/// keys made and used by the SDK's software keys (`softwareDeviceKeys`) over a scratch
/// store, the handle being that store's whole content. Like the Secure Enclave's
/// `dataRepresentation`, the handle is all there is of the key: deleted, the key is gone.
/// `failSigning` makes `sign` fail the way a cancelled Face ID sheet does.
final class FakeEnclave: SigningHardware, @unchecked Sendable {
    static let cancelled = "the customer cancelled Face ID (test)"
    private static let alias = "key"

    private let lock = NSLock()
    private var failSigningFlag = false
    private var signatureCount = 0
    private var keyCount = 0

    var name: String { "fake Secure Enclave (test)" }

    var failSigning: Bool {
        get { lock.withLock { failSigningFlag } }
        set { lock.withLock { failSigningFlag = newValue } }
    }

    /// Signatures made (registration confirmations and unlock requests).
    var signatures: Int { lock.withLock { signatureCount } }

    /// Keys made.
    var keysCreated: Int { lock.withLock { keyCount } }

    func createKey() throws -> (handle: Data, publicKey: Data) {
        let scratch = MemoryStore()
        let key = try softwareDeviceKeys(store: scratch).createKey(alias: FakeEnclave.alias, challenge: Data())
        let handle = try JSONEncoder().encode(scratch.snapshot())
        lock.withLock { keyCount += 1 }
        return (handle, key.publicKey)
    }

    func sign(_ message: Data, handle: Data) throws -> Data {
        if failSigning {
            throw HostError.Failed(reason: FakeEnclave.cancelled)
        }
        let scratch = MemoryStore()
        scratch.restore(try JSONDecoder().decode([String: Data].self, from: handle))
        let signature = try softwareDeviceKeys(store: scratch).sign(alias: FakeEnclave.alias, message: message)
        lock.withLock { signatureCount += 1 }
        return signature
    }
}

/// A stand-in for App Attest: it records what it was asked to attest and answers with an
/// App Attest evidence whose attestation object is not one (the test cannot make a real
/// one, signed by Apple), so a bank that checks it finds it malformed: proof that it got
/// there.
final class FakeAttester: KeyAttester, @unchecked Sendable {
    static let object = Data("not an App Attest attestation object".utf8)
    static let keyId = Data(repeating: 0xA7, count: 32)

    private let lock = NSLock()
    private var asked: [(challenge: Data, publicKey: Data)] = []

    /// The challenge and public key of every attestation, oldest first.
    var requests: [(challenge: Data, publicKey: Data)] { lock.withLock { asked } }

    func attest(challenge: Data, publicKey: Data) throws -> KeyEvidence? {
        lock.withLock { asked.append((challenge, publicKey)) }
        return KeyEvidence(kind: .appleAppAttest, appAttestObject: FakeAttester.object, appAttestKeyId: FakeAttester.keyId)
    }
}

/// A `Clock` that stays where it is set; the tests move it with `advance`.
final class TestClock: DigitalOTP.Clock, @unchecked Sendable {
    private let lock = NSLock()
    private var now: UInt64

    init(start: UInt64) {
        now = start
    }

    func nowUnixSeconds() throws -> UInt64 {
        lock.lock()
        defer { lock.unlock() }
        return now
    }

    func advance(_ seconds: UInt64) {
        lock.lock()
        defer { lock.unlock() }
        now += seconds
    }
}

// MARK: - The bank

/// A call of `BankApi`.
enum BankCall: CaseIterable, Hashable, Sendable {
    case register
    case confirmRegistration
    case unlock
    case verify
}

/// The fake bank behind switches that take it offline, counting the calls sent.
/// Its mutable fields are guarded by a lock: the flow (an actor) calls it from its own
/// executor while the test flips the switches from the test's.
final class SwitchableBank: BankApi, @unchecked Sendable {
    static let offline = "the bank is offline (test)"

    let bank: FakeBankApi
    private let lock = NSLock()
    private var offlineCalls: Set<BankCall> = []
    private var lostAnswerCalls: Set<BankCall> = []
    private var callCounts: [BankCall: Int] = [:]

    init(_ bank: FakeBankApi) {
        self.bank = bank
    }

    /// While true, every call throws `BankApiError` (the bank cannot be reached).
    var unreachable: Bool {
        get { lock.withLock { offlineCalls == Set(BankCall.allCases) } }
        set { lock.withLock { offlineCalls = newValue ? Set(BankCall.allCases) : [] } }
    }

    /// Takes only `calls` offline (the others reach the bank).
    func setOffline(_ calls: Set<BankCall>) {
        lock.withLock { offlineCalls = calls }
    }

    /// Makes `calls` reach the bank, which acts on them, but lose its answer on the way
    /// back (they throw `BankApiError` after the bank has answered).
    func setAnswersLost(_ calls: Set<BankCall>) {
        lock.withLock { lostAnswerCalls = calls }
    }

    /// Throws if the answer to `call` is to be lost.
    private func deliver(_ call: BankCall, _ answer: Data) throws -> Data {
        if lock.withLock({ lostAnswerCalls.contains(call) }) {
            throw BankApiError(reason: SwitchableBank.offline)
        }
        return answer
    }

    /// How many calls of `call` were sent (reachable or not).
    func calls(_ call: BankCall) -> Int {
        lock.withLock { callCounts[call, default: 0] }
    }

    /// How many registrations were sent (reachable or not).
    var registerCalls: Int { calls(.register) }

    /// Counts `call`, and throws if it is offline.
    private func send(_ call: BankCall) throws {
        let offline = lock.withLock { () -> Bool in
            callCounts[call, default: 0] += 1
            return offlineCalls.contains(call)
        }
        if offline {
            throw BankApiError(reason: SwitchableBank.offline)
        }
    }

    func register(request: Data) async throws -> Data {
        try send(.register)
        return try await bank.register(request: request)
    }

    func confirmRegistration(confirmation: Data) async throws -> Data {
        try send(.confirmRegistration)
        return try deliver(.confirmRegistration, try await bank.confirmRegistration(confirmation: confirmation))
    }

    func unlock(request: Data) async throws -> Data {
        try send(.unlock)
        return try await bank.unlock(request: request)
    }

    func verifyLogin(institutionId: String, serialNumber: String, code: String) async throws -> Bool {
        try send(.verify)
        return try await bank.verifyLogin(institutionId: institutionId, serialNumber: serialNumber, code: code)
    }

    func verifyTransfer(institutionId: String, serialNumber: String, code: String, transaction: Transaction) async throws -> Bool {
        try send(.verify)
        return try await bank.verifyTransfer(
            institutionId: institutionId, serialNumber: serialNumber, code: code, transaction: transaction
        )
    }
}

// MARK: - One phone and the bank

/// The app on one phone (its Keychain stores in memory: the SDK's, the device keys'
/// handles, the profile; the Secure Enclave a `FakeEnclave`) and the bank, on one clock.
/// `relaunch` makes a new flow over the same stores: the app started again, or (with
/// another device id) deleted and installed again.
final class World {
    let clock: TestClock
    let store: MemoryStore
    let profile: MemoryStore
    /// The Keychain service of the device keys' handles.
    let keyHandles: MemoryStore
    let enclave: FakeEnclave
    let keys: HardwareDeviceKeys
    let fakeBank: FakeBankApi
    let bank: SwitchableBank
    private(set) var flow: OtpFlow

    /// - Parameter attester: what vouches for new device keys (nil: evidence `.none`).
    init(attester: KeyAttester? = nil) throws {
        let clock = TestClock(start: Fixture.t0)
        let store = MemoryStore()
        let profile = MemoryStore()
        let keyHandles = MemoryStore()
        let enclave = FakeEnclave()
        let keys = HardwareDeviceKeys(hardware: enclave, handles: keyHandles, attester: attester)
        let issuer = try Issuer.inMemory(masterKeyHex: try generateMasterKey(), clock: clock, sms: nil)
        let fakeBank = try FakeBankApi(issuer: issuer)
        let bank = SwitchableBank(fakeBank)
        self.clock = clock
        self.store = store
        self.profile = profile
        self.keyHandles = keyHandles
        self.enclave = enclave
        self.keys = keys
        self.fakeBank = fakeBank
        self.bank = bank
        flow = World.makeFlow(store: store, keys: keys, profile: profile, bank: bank, clock: clock, deviceId: Fixture.deviceId)
    }

    private static func makeFlow(
        store: MemoryStore,
        keys: HardwareDeviceKeys,
        profile: MemoryStore,
        bank: SwitchableBank,
        clock: TestClock,
        deviceId: String
    ) -> OtpFlow {
        OtpFlow(
            otp: DigitalOtp.withClock(store: store, keys: keys, clock: clock),
            bank: bank,
            clock: clock,
            profile: profile,
            config: FlowConfig(institutionId: FakeBankApi.demoInstitutionId, deviceId: deviceId, codeScreenSeconds: 60)
        )
    }

    /// A new flow (and `DigitalOtp`) over the same stores, not yet started.
    func relaunch(deviceId: String = Fixture.deviceId) {
        flow = World.makeFlow(store: store, keys: keys, profile: profile, bank: bank, clock: clock, deviceId: deviceId)
    }

    /// The SDK's view of the stores, for checks.
    func credentials(phoneNumber: String = Fixture.phone, deviceId: String = Fixture.deviceId) throws -> [CredentialInfo] {
        let app = DigitalOtp.withClock(store: store, keys: keys, clock: clock)
        return try app.credentials(device: try DeviceInfo(phoneNumber: phoneNumber, deviceId: deviceId))
    }

    /// Everything the phone keeps (the SDK's store, the key handles, the profile): what a
    /// backup holds, or what root copies out of a jailbroken phone.
    func backup() -> [[String: Data]] {
        [store.snapshot(), keyHandles.snapshot(), profile.snapshot()]
    }

    /// Puts an earlier `backup` back in place.
    func restore(_ backup: [[String: Data]]) {
        store.restore(backup[0])
        keyHandles.restore(backup[1])
        profile.restore(backup[2])
    }

    /// Sends `event`, and checks that no message on screen reveals a password, the phone
    /// number or the device id.
    @discardableResult
    func send(_ event: FlowEvent, file: StaticString = #filePath, line: UInt = #line) async -> FlowState {
        let state = await flow.send(event)
        if let message = state.notice?.message {
            for secret in Fixture.secrets {
                XCTAssertFalse(message.contains(secret), "the message reveals \"\(secret)\": \(message)", file: file, line: line)
            }
        }
        return state
    }

    /// Start (if needed), enrollment with a fresh code for `phone`, password setup: the
    /// home screen of a new, pending credential.
    @discardableResult
    func register(
        password: String = Fixture.password,
        phone: String = Fixture.phone,
        file: StaticString = #filePath,
        line: UInt = #line
    ) async throws -> CredentialInfo {
        if case .starting = await flow.state {
            await send(.start, file: file, line: line)
        }
        let code = try fakeBank.issueRegistrationCode(phoneNumber: phone)
        let setup = await send(.submitEnrollment(registrationCode: code, phoneNumber: phone), file: file, line: line)
        XCTAssertEqual(setup, .passwordSetup(notice: nil), file: file, line: line)
        let home = await send(.choosePassword(password: password, confirmation: password), file: file, line: line)
        let credential = try homeCredential(home, file: file, line: line)
        XCTAssertEqual(home.notice, .registered, file: file, line: line)
        XCTAssertEqual(credential.status, .pending, file: file, line: line)
        return credential
    }

    /// From home: asks for a login code and enters `password`; the code screen.
    func loginCode(
        password: String = Fixture.password,
        file: StaticString = #filePath,
        line: UInt = #line
    ) async throws -> CodeScreen {
        let prompt = await send(.requestLoginCode, file: file, line: line)
        XCTAssertEqual(prompt, .passwordEntry(purpose: .login, notice: nil), file: file, line: line)
        let shown = await send(.enterPassword(password), file: file, line: line)
        return try codeScreen(shown, file: file, line: line)
    }
}

// MARK: - Reading states

struct UnexpectedState: Error, CustomStringConvertible {
    let state: FlowState
    let expected: String
    var description: String { "expected \(expected), got \(state)" }
}

/// The screen of a state, without its data.
enum Screen: Equatable {
    case starting
    case enrollment
    case passwordSetup
    case finishingRegistration
    case home
    case confirmTransfer
    case passwordEntry
    case changePassword
    case showingCode
    case reRegistrationRequired
}

extension FlowState {
    var screen: Screen {
        switch self {
        case .starting: return .starting
        case .enrollment: return .enrollment
        case .passwordSetup: return .passwordSetup
        case .finishingRegistration: return .finishingRegistration
        case .home: return .home
        case .confirmTransfer: return .confirmTransfer
        case .passwordEntry: return .passwordEntry
        case .changePassword: return .changePassword
        case .showingCode: return .showingCode
        case .reRegistrationRequired: return .reRegistrationRequired
        }
    }

    var notice: FlowNotice? {
        switch self {
        case .enrollment(_, let notice), .passwordSetup(let notice), .finishingRegistration(let notice), .home(_, let notice),
             .passwordEntry(_, let notice), .changePassword(let notice):
            return notice
        case .showingCode(let screen):
            return screen.notice
        case .starting, .confirmTransfer, .reRegistrationRequired:
            return nil
        }
    }
}

/// The kind of a notice, without its reason.
enum NoticeKind: Equatable {
    case invalidRegistrationCode
    case invalidPhoneNumber
    case weakPassword
    case passwordsDiffer
    case wrongPassword
    case registrationRejected
    case invalidBankResponse
    case bankUnavailable
    case clockOutOfSync
    case notUsable
    case deviceKeyFailed
    case invalidTransaction
    case registered
    case passwordChanged
    case activated
    case loginAccepted
    case transferAccepted
    case codeRejected
    case codeExpired
    case screenClosed
    case reset
    case failure
}

extension FlowNotice {
    var kind: NoticeKind {
        switch self {
        case .invalidRegistrationCode: return .invalidRegistrationCode
        case .invalidPhoneNumber: return .invalidPhoneNumber
        case .weakPassword: return .weakPassword
        case .passwordsDiffer: return .passwordsDiffer
        case .wrongPassword: return .wrongPassword
        case .registrationRejected: return .registrationRejected
        case .invalidBankResponse: return .invalidBankResponse
        case .bankUnavailable: return .bankUnavailable
        case .clockOutOfSync: return .clockOutOfSync
        case .notUsable: return .notUsable
        case .deviceKeyFailed: return .deviceKeyFailed
        case .invalidTransaction: return .invalidTransaction
        case .registered: return .registered
        case .passwordChanged: return .passwordChanged
        case .activated: return .activated
        case .loginAccepted: return .loginAccepted
        case .transferAccepted: return .transferAccepted
        case .codeRejected: return .codeRejected
        case .codeExpired: return .codeExpired
        case .screenClosed: return .screenClosed
        case .reset: return .reset
        case .failure: return .failure
        }
    }
}

/// The credential of a home screen; fails the test (and throws) on another screen.
func homeCredential(_ state: FlowState, file: StaticString = #filePath, line: UInt = #line) throws -> CredentialInfo {
    guard case .home(let credential, _) = state else {
        XCTFail("expected the home screen, got \(state)", file: file, line: line)
        throw UnexpectedState(state: state, expected: "home")
    }
    return credential
}

/// The code screen of a state; fails the test (and throws) on another screen.
func codeScreen(_ state: FlowState, file: StaticString = #filePath, line: UInt = #line) throws -> CodeScreen {
    guard case .showingCode(let screen) = state else {
        XCTFail("expected the code screen, got \(state)", file: file, line: line)
        throw UnexpectedState(state: state, expected: "showingCode")
    }
    return screen
}

/// The transfer on a confirmation screen; fails the test (and throws) on another screen.
func confirmation(_ state: FlowState, file: StaticString = #filePath, line: UInt = #line) throws -> TransferConfirmation {
    guard case .confirmTransfer(let confirmation) = state else {
        XCTFail("expected the confirmation screen, got \(state)", file: file, line: line)
        throw UnexpectedState(state: state, expected: "confirmTransfer")
    }
    return confirmation
}

/// Whether `text` matches the whole regular expression `pattern`.
func matchesWhole(_ text: String, _ pattern: String) -> Bool {
    text.range(of: "^" + pattern + "$", options: .regularExpression) != nil
}

/// `code` with its last digit changed: a typo the check digit catches.
func withTypo(_ code: String) -> String {
    var characters = Array(code)
    let last = characters.count - 1
    characters[last] = characters[last] == "0" ? "1" : "0"
    return String(characters)
}
