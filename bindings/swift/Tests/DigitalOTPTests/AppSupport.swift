import DigitalOTP
import Foundation
import XCTest

// Helpers for AppLifecycleTests: a SecureStore and a Clock written in Swift, `TestBank`
// (the only place the tests touch the bank counterpart `Issuer`), typed DigitalOtpError
// checks and a way to run code on several threads at once. Mirrors the Kotlin
// TestStores.kt / TestClock.kt.

// MARK: - A SecureStore written in Swift

/// What `TestStore.write` throws when `throwUnexpected` is on: not a `HostError`, so
/// UniFFI hands it to Rust as an unexpected callback error (`HostError::Unexpected`)
/// described by `String(describing:)`.
struct KeystoreCrash: Error, CustomStringConvertible {
    var description: String { "keystore crashed" }
}

/// A `SecureStore` written in Swift, the way an app implements it over the Keychain:
/// a dictionary in memory, with switches that make `write` fail the ways a real
/// keystore can.
///
/// - `failWrites`: `write` throws `HostError.Failed` (the documented way to fail);
/// - `throwUnexpected`: `write` throws `KeystoreCrash`, which is not a `HostError`;
/// - `dropWrites`: `write` returns normally but keeps nothing (a store that loses writes).
///
/// Called by Rust from any thread: every field is behind one lock.
final class TestStore: DigitalOTP.SecureStore, @unchecked Sendable {
    private let lock = NSLock()
    private var map: [String: Data] = [:]
    private var failWritesFlag = false
    private var throwUnexpectedFlag = false
    private var dropWritesFlag = false
    private var writeCallCount = 0

    private func synchronized<R>(_ body: () throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    var failWrites: Bool {
        get { synchronized { failWritesFlag } }
        set { synchronized { failWritesFlag = newValue } }
    }

    var throwUnexpected: Bool {
        get { synchronized { throwUnexpectedFlag } }
        set { synchronized { throwUnexpectedFlag = newValue } }
    }

    var dropWrites: Bool {
        get { synchronized { dropWritesFlag } }
        set { synchronized { dropWritesFlag = newValue } }
    }

    /// Every call to `write`, whatever its outcome.
    var writeCalls: Int { synchronized { writeCallCount } }

    // MARK: SecureStore

    func read(key: String) throws -> Data? {
        synchronized { map[key] }
    }

    func write(key: String, value: Data) throws {
        let (fail, crash, drop) = synchronized { () -> (Bool, Bool, Bool) in
            writeCallCount += 1
            return (failWritesFlag, throwUnexpectedFlag, dropWritesFlag)
        }
        if fail { throw HostError.Failed(reason: "keystore unavailable") }
        if crash { throw KeystoreCrash() }
        if drop { return }
        synchronized { map[key] = value }
    }

    func delete(key: String) throws {
        synchronized { _ = map.removeValue(forKey: key) }
    }

    // MARK: For the tests

    /// The whole content, key to hex of the value: compare two with `==`.
    func snapshot() -> [String: String] {
        synchronized { map.mapValues { value in value.map { String(format: "%02x", $0) }.joined() } }
    }

    /// The keys starting with `prefix`, sorted.
    func keys(prefix: String = "") -> [String] {
        synchronized { map.keys.filter { $0.hasPrefix(prefix) }.sorted() }
    }

    /// Every stored value.
    func values() -> [Data] {
        synchronized { Array(map.values) }
    }

    var isEmpty: Bool { synchronized { map.isEmpty } }

    /// A healthy store holding a copy of this one's content (a backup of the phone).
    func copy() -> TestStore {
        let content = synchronized { map }
        let backup = TestStore()
        backup.synchronized { backup.map = content }
        return backup
    }

    /// Puts `backup`'s content back in place of this store's: what restoring a backup,
    /// or root rolling the app's files back, does.
    func restore(from backup: TestStore) {
        let content = backup.synchronized { backup.map }
        synchronized { map = content }
    }
}

// MARK: - DeviceKeys written in Swift

/// A `DeviceKeys` written in Swift, the way an app implements it over the Secure Enclave:
/// here the keys are the SDK's software keys (`softwareDeviceKeys`) over a store of their
/// own, and the evidence is whatever the test sets (App Attest evidence, say). It records
/// what the SDK asks, and has switches that make it fail the ways a key store can:
///
/// - `failCreate`, `failSign`: `createKey` / `sign` throw `HostError.Failed` (the Secure
///   Enclave refused, the customer cancelled Face ID);
/// - `throwUnexpected`: `sign` throws `KeystoreCrash`, which is not a `HostError`;
/// - `shortPublicKey`: `createKey` returns a public key of 64 bytes, not 65.
final class TestDeviceKeys: DigitalOTP.DeviceKeys, @unchecked Sendable {
    static let refused = "the Secure Enclave refused (test)"

    /// Where the software keys are kept.
    let store = TestStore()
    private let inner: DigitalOTP.DeviceKeys
    private let lock = NSLock()
    private var evidenceValue = KeyEvidence(kind: .none)
    private var failCreateFlag = false
    private var failSignFlag = false
    private var throwUnexpectedFlag = false
    private var shortPublicKeyFlag = false
    private var createdKeys: [(alias: String, challenge: Data, publicKey: Data)] = []
    private var signedMessages: [(alias: String, message: Data)] = []
    private var deletedAliases: [String] = []

    init() {
        inner = softwareDeviceKeys(store: store)
    }

    private func synchronized<R>(_ body: () throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// The evidence `createKey` reports.
    var evidence: KeyEvidence {
        get { synchronized { evidenceValue } }
        set { synchronized { evidenceValue = newValue } }
    }

    var failCreate: Bool {
        get { synchronized { failCreateFlag } }
        set { synchronized { failCreateFlag = newValue } }
    }

    var failSign: Bool {
        get { synchronized { failSignFlag } }
        set { synchronized { failSignFlag = newValue } }
    }

    var throwUnexpected: Bool {
        get { synchronized { throwUnexpectedFlag } }
        set { synchronized { throwUnexpectedFlag = newValue } }
    }

    var shortPublicKey: Bool {
        get { synchronized { shortPublicKeyFlag } }
        set { synchronized { shortPublicKeyFlag = newValue } }
    }

    /// Every key created (also the failed attempts' aliases, with an empty public key).
    var created: [(alias: String, challenge: Data, publicKey: Data)] { synchronized { createdKeys } }
    /// Every message signed (also the refused ones).
    var signed: [(alias: String, message: Data)] { synchronized { signedMessages } }
    /// Every alias deleted.
    var deleted: [String] { synchronized { deletedAliases } }

    func createKey(alias: String, challenge: Data) throws -> DeviceKey {
        let (fail, short, evidence) = synchronized { (failCreateFlag, shortPublicKeyFlag, evidenceValue) }
        if fail {
            synchronized { createdKeys.append((alias, challenge, Data())) }
            throw HostError.Failed(reason: TestDeviceKeys.refused)
        }
        var key = try inner.createKey(alias: alias, challenge: challenge)
        synchronized { createdKeys.append((alias, challenge, key.publicKey)) }
        if short {
            key.publicKey = key.publicKey.dropLast()
        }
        key.evidence = evidence
        return key
    }

    func sign(alias: String, message: Data) throws -> Data {
        let (fail, crash) = synchronized { () -> (Bool, Bool) in
            signedMessages.append((alias, message))
            return (failSignFlag, throwUnexpectedFlag)
        }
        if fail { throw HostError.Failed(reason: TestDeviceKeys.refused) }
        if crash { throw KeystoreCrash() }
        return try inner.sign(alias: alias, message: message)
    }

    func deleteKey(alias: String) throws {
        synchronized { deletedAliases.append(alias) }
        try inner.deleteKey(alias: alias)
    }
}

// MARK: - A Clock written in Swift

/// A `Clock` written in Swift that stays where it is set; tests move it with `advance`.
/// (Qualified as `DigitalOTP.Clock`: the standard library has a `Clock` protocol too.)
final class TestClock: DigitalOTP.Clock, @unchecked Sendable {
    private let lock = NSLock()
    private var now: UInt64

    init(start: UInt64) {
        now = start
    }

    func nowUnixSeconds() throws -> UInt64 {
        seconds
    }

    /// The time the SDK sees, in Unix seconds.
    var seconds: UInt64 {
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

/// The state of a mobile OTP's latest registration at the bank, as the tests see it
/// (kept apart from the issuer's own `RegistrationState`, so the tests do not depend on
/// the issuer's types).
enum BankCredentialState: Equatable {
    case pending
    case active
    case cancelled
    case revoked
    /// A state added to the issuer after these tests were written.
    case other
}

/// One institution's bank counterpart, on the tests' clock: an `Issuer` in memory (a
/// fresh master key) serving this one institution.
///
/// Every creation and use of `Issuer` in the app tests goes through this struct, so a
/// change of the issuer's API is an edit here only. Customers are registered on demand
/// (individual, domestic, with the app's phone number: the bank refuses a registration
/// from another number), codes are issued non-face-to-face, and codes are verified for
/// the institution's customer, the way the issuer works. Mirrors tests/common/bank.rs.
struct TestBank {
    /// The employee recorded in the audit log.
    static let actor = "test"
    /// The channel that verifies codes.
    static let channel = "web"
    /// Every customer's number on record: the one the app's `DeviceInfo` gives.
    static let phone = "010-1234-5678"
    /// The vendor code of the SDK's mobile OTPs.
    static let mobileVendor = "DOTP"

    let institutionId: String
    let institutionName: String
    let issuer: Issuer

    init(institutionId: String, institutionName: String, clock: TestClock) throws {
        self.institutionId = institutionId
        self.institutionName = institutionName
        issuer = try Issuer.inMemory(masterKeyHex: try generateMasterKey(), clock: clock)
        try issuer.addInstitution(actor: TestBank.actor, institutionId: institutionId, name: institutionName)
    }

    /// Registers `customer` (individual, domestic, phone `TestBank.phone`) unless known.
    func ensureCustomer(_ customer: String) throws {
        let customerRecord = NewCustomer(
            institutionId: institutionId,
            customerId: customer,
            name: "홍길동",
            kind: .individual,
            residency: .domestic,
            phoneNumber: TestBank.phone
        )
        do {
            try issuer.registerCustomer(actor: TestBank.actor, customer: customerRecord)
        } catch IssuerError.CustomerExists {
            // Registered by an earlier call.
        }
    }

    /// A registration code for `customer`, displayed as `1234-5678-9012`
    /// (non-face-to-face, after the bank's own identity check).
    func issueCode(customer: String) throws -> String {
        try ensureCustomer(customer)
        return try issuer.issueNonFaceToFace(
            actor: TestBank.actor, institutionId: institutionId, customerId: customer, verificationReference: "kyc-test"
        )
    }

    /// The channel the app talks to.
    static let app = "mobile-app"

    /// The bank's answer to an app's registration message: to the request, the response;
    /// to the confirmation, the outcome.
    func answer(_ message: Data) -> Data {
        issuer.handleRegistration(actor: TestBank.app, message: message)
    }

    /// The bank's answer to an app's unlock request (it counts the password guess).
    func unlock(_ request: Data) -> Data {
        issuer.handleUnlock(actor: TestBank.app, request: request)
    }

    /// Sets the institution's device key policy (`.require`: only device keys with valid
    /// platform attestation may register; no roots are trusted here, so none has).
    func setAttestation(_ requirement: Requirement) throws {
        let policy = AttestationPolicy(
            requirement: requirement, androidRoots: [], androidPackages: [], appleRoots: [], appleAppIds: [],
            appleDevelopment: false
        )
        try issuer.setAttestationPolicy(actor: TestBank.actor, institutionId: institutionId, policy: policy, requireIntegrity: false)
    }

    /// The audit log's hash chain, checked.
    func verifyAudit() throws -> AuditVerification {
        try issuer.verifyAudit()
    }

    /// The details of the audit records of `action` (`unlock`, `register_mobile_otp`…),
    /// oldest first.
    func auditDetails(_ action: String) throws -> [String] {
        try issuer.audit(filter: AuditFilter(institutionId: institutionId, action: action)).reversed().map { $0.detail }
    }

    /// Whether the bank accepts `code` as a login code of `customer`'s OTP.
    func verifyLogin(code: String, customer: String = "customer-1") throws -> Bool {
        try issuer.verifyLogin(actor: TestBank.channel, institutionId: institutionId, customerId: customer, code: code) == .accepted
    }

    /// Whether the bank accepts `code` for exactly `transaction` of `customer`.
    func verifyTransaction(code: String, transaction: Transaction, customer: String = "customer-1") throws -> Bool {
        try issuer.verifyTransaction(
            actor: TestBank.channel, institutionId: institutionId, customerId: customer, code: code, transaction: transaction
        ) == .accepted
    }

    /// The staff view of the mobile OTP `serial`, or nil if the bank has none by that serial.
    func device(serial: String) throws -> DeviceReport? {
        do {
            return try issuer.deviceInquiry(
                actor: TestBank.actor, institutionId: institutionId, vendorCode: TestBank.mobileVendor, serialNumber: serial
            )
        } catch IssuerError.UnknownDevice {
            return nil
        }
    }

    /// The state of the mobile OTP `serial`'s latest registration at the bank, or nil
    /// for an unknown serial number.
    func state(serial: String) throws -> BankCredentialState? {
        guard let report = try device(serial: serial) else {
            return nil
        }
        guard let latest = report.registrations.last else {
            return nil
        }
        switch latest.state {
        case .pending: return .pending
        case .active: return .active
        case .cancelled: return .cancelled
        case .revoked: return .revoked
        @unknown default: return .other
        }
    }

    /// The serial number of `customer`'s current (pending or active) mobile OTP at the
    /// bank, or nil (no customer yet, or no current OTP).
    func serialOf(customer: String) throws -> String? {
        let report: CustomerReport
        do {
            report = try issuer.customerInquiry(actor: TestBank.actor, institutionId: institutionId, customerId: customer)
        } catch IssuerError.UnknownCustomer {
            return nil
        }
        for device in report.devices {  // current first
            for registration in device.registrations
            where registration.institutionId == institutionId && registration.customerId == customer
                && (registration.state == .pending || registration.state == .active) {
                return device.serialNumber
            }
        }
        return nil
    }
}

// MARK: - Typed DigitalOtpError checks

enum DigitalOtpErrorKind: String {
    case invalidRegistrationCode
    case invalidDevice
    case weakPassword
    case malformedPassword
    case wrongPassword
    case locked
    case deviceMismatch
    case notRegistered
    case noRegistrationInProgress
    case registrationRejected
    case registrationIncomplete
    case noCodeInProgress
    case clockOutOfSync
    case changePasswordAgain
    case notUsable
    case invalidResponse
    case expired
    case invalidTransaction
    case keyStoreFailed
    case storageFailed
    case corruptedData
    case internalError
    /// A variant added to DigitalOtpError after these tests were written.
    case other
}

extension DigitalOtpError {
    var kind: DigitalOtpErrorKind {
        switch self {
        case .InvalidRegistrationCode: return .invalidRegistrationCode
        case .InvalidDevice: return .invalidDevice
        case .WeakPassword: return .weakPassword
        case .MalformedPassword: return .malformedPassword
        case .WrongPassword: return .wrongPassword
        case .Locked: return .locked
        case .DeviceMismatch: return .deviceMismatch
        case .NotRegistered: return .notRegistered
        case .NoRegistrationInProgress: return .noRegistrationInProgress
        case .RegistrationRejected: return .registrationRejected
        case .RegistrationIncomplete: return .registrationIncomplete
        case .NoCodeInProgress: return .noCodeInProgress
        case .ClockOutOfSync: return .clockOutOfSync
        case .ChangePasswordAgain: return .changePasswordAgain
        case .NotUsable: return .notUsable
        case .InvalidResponse: return .invalidResponse
        case .Expired: return .expired
        case .InvalidTransaction: return .invalidTransaction
        case .KeyStoreFailed: return .keyStoreFailed
        case .StorageFailed: return .storageFailed
        case .CorruptedData: return .corruptedData
        case .Internal: return .internalError
        @unknown default: return .other
        }
    }

    /// The `reason` of the variants that have one, else "".
    var reasonText: String {
        switch self {
        case .InvalidRegistrationCode(let reason),
             .InvalidDevice(let reason),
             .WeakPassword(let reason),
             .RegistrationRejected(let reason),
             .InvalidResponse(let reason),
             .InvalidTransaction(let reason),
             .KeyStoreFailed(let reason),
             .StorageFailed(let reason),
             .CorruptedData(let reason),
             .Internal(let reason):
            return reason
        default:
            return ""
        }
    }

    /// The attempts left of a `WrongPassword`, else nil.
    var remainingAttempts: UInt32? {
        if case .WrongPassword(let attemptsRemaining) = self {
            return attemptsRemaining
        }
        return nil
    }
}

// MARK: - Small helpers

/// The only element of `items`; fails the test (and throws) unless there is exactly one.
func onlyElement<T>(_ items: [T], file: StaticString = #filePath, line: UInt = #line) throws -> T {
    XCTAssertEqual(items.count, 1, "expected exactly one element: \(items)", file: file, line: line)
    return try XCTUnwrap(items.first, file: file, line: line)
}

/// `message` (one of the protocol's flat JSON objects) with its field `key` replaced by
/// `transform` of its value: what a man in the middle can do to a bank's answer.
func altered(
    _ message: Data,
    field key: String,
    file: StaticString = #filePath,
    line: UInt = #line,
    _ transform: (Any) -> Any
) throws -> Data {
    let parsed = try JSONSerialization.jsonObject(with: message)
    var object = try XCTUnwrap(parsed as? [String: Any], "not a JSON object", file: file, line: line)
    let value = try XCTUnwrap(object[key], "no field \(key) in \(String(decoding: message, as: UTF8.self))", file: file, line: line)
    object[key] = transform(value)
    let result = try JSONSerialization.data(withJSONObject: object)
    XCTAssertNotEqual(result, message, "the alteration changed nothing", file: file, line: line)
    return result
}

/// A hex string with its last digit changed (other values are returned as they are).
func flippedHex(_ value: Any) -> Any {
    guard let text = value as? String, let last = text.last else {
        return value
    }
    return String(text.dropLast()) + (last == "0" ? "1" : "0")
}

/// Whether `text` matches the whole regular expression `pattern`.
func matchesWhole(_ text: String, _ pattern: String) -> Bool {
    text.range(of: "^" + pattern + "$", options: .regularExpression) != nil
}

/// Runs closures one at a time, whichever thread calls.
final class OneAtATime: @unchecked Sendable {
    private let lock = NSLock()

    func run<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}

/// A single-use gate that lets `parties` threads through together.
final class StartGate: @unchecked Sendable {
    private let condition = NSCondition()
    private let parties: Int
    private var arrived = 0

    init(parties: Int) {
        self.parties = parties
    }

    /// Waits until every party has arrived, or `timeout` seconds have passed.
    func arriveAndWait(timeout: TimeInterval = 10) {
        condition.lock()
        defer { condition.unlock() }
        arrived += 1
        if arrived >= parties {
            condition.broadcast()
            return
        }
        let deadline = Date(timeIntervalSinceNow: timeout)
        while arrived < parties {
            if !condition.wait(until: deadline) { return }
        }
    }
}

private final class ResultSlots<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<T, Error>?]

    init(count: Int) {
        slots = Array(repeating: nil, count: count)
    }

    func set(_ index: Int, _ result: Result<T, Error>) {
        lock.lock()
        defer { lock.unlock() }
        slots[index] = result
    }

    var all: [Result<T, Error>] {
        lock.lock()
        defer { lock.unlock() }
        return slots.compactMap { $0 }
    }
}

/// Runs `body` on `count` new threads that start it together, and returns the results
/// in thread order; nil if they have not all finished within `timeout` seconds.
func runConcurrently<T>(_ count: Int, timeout: TimeInterval = 30, _ body: @escaping @Sendable () throws -> T) -> [Result<T, Error>]? {
    let gate = StartGate(parties: count)
    let results = ResultSlots<T>(count: count)
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        let thread = Thread {
            gate.arriveAndWait()
            results.set(index, Result(catching: body))
            group.leave()
        }
        thread.start()
    }
    if group.wait(timeout: .now() + timeout) == .timedOut {
        return nil
    }
    return results.all
}
