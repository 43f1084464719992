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

/// A credential's state at the bank, as the tests see it (kept apart from the issuer's
/// own `IssuerCredentialState`, so the tests do not depend on the issuer's types).
enum BankCredentialState: Equatable {
    case pending
    case active
    case revoked
    /// A state added to the issuer after these tests were written.
    case other
}

/// One institution's bank counterpart, on the tests' clock.
///
/// Every creation and use of `Issuer` in the app tests goes through this struct, so a
/// change of the issuer's API is an edit here only. Every method is `throws` (callers
/// write `try`) and the verifications take the institution's customer as well as the
/// serial number, so an issuer that registers customers first and verifies by
/// institution and customer needs only these bodies changed.
struct TestBank {
    let institutionId: String
    let institutionName: String
    private let issuer: Issuer

    init(institutionId: String, institutionName: String, clock: TestClock) {
        self.institutionId = institutionId
        self.institutionName = institutionName
        issuer = Issuer.withClock(institutionId: institutionId, institutionName: institutionName, clock: clock)
    }

    /// A registration code for `customer`, displayed as `1234-5678-9012`.
    func issueCode(customer: String) throws -> String {
        try issuer.issueRegistrationCode(customerId: customer)
    }

    /// The bank's answer to an app's registration request.
    func answer(_ request: Data) throws -> Data {
        issuer.handleRegistration(request: request)
    }

    func verifyLogin(serial: String, code: String, customer: String = "customer-1") throws -> Bool {
        try issuer.verifyLogin(serialNumber: serial, code: code)
    }

    func verifyTransaction(serial: String, code: String, transaction: Transaction, customer: String = "customer-1") throws -> Bool {
        try issuer.verifyTransaction(serialNumber: serial, code: code, transaction: transaction)
    }

    /// A credential's state at the bank, or nil for an unknown serial number.
    func state(serial: String) throws -> BankCredentialState? {
        guard let state = issuer.credentialState(serialNumber: serial) else {
            return nil
        }
        switch state {
        case .pending: return .pending
        case .active: return .active
        case .revoked: return .revoked
        @unknown default: return .other
        }
    }

    /// The serial number of the customer's current credential, or nil.
    func serialOf(customer: String) throws -> String? {
        issuer.serialOf(customerId: customer)
    }
}

// MARK: - Typed DigitalOtpError checks

enum DigitalOtpErrorKind: String {
    case invalidRegistrationCode
    case invalidDevice
    case weakPassword
    case wrongPassword
    case locked
    case deviceMismatch
    case notRegistered
    case noRegistrationInProgress
    case registrationRejected
    case invalidResponse
    case expired
    case invalidTransaction
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
        case .WrongPassword: return .wrongPassword
        case .Locked: return .locked
        case .DeviceMismatch: return .deviceMismatch
        case .NotRegistered: return .notRegistered
        case .NoRegistrationInProgress: return .noRegistrationInProgress
        case .RegistrationRejected: return .registrationRejected
        case .InvalidResponse: return .invalidResponse
        case .Expired: return .expired
        case .InvalidTransaction: return .invalidTransaction
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

/// Whether `text` matches the whole regular expression `pattern`.
func matchesWhole(_ text: String, _ pattern: String) -> Bool {
    text.range(of: "^" + pattern + "$", options: .regularExpression) != nil
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
func runConcurrently<T>(_ count: Int, timeout: TimeInterval = 30, _ body: @escaping () throws -> T) -> [Result<T, Error>]? {
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
