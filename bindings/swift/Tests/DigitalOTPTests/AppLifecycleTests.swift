import DigitalOTP
import Foundation
import XCTest

fileprivate enum Fixture {
    static let t0: UInt64 = 1_800_000_000
    static let phone = "010-1234-5678"
    static let phoneE164 = "+821012345678"
    static let deviceId = "android-id-1"
    static let password = "482915"
    static let otherPassword = "730264"
    static let wrongPassword = "000001"
    static let credentialPrefix = "digital-otp.v1.credential."
    /// Where `softwareDeviceKeys` keeps a device key in its store.
    static let softwareKeyPrefix = "digital-otp.v2.software-key."
    /// What no error message may contain.
    static let secrets = [password, otherPassword, wrongPassword, "1234-5678", "12345678", deviceId]

    /// A transfer of `amount` won to 홍길동.
    static func transfer(_ amount: UInt64, account: String = "110-123-456789") -> Transaction {
        Transaction(amountMinor: amount, currency: "KRW", payeeAccount: account, payeeName: "홍길동")
    }
}

/// One phone with the app (over a Swift store, device keys and clock) and bank A, sharing
/// the clock.
///
/// The device keys are `softwareDeviceKeys` over a store of their own, `keyStore`: the
/// stand-in for the Secure Enclave or the Android Keystore, which is not part of the
/// app's store (nor of its backups). `store` is the app's store.
fileprivate final class World {
    let clock: TestClock
    let store: TestStore
    let keyStore: TestStore
    let keys: DeviceKeys
    let app: DigitalOtp
    let bank: TestBank
    let phone: DeviceInfo

    init() throws {
        let clock = TestClock(start: Fixture.t0)
        let store = TestStore()
        let keyStore = TestStore()
        self.clock = clock
        self.store = store
        self.keyStore = keyStore
        keys = softwareDeviceKeys(store: keyStore)
        app = DigitalOtp.withClock(store: store, keys: keys, clock: clock)
        bank = try TestBank(institutionId: "bank-a", institutionName: "Bank A", clock: clock)
        phone = try DeviceInfo(phoneNumber: Fixture.phone, deviceId: Fixture.deviceId)
    }

    /// Bank B, on the same clock.
    func bankB() throws -> TestBank {
        try TestBank(institutionId: "bank-b", institutionName: "Bank B", clock: clock)
    }

    /// The whole registration: a code from the bank (or `code`), the request with the
    /// password, the response, the confirmation, the outcome.
    @discardableResult
    func register(
        customer: String = "customer-1",
        code: String? = nil,
        bank: TestBank? = nil,
        password: String = Fixture.password,
        device: DeviceInfo? = nil,
        app: DigitalOtp? = nil
    ) throws -> CredentialInfo {
        let bank = bank ?? self.bank
        let app = app ?? self.app
        let code = try code ?? bank.issueCode(customer: customer)
        let request = try app.beginRegistration(
            institutionId: bank.institutionId, registrationCode: code, device: device ?? phone, password: password
        )
        let confirmation = try app.confirmRegistration(response: bank.answer(request))
        return try app.completeRegistration(institutionId: bank.institutionId, outcome: bank.answer(confirmation))
    }

    /// A login code: the unlock request, the bank's answer, the code.
    func login(
        _ password: String = Fixture.password,
        bank: TestBank? = nil,
        device: DeviceInfo? = nil,
        app: DigitalOtp? = nil
    ) throws -> LoginCode {
        let bank = bank ?? self.bank
        let app = app ?? self.app
        let request = try app.beginLoginCode(institutionId: bank.institutionId, password: password, device: device ?? phone)
        return try app.completeLoginCode(answer: bank.unlock(request))
    }

    /// A transaction code, the same way.
    func transactionCode(
        _ transaction: Transaction,
        password: String = Fixture.password,
        bank: TestBank? = nil,
        device: DeviceInfo? = nil
    ) throws -> TransactionCode {
        let bank = bank ?? self.bank
        let request = try app.beginTransactionCode(
            institutionId: bank.institutionId, password: password, device: device ?? phone, transaction: transaction
        )
        return try app.completeTransactionCode(answer: bank.unlock(request))
    }

    /// A change of the app password, the same way.
    func changePassword(from old: String, to new: String, bank: TestBank? = nil) throws {
        let bank = bank ?? self.bank
        let request = try app.beginChangePassword(institutionId: bank.institutionId, oldPassword: old, newPassword: new, device: phone)
        try app.completeChangePassword(answer: bank.unlock(request))
    }

    /// Puts back a copy of the whole phone (the app's store and the device keys).
    func restore(store backup: TestStore, keys keysBackup: TestStore) {
        store.restore(from: backup)
        keyStore.restore(from: keysBackup)
    }

    func institutions() throws -> [String] {
        try app.credentials(device: phone).map { $0.institutionId }
    }

    func attemptsRemaining(_ institutionId: String = "bank-a") throws -> UInt32? {
        try app.credentials(device: phone).first { $0.institutionId == institutionId }?.attemptsRemaining
    }
}

/// Asserts that `expression` throws a `DigitalOtpError` of `kind`, and that none of its
/// descriptions reveals a password, the phone number or the device id. Returns the error.
@discardableResult
private func assertFails<T>(
    _ kind: DigitalOtpErrorKind,
    _ expression: @autoclosure () throws -> T,
    file: StaticString = #filePath,
    line: UInt = #line
) -> DigitalOtpError? {
    var caught: DigitalOtpError?
    XCTAssertThrowsError(try expression(), file: file, line: line) { error in
        guard let otpError = error as? DigitalOtpError else {
            XCTFail("expected DigitalOtpError.\(kind), got \(error)", file: file, line: line)
            return
        }
        XCTAssertEqual(otpError.kind, kind, "\(otpError)", file: file, line: line)
        for text in [String(describing: otpError), String(reflecting: otpError), otpError.localizedDescription] {
            for secret in Fixture.secrets {
                XCTAssertFalse(text.contains(secret), "\(otpError.kind) reveals \"\(secret)\": \(text)", file: file, line: line)
            }
        }
        caught = otpError
    }
    return caught
}

/// The app side end to end from Swift, against the bank counterpart (`TestBank` over
/// `Issuer`), with a `SecureStore`, `DeviceKeys` (software, over a Swift store) and a
/// `Clock` implemented in Swift. Mirrors the Kotlin AppLifecycleTest and
/// tests/app_lifecycle.rs.
///
/// Registration is two round trips (request → response, confirmation → outcome), every
/// code one (the unlock: the bank counts the password guess). Every registration and
/// every unlock costs one PBKDF2 of 1,000,000 iterations (~0.2 s), so each test keeps its
/// count of them low.
final class AppLifecycleTests: XCTestCase {
    private var w: World!

    override func setUpWithError() throws {
        try super.setUpWithError()
        w = try World()
    }

    override func tearDown() {
        w = nil
        super.tearDown()
    }

    // MARK: - The whole lifecycle

    /// Register, activate, log in, confirm a transfer, lock, register again; the bank's
    /// audit chain is whole afterwards.
    func testWholeLifecycle() throws {
        let t0 = Fixture.t0
        let password = Fixture.password
        let wrongPassword = Fixture.wrongPassword

        // The bank issues a registration code; the customer types it into the app and
        // chooses the app password: both go into the request.
        let code = try w.bank.issueCode(customer: "customer-1")
        XCTAssertTrue(matchesWhole(code, "[0-9]{4}-[0-9]{4}-[0-9]{4}"), "displayed as 1234-5678-9012: \(code)")
        try checkRegistrationCode(code: code)
        let request = try w.app.beginRegistration(institutionId: "bank-a", registrationCode: code, device: w.phone, password: password)
        XCTAssertTrue(w.store.isEmpty, "beginRegistration writes nothing to the app's store")
        XCTAssertEqual(w.keyStore.keys(prefix: Fixture.softwareKeyPrefix).count, 1, "it creates the credential's device key")
        let confirmation = try w.app.confirmRegistration(response: w.bank.answer(request))
        let registering = try onlyElement(w.app.credentials(device: w.phone))
        XCTAssertEqual(registering.status, .registering)
        XCTAssertNil(try w.bank.serialOf(customer: "customer-1"), "nothing is registered at the bank before the confirmation")
        let info = try w.app.completeRegistration(institutionId: "bank-a", outcome: w.bank.answer(confirmation))
        XCTAssertEqual(info.status, .pending)
        XCTAssertEqual(info.institutionId, "bank-a")
        XCTAssertEqual(info.institutionName, "Bank A")
        XCTAssertEqual(info.attemptsRemaining, 5)
        XCTAssertGreaterThan(info.validUntil, t0)
        let serial = info.serialNumber
        XCTAssertEqual(registering.serialNumber, serial)
        XCTAssertEqual(try w.bank.serialOf(customer: "customer-1"), serial)
        XCTAssertEqual(try w.bank.state(serial: serial), .pending)
        XCTAssertEqual(try w.app.credentials(device: w.phone), [info])

        // Activation: the first login code verifies at the bank.
        let login = try w.login()
        XCTAssertEqual(login.serialNumber, serial)
        XCTAssertTrue(matchesWhole(login.code, "[0-9]{6}"), "a 6-digit login code")
        XCTAssertTrue(login.validFrom <= t0 && t0 < login.validUntil)
        XCTAssertEqual(login.secondsRemaining, login.validUntil - t0)
        XCTAssertTrue(try w.bank.verifyLogin(code: login.code))
        XCTAssertEqual(try w.bank.state(serial: serial), .active)
        try w.app.confirmActivation(institutionId: "bank-a")
        XCTAssertEqual(try onlyElement(w.app.credentials(device: w.phone)).status, .active)

        // The same code again is a replay; 30 s later a new code is accepted.
        XCTAssertFalse(try w.bank.verifyLogin(code: login.code), "replay")
        w.clock.advance(30)
        let next = try w.login()
        XCTAssertGreaterThanOrEqual(next.validFrom, login.validUntil, "the next time step")
        XCTAssertTrue(try w.bank.verifyLogin(code: next.code))

        // A transaction code is bound to the amount and the payee.
        let tx = Fixture.transfer(1_500_000)
        let txCode = try w.transactionCode(tx)
        XCTAssertEqual(txCode.summary, try transactionSummary(transaction: tx))
        XCTAssertEqual(txCode.summary, "Transfer KRW 1,500,000\nPayee: 홍길동\nAccount: 110123456789")
        XCTAssertEqual(txCode.serialNumber, serial)
        XCTAssertTrue(matchesWhole(txCode.code, "[0-9]{8}"), "an 8-digit transaction code")
        XCTAssertFalse(try w.bank.verifyTransaction(code: txCode.code, transaction: Fixture.transfer(1_500_001)), "another amount")
        XCTAssertFalse(
            try w.bank.verifyTransaction(code: txCode.code, transaction: Fixture.transfer(1_500_000, account: "110-123-456788")),
            "another payee"
        )
        XCTAssertTrue(try w.bank.verifyTransaction(code: txCode.code, transaction: Fixture.transfer(1_500_000)))
        XCTAssertFalse(try w.bank.verifyTransaction(code: txCode.code, transaction: Fixture.transfer(1_500_000)), "replay")

        // A login code of this credential that the bank never sees (it is used below).
        w.clock.advance(30)
        let stale = try w.login()
        // The whole phone as it is now (the app's store and, software keys being bytes,
        // the device keys): the old credential, usable.
        let oldStore = w.store.copy()
        let oldKeys = w.keyStore.copy()

        // Five wrong passwords lock it; then the right one is refused too.
        for remaining in [UInt32(4), 3, 2, 1] {
            let e = assertFails(.wrongPassword, try w.login(wrongPassword))
            XCTAssertEqual(e?.remainingAttempts, remaining)
        }
        assertFails(.locked, try w.login(wrongPassword))
        assertFails(.locked, try w.login(password))
        assertFails(.locked, try w.transactionCode(tx))
        let locked = try onlyElement(w.app.credentials(device: w.phone))
        XCTAssertEqual(locked.status, .locked)
        XCTAssertEqual(locked.attemptsRemaining, 0)
        XCTAssertTrue(w.keyStore.keys(prefix: Fixture.softwareKeyPrefix).isEmpty, "the device key is destroyed")

        // Registering again with a new code restores service; the old serial is revoked.
        w.clock.advance(30)
        let again = try w.register(customer: "customer-1")
        XCTAssertEqual(again.status, .pending)
        XCTAssertNotEqual(again.serialNumber, serial)
        XCTAssertEqual(try w.bank.state(serial: serial), .revoked)
        let revoked = try XCTUnwrap(try w.bank.device(serial: serial))
        XCTAssertEqual(revoked.state, .cancelled)
        XCTAssertEqual(revoked.registrations.last?.endedReason, "re-registered on a new device")
        XCTAssertEqual(try w.bank.state(serial: again.serialNumber), .pending)
        XCTAssertEqual(try w.bank.serialOf(customer: "customer-1"), again.serialNumber)
        let fresh = try w.login()
        XCTAssertEqual(fresh.serialNumber, again.serialNumber)
        // The old phone, restored whole, cannot even make a code any more: the bank
        // refuses to unlock an OTP locked by wrong passwords, and says so every time. Its
        // unused code from before is refused too; the new credential's is accepted.
        let restored = DigitalOtp.withClock(store: oldStore, keys: softwareDeviceKeys(store: oldKeys), clock: w.clock)
        assertFails(.locked, try w.login(password, app: restored))
        XCTAssertEqual(try onlyElement(restored.credentials(device: w.phone)).status, .locked, "the copy destroys its seed too")
        XCTAssertFalse(try w.bank.verifyLogin(code: stale.code), "the old serial is cancelled")
        XCTAssertTrue(try w.bank.verifyLogin(code: fresh.code))
        XCTAssertEqual(try w.bank.state(serial: again.serialNumber), .active)
        try w.app.confirmActivation(institutionId: "bank-a")
        let listed = try onlyElement(w.app.credentials(device: w.phone))
        XCTAssertEqual(listed.status, .active)
        XCTAssertEqual(listed.attemptsRemaining, 5)
        XCTAssertEqual(w.store.keys(prefix: Fixture.credentialPrefix).count, 1, "the locked credential was replaced")
        XCTAssertEqual(w.keyStore.keys(prefix: Fixture.softwareKeyPrefix).count, 1, "one device key: the new credential's")

        // Everything the bank did is in its audit log, whose hash chain is whole.
        let audit = try w.bank.verifyAudit()
        XCTAssertEqual(audit.faults, [])
        XCTAssertGreaterThanOrEqual(audit.entries, 20, "registrations, unlocks, verifications")
    }

    // MARK: - Registration failures

    func testMistypedRegistrationCodeIsRefusedBeforeAnyRequest() throws {
        let code = try w.bank.issueCode(customer: "customer-1")
        try checkRegistrationCode(code: code)
        // Change one digit: the Damm check digit catches every single-digit error.
        let first = try XCTUnwrap(code.first?.wholeNumberValue)
        let typo = String((first + 1) % 10) + String(code.dropFirst())
        assertFails(.invalidRegistrationCode, try checkRegistrationCode(code: typo))
        assertFails(
            .invalidRegistrationCode,
            try w.app.beginRegistration(institutionId: "bank-a", registrationCode: typo, device: w.phone, password: Fixture.password)
        )
        for malformed in ["", "1234", "1234-5678-901", "abcd-efgh-ijkl", "1234-5678-90123"] {
            assertFails(.invalidRegistrationCode, try checkRegistrationCode(code: malformed))
            assertFails(
                .invalidRegistrationCode,
                try w.app.beginRegistration(institutionId: "bank-a", registrationCode: malformed, device: w.phone, password: Fixture.password)
            )
        }
        // Nothing is in progress, nothing was written, no device key was made.
        assertFails(.noRegistrationInProgress, try w.app.confirmRegistration(response: Data("{}".utf8)))
        XCTAssertEqual(w.store.writeCalls, 0)
        XCTAssertEqual(w.keyStore.writeCalls, 0)
    }

    /// The password is an input of the request: a weak one is refused by
    /// beginRegistration, before any request (and any device key) exists. A registration
    /// already begun with a good password is still in progress.
    func testWeakPasswordsAreRefusedByBeginRegistrationBeforeAnyRequest() throws {
        for weak in ["123456", "111111", "234567", "12345", "987654", "121212", "12345a", "1234567", ""] {
            assertFails(.weakPassword, try checkPasswordPolicy(password: weak))
        }
        try checkPasswordPolicy(password: Fixture.password)
        try checkPasswordPolicy(password: Fixture.otherPassword)

        let code = try w.bank.issueCode(customer: "customer-1")
        let request = try w.app.beginRegistration(institutionId: "bank-a", registrationCode: code, device: w.phone, password: Fixture.password)
        for weak in ["123456", "111111", "234567", "12345"] {
            let e = assertFails(
                .weakPassword,
                try w.app.beginRegistration(institutionId: "bank-a", registrationCode: code, device: w.phone, password: weak)
            )
            XCTAssertFalse((e?.reasonText ?? "").trimmingCharacters(in: .whitespaces).isEmpty)
        }
        XCTAssertEqual(w.store.writeCalls, 0, "a refused password writes nothing")
        XCTAssertEqual(w.keyStore.keys(prefix: Fixture.softwareKeyPrefix).count, 1, "only the good request's device key exists")
        // The registration begun with the good password goes on.
        let confirmation = try w.app.confirmRegistration(response: w.bank.answer(request))
        let info = try w.app.completeRegistration(institutionId: "bank-a", outcome: w.bank.answer(confirmation))
        XCTAssertEqual(info.status, .pending)
        XCTAssertTrue(try w.bank.verifyLogin(code: try w.login(Fixture.password).code))
    }

    /// A code that passes the check digit but is not the one the bank issued to this phone
    /// is not reported at the request: the bank answers every request alike, and the
    /// key confirmation fails at confirmRegistration. Every request is a counted guess:
    /// after five wrong ones the code is void.
    func testWrongRegistrationCodeFailsAtConfirmRegistrationAsRejected() throws {
        let bankB = try w.bankB()
        let right = try w.bank.issueCode(customer: "customer-1")
        let wrong = try bankB.issueCode(customer: "customer-1") // a real code, but bank B's
        XCTAssertNotEqual(right, wrong)
        try checkRegistrationCode(code: wrong)

        let request = try w.app.beginRegistration(institutionId: "bank-a", registrationCode: wrong, device: w.phone, password: Fixture.password)
        let response = w.bank.answer(request)
        let e = assertFails(.registrationRejected, try w.app.confirmRegistration(response: response))
        XCTAssertFalse((e?.reasonText ?? "").isEmpty)
        XCTAssertEqual(w.store.writeCalls, 0, "a rejected registration writes nothing")
        XCTAssertTrue(w.keyStore.keys(prefix: Fixture.softwareKeyPrefix).isEmpty, "its device key is deleted")
        XCTAssertNil(try w.bank.serialOf(customer: "customer-1"))
        // The attempt is over.
        assertFails(.noRegistrationInProgress, try w.app.confirmRegistration(response: response))

        // The right code still registers (the wrong guess was one of five).
        let first = try w.register(code: right)
        XCTAssertEqual(first.status, .pending)

        // A new code, five wrong guesses: the code is void, the right one is rejected too.
        let next = try w.bank.issueCode(customer: "customer-1")
        for _ in 0..<5 {
            let guess = try w.app.beginRegistration(institutionId: "bank-a", registrationCode: wrong, device: w.phone, password: Fixture.password)
            assertFails(.registrationRejected, try w.app.confirmRegistration(response: w.bank.answer(guess)))
        }
        assertFails(.registrationRejected, try w.register(code: next))
        // The credential registered before is untouched, here and at the bank.
        XCTAssertEqual(try w.app.credentials(device: w.phone), [first])
        XCTAssertEqual(try w.bank.serialOf(customer: "customer-1"), first.serialNumber)
        XCTAssertEqual(w.keyStore.keys(prefix: Fixture.softwareKeyPrefix).count, 1)
    }

    func testExpiredOrUsedRegistrationCodeFailsAtConfirmRegistrationAsRejected() throws {
        let code = try w.bank.issueCode(customer: "customer-1")
        let request = try w.app.beginRegistration(institutionId: "bank-a", registrationCode: code, device: w.phone, password: Fixture.password)
        w.clock.advance(601) // valid for 10 minutes
        let response = w.bank.answer(request)
        assertFails(.registrationRejected, try w.app.confirmRegistration(response: response))
        // The expired code is void for good.
        assertFails(.registrationRejected, try w.register(code: code))
        XCTAssertTrue(w.store.isEmpty, "failed registrations write nothing")
        XCTAssertEqual(w.store.writeCalls, 0)
        XCTAssertTrue(w.keyStore.isEmpty, "nor keep a device key")
        XCTAssertNil(try w.bank.serialOf(customer: "customer-1"))

        // A used code: it registered once; again, it is rejected, and changes nothing.
        let used = try w.bank.issueCode(customer: "customer-1")
        let info = try w.register(code: used)
        let before = w.store.snapshot()
        assertFails(.registrationRejected, try w.register(code: used))
        XCTAssertEqual(w.store.snapshot(), before)
        XCTAssertEqual(try w.app.credentials(device: w.phone), [info])
        XCTAssertEqual(try w.bank.serialOf(customer: "customer-1"), info.serialNumber)
        XCTAssertEqual(w.keyStore.keys(prefix: Fixture.softwareKeyPrefix).count, 1)
    }

    /// A response altered in transit fails the key confirmation exactly as a wrong code
    /// does (RegistrationRejected); one that is not a response at all is InvalidResponse.
    /// Either way nothing is written and the attempt is over.
    func testTamperedBankResponseIsRefusedWritesNothingAndEndsTheAttempt() throws {
        let code = try w.bank.issueCode(customer: "customer-1")
        let request = try w.app.beginRegistration(institutionId: "bank-a", registrationCode: code, device: w.phone, password: Fixture.password)
        let response = w.bank.answer(request)
        let tampered = try altered(response, field: "grant", flippedHex)
        assertFails(.registrationRejected, try w.app.confirmRegistration(response: tampered))
        XCTAssertTrue(w.store.isEmpty)
        XCTAssertEqual(w.store.writeCalls, 0, "not a single write")
        XCTAssertTrue(w.keyStore.isEmpty, "the attempt's device key is deleted")
        // The attempt is over: even the genuine response needs a new beginRegistration.
        assertFails(.noRegistrationInProgress, try w.app.confirmRegistration(response: response))
        // Garbage is InvalidResponse.
        for garbage in [Data(), Data("null".utf8), Data(repeating: 0xFF, count: 10)] {
            _ = try w.app.beginRegistration(
                institutionId: "bank-a", registrationCode: try w.bank.issueCode(customer: "customer-1"), device: w.phone,
                password: Fixture.password
            )
            assertFails(.invalidResponse, try w.app.confirmRegistration(response: garbage))
        }
        XCTAssertTrue(w.store.isEmpty)
        XCTAssertTrue(w.keyStore.isEmpty)
        XCTAssertNil(try w.bank.serialOf(customer: "customer-1"))
    }

    /// Between confirmRegistration and completeRegistration the credential is stored but
    /// REGISTERING: it makes no code until the bank's outcome is given, and an altered
    /// outcome changes nothing.
    func testCredentialIsRegisteringBetweenConfirmAndComplete() throws {
        let code = try w.bank.issueCode(customer: "customer-1")
        let request = try w.app.beginRegistration(institutionId: "bank-a", registrationCode: code, device: w.phone, password: Fixture.password)
        let confirmation = try w.app.confirmRegistration(response: w.bank.answer(request))
        let listed = try onlyElement(w.app.credentials(device: w.phone))
        XCTAssertEqual(listed.status, .registering)
        XCTAssertEqual(listed.institutionId, "bank-a")
        XCTAssertEqual(listed.institutionName, "Bank A")
        XCTAssertEqual(listed.attemptsRemaining, 5)
        XCTAssertEqual(w.store.keys(prefix: Fixture.credentialPrefix).count, 1, "stored at the confirmation")
        assertFails(.registrationIncomplete, try w.app.beginLoginCode(institutionId: "bank-a", password: Fixture.password, device: w.phone))
        assertFails(
            .registrationIncomplete,
            try w.app.beginTransactionCode(institutionId: "bank-a", password: Fixture.password, device: w.phone, transaction: Fixture.transfer(1_000))
        )
        assertFails(.registrationIncomplete, try w.app.confirmActivation(institutionId: "bank-a"))

        let outcome = w.bank.answer(confirmation)
        XCTAssertEqual(try w.bank.state(serial: listed.serialNumber), .pending, "registered at the bank")
        // An altered outcome (its MAC, or the serial number it names) is not the bank's
        // answer: refused, and the credential keeps waiting for the genuine one.
        let forgeries = [
            try altered(outcome, field: "mac", flippedHex),
            try altered(outcome, field: "serial_number") { serial in
                (serial as? String).map { String($0.dropLast()) + ($0.last == "0" ? "1" : "0") } ?? serial
            },
            Data([0xFF]),
        ]
        for forged in forgeries {
            assertFails(.invalidResponse, try w.app.completeRegistration(institutionId: "bank-a", outcome: forged))
        }
        assertFails(.notRegistered, try w.app.completeRegistration(institutionId: "bank-b", outcome: outcome))
        XCTAssertEqual(try onlyElement(w.app.credentials(device: w.phone)).status, .registering, "an altered outcome changes nothing")

        let info = try w.app.completeRegistration(institutionId: "bank-a", outcome: outcome)
        XCTAssertEqual(info.status, .pending)
        XCTAssertEqual(info.serialNumber, listed.serialNumber)
        assertFails(.noRegistrationInProgress, try w.app.completeRegistration(institutionId: "bank-a", outcome: outcome))
        XCTAssertTrue(try w.bank.verifyLogin(code: try w.login().code))
    }

    /// Under a policy that requires attested device keys, the software key's request is
    /// refused (RegistrationRejected at confirmRegistration) before the code is guessed:
    /// the same code registers once the policy allows unattested keys.
    func testRequiredAttestationRefusesASoftwareDeviceKey() throws {
        try w.bank.setAttestation(.require)
        let code = try w.bank.issueCode(customer: "customer-1")
        let request = try w.app.beginRegistration(institutionId: "bank-a", registrationCode: code, device: w.phone, password: Fixture.password)
        let e = assertFails(.registrationRejected, try w.app.confirmRegistration(response: w.bank.answer(request)))
        XCTAssertTrue((e?.reasonText ?? "").contains("attested"), e?.reasonText ?? "")
        XCTAssertTrue(w.store.isEmpty)
        XCTAssertTrue(w.keyStore.isEmpty)
        XCTAssertNil(try w.bank.serialOf(customer: "customer-1"))

        try w.bank.setAttestation(.off)
        XCTAssertEqual(try w.register(code: code).status, .pending)
    }

    // MARK: - Device binding

    func testAnotherPhoneNumberOrDeviceIdIsADeviceMismatch() throws {
        try w.register()
        let others = try [
            DeviceInfo(phoneNumber: "010-1234-5679", deviceId: Fixture.deviceId),
            DeviceInfo(phoneNumber: Fixture.phone, deviceId: "android-id-2"),
        ]
        for other in others {
            // Refused on the phone, before any request: nothing reaches the bank.
            assertFails(.deviceMismatch, try w.app.beginLoginCode(institutionId: "bank-a", password: Fixture.password, device: other))
            assertFails(
                .deviceMismatch,
                try w.app.beginTransactionCode(
                    institutionId: "bank-a", password: Fixture.password, device: other, transaction: Fixture.transfer(1_000)
                )
            )
            XCTAssertEqual(try onlyElement(w.app.credentials(device: other)).status, .deviceMismatch)
        }
        // A mismatch is not a password failure.
        let mine = try onlyElement(w.app.credentials(device: w.phone))
        XCTAssertEqual(mine.status, .pending)
        XCTAssertEqual(mine.attemptsRemaining, 5)
        // Another way of writing the same number is the same device.
        let same = try DeviceInfo(phoneNumber: "+82 10 1234 5678", deviceId: Fixture.deviceId)
        let login = try w.login(device: same)
        XCTAssertTrue(try w.bank.verifyLogin(code: login.code))
    }

    func testDeviceInfoNormalizesTheNumberAndNeverShowsIt() throws {
        let device = try DeviceInfo(phoneNumber: Fixture.phone, deviceId: Fixture.deviceId)
        XCTAssertEqual(device.phoneNumberE164(), Fixture.phoneE164)
        for text in [device.description, String(describing: device), "\(device)"] {
            for part in [Fixture.phone, Fixture.phoneE164, "01012345678", "1234", "5678", Fixture.deviceId] {
                XCTAssertFalse(text.contains(part), "description reveals \"\(part)\": \(text)")
            }
        }
        XCTAssertEqual(try DeviceInfo(phoneNumber: "+82 10 1234 5678", deviceId: Fixture.deviceId).phoneNumberE164(), Fixture.phoneE164)
        assertFails(.invalidDevice, try DeviceInfo(phoneNumber: "12", deviceId: Fixture.deviceId))
        assertFails(.invalidDevice, try DeviceInfo(phoneNumber: Fixture.phone, deviceId: ""))
        assertFails(.invalidDevice, try DeviceInfo(phoneNumber: Fixture.phone, deviceId: "id\u{0000}with-nul"))
    }

    // MARK: - Storage faults

    /// Registers bank A, then fails bank B's registration with the store's switch `fault`
    /// on during `confirmRegistration` (where the credential is stored): StorageFailed,
    /// the store exactly as before, the attempt's device key deleted, bank A usable, and
    /// bank B registrable once the store is healthy again. Returns the reason.
    private func secondBankRegistrationFailsCleanly(
        _ fault: ReferenceWritableKeyPath<TestStore, Bool>,
        file: StaticString = #filePath,
        line: UInt = #line
    ) throws -> String {
        let serialA = try w.register().serialNumber
        let before = w.store.snapshot()
        let keysBefore = w.keyStore.snapshot()
        let bankB = try w.bankB()
        let request = try w.app.beginRegistration(
            institutionId: "bank-b", registrationCode: try bankB.issueCode(customer: "customer-1"), device: w.phone,
            password: Fixture.password
        )
        let response = bankB.answer(request)
        w.store[keyPath: fault] = true
        let e = assertFails(.storageFailed, try w.app.confirmRegistration(response: response), file: file, line: line)
        w.store[keyPath: fault] = false
        XCTAssertEqual(w.store.snapshot(), before, "nothing half-written", file: file, line: line)
        XCTAssertEqual(w.keyStore.snapshot(), keysBefore, "the attempt's device key is deleted", file: file, line: line)
        XCTAssertEqual(try w.institutions(), ["bank-a"], file: file, line: line)
        let login = try w.login()
        XCTAssertTrue(try w.bank.verifyLogin(code: login.code), "bank A's credential is intact", file: file, line: line)
        XCTAssertEqual(try w.bank.serialOf(customer: "customer-1"), serialA, file: file, line: line)
        XCTAssertNil(try bankB.serialOf(customer: "customer-1"), "bank B never got the confirmation", file: file, line: line)
        // The failed attempt is over; a new one succeeds on a healthy store.
        assertFails(.noRegistrationInProgress, try w.app.confirmRegistration(response: response), file: file, line: line)
        try w.register(bank: bankB)
        XCTAssertEqual(try w.institutions(), ["bank-a", "bank-b"], file: file, line: line)
        return try XCTUnwrap(e, file: file, line: line).reasonText
    }

    func testStoreThrowingHostErrorFailedOnWrite() throws {
        let reason = try secondBankRegistrationFailsCleanly(\.failWrites)
        XCTAssertTrue(reason.contains("keystore unavailable"), reason)
    }

    func testStoreThrowingAnUnexpectedErrorOnWrite() throws {
        let reason = try secondBankRegistrationFailsCleanly(\.throwUnexpected)
        XCTAssertTrue(reason.contains("unexpected error in a callback"), reason)
        XCTAssertTrue(reason.contains("keystore crashed"), reason)
    }

    func testStoreSilentlyDroppingWrites() throws {
        let reason = try secondBankRegistrationFailsCleanly(\.dropWrites)
        XCTAssertTrue(reason.contains("did not keep a write"), reason)
        // A lost write of the request's time: no request is made, so no guess reaches the bank.
        w.store.dropWrites = true
        assertFails(.storageFailed, try w.app.beginLoginCode(institutionId: "bank-a", password: Fixture.wrongPassword, device: w.phone))
        w.store.dropWrites = false
        XCTAssertEqual(try w.attemptsRemaining("bank-a"), 5)
        let e = assertFails(.wrongPassword, try w.login(Fixture.wrongPassword))
        XCTAssertEqual(e?.remainingAttempts, 4, "the first guess the bank saw")
    }

    // MARK: - Several institutions, cancel, reset, password change

    func testTwoInstitutionsCancellingBankALeavesBankBUsable() throws {
        let bankB = try w.bankB()
        let serialA = try w.register().serialNumber
        let serialB = try w.register(bank: bankB, password: Fixture.otherPassword).serialNumber
        let list = try w.app.credentials(device: w.phone)
        XCTAssertEqual(list.map { $0.institutionId }, ["bank-a", "bank-b"])
        XCTAssertEqual(list.map { $0.institutionName }, ["Bank A", "Bank B"])
        XCTAssertEqual(list.map { $0.serialNumber }, [serialA, serialB])
        XCTAssertEqual(w.keyStore.keys(prefix: Fixture.softwareKeyPrefix).count, 2, "a device key per credential")
        // Each credential has its own password, counted by its own bank.
        let e = assertFails(.wrongPassword, try w.login(Fixture.password, bank: bankB))
        XCTAssertEqual(e?.remainingAttempts, 4)
        XCTAssertEqual(try w.attemptsRemaining("bank-a"), 5)
        let b = try w.login(Fixture.otherPassword, bank: bankB)
        XCTAssertEqual(b.serialNumber, serialB)
        XCTAssertTrue(try bankB.verifyLogin(code: b.code))
        XCTAssertFalse(try w.bank.verifyLogin(code: b.code), "bank B's code is not bank A's")

        try w.app.cancel(institutionId: "bank-a")
        assertFails(.notRegistered, try w.app.beginLoginCode(institutionId: "bank-a", password: Fixture.password, device: w.phone))
        assertFails(.notRegistered, try w.app.cancel(institutionId: "bank-a"))
        XCTAssertEqual(try w.institutions(), ["bank-b"])
        XCTAssertEqual(w.store.keys(prefix: Fixture.credentialPrefix).count, 1)
        XCTAssertEqual(w.keyStore.keys(prefix: Fixture.softwareKeyPrefix).count, 1, "bank A's device key is deleted")

        w.clock.advance(30)
        let b2 = try w.login(Fixture.otherPassword, bank: bankB)
        XCTAssertTrue(try bankB.verifyLogin(code: b2.code), "bank B still works")
        // The wrong password given for bank B was followed by a success: the count is reset.
        XCTAssertEqual(try onlyElement(w.app.credentials(device: w.phone)).attemptsRemaining, 5)
    }

    func testResetAllDeletesEveryCredentialAndEmptiesTheStore() throws {
        let bankB = try w.bankB()
        try w.register()
        try w.register(bank: bankB)
        XCTAssertFalse(w.store.isEmpty)
        XCTAssertFalse(w.keyStore.isEmpty)
        try w.app.resetAll()
        XCTAssertTrue(w.store.isEmpty, "left behind: \(w.store.keys())")
        XCTAssertTrue(w.keyStore.isEmpty, "device keys left behind: \(w.keyStore.keys())")
        XCTAssertEqual(try w.app.credentials(device: w.phone), [])
        assertFails(.notRegistered, try w.app.beginLoginCode(institutionId: "bank-a", password: Fixture.password, device: w.phone))
        assertFails(.notRegistered, try w.app.beginLoginCode(institutionId: "bank-b", password: Fixture.password, device: w.phone))
        try w.app.resetAll() // idempotent
    }

    func testChangePasswordNeedsTheOldPasswordAndFollowsThePolicy() throws {
        let serial = try w.register().serialNumber
        // A weak new password is refused before any request.
        assertFails(
            .weakPassword,
            try w.app.beginChangePassword(institutionId: "bank-a", oldPassword: Fixture.password, newPassword: "111111", device: w.phone)
        )
        let e = assertFails(.wrongPassword, try w.changePassword(from: Fixture.wrongPassword, to: Fixture.otherPassword))
        XCTAssertEqual(e?.remainingAttempts, 3, "the bank counts both passwords of a change")
        try w.changePassword(from: Fixture.password, to: Fixture.otherPassword)
        XCTAssertEqual(try w.attemptsRemaining(), 5, "a success resets the count")
        let old = assertFails(.wrongPassword, try w.login(Fixture.password))
        XCTAssertEqual(old?.remainingAttempts, 4, "the change's success confirmed the guesses before it")
        let login = try w.login(Fixture.otherPassword)
        XCTAssertTrue(try w.bank.verifyLogin(code: login.code), "same seed, new password")
        XCTAssertEqual(try w.bank.state(serial: serial), .active)
    }

    // MARK: - The bank counts the password guesses

    /// 4, 3, 2, 1, then Locked, even though the whole phone (the app's store and the
    /// device keys) is rolled back to before the first guess each time: the count lives at
    /// the bank. After the lock the bank refuses the right password on any copy, and
    /// cancels the OTP.
    func testWrongPasswordsAreCountedByTheBankEvenWhenTheStoreIsRestored() throws {
        let serial = try w.register().serialNumber
        let backup = w.store.copy()
        let keysBackup = w.keyStore.copy()
        for (index, remaining) in [UInt32(4), 3, 2, 1].enumerated() {
            w.restore(store: backup, keys: keysBackup)
            XCTAssertEqual(try w.attemptsRemaining(), 5, "the restored copy knows of no wrong password")
            if index == 1 {
                // The copy would repeat the time of the first guess's request: a replay,
                // refused without an evaluation.
                assertFails(.clockOutOfSync, try w.login(Fixture.wrongPassword))
                w.restore(store: backup, keys: keysBackup)
            }
            w.clock.advance(1) // time passes between the guesses
            let e = assertFails(.wrongPassword, try w.login(Fixture.wrongPassword))
            XCTAssertEqual(e?.remainingAttempts, remaining)
        }
        w.restore(store: backup, keys: keysBackup)
        w.clock.advance(1)
        assertFails(.locked, try w.login(Fixture.wrongPassword))
        XCTAssertEqual(try onlyElement(w.app.credentials(device: w.phone)).status, .locked)
        XCTAssertTrue(w.keyStore.keys(prefix: Fixture.softwareKeyPrefix).isEmpty, "the device key is destroyed")

        // Yet another copy, with the right password: the bank refuses it as locked, and
        // cancels the OTP; the copy destroys its seed and key too.
        w.restore(store: backup, keys: keysBackup)
        w.clock.advance(1)
        XCTAssertEqual(try w.attemptsRemaining(), 5)
        assertFails(.locked, try w.login(Fixture.password))
        XCTAssertEqual(try onlyElement(w.app.credentials(device: w.phone)).status, .locked)
        XCTAssertTrue(w.keyStore.keys(prefix: Fixture.softwareKeyPrefix).isEmpty)
        XCTAssertEqual(try w.bank.state(serial: serial), .cancelled)
        let cancelled = try XCTUnwrap(try w.bank.device(serial: serial))
        XCTAssertEqual(cancelled.registrations.last?.endedReason, "locked after 5 wrong app passwords")
        // Once more from the copy: the bank says it is locked, every time.
        w.restore(store: backup, keys: keysBackup)
        w.clock.advance(1)
        assertFails(.locked, try w.login(Fixture.password))
        try w.register()
        XCTAssertTrue(try w.bank.verifyLogin(code: try w.login(Fixture.password).code), "registering again restores service")
    }

    /// An accepted code clears the count; so does the next unlock after a successful one
    /// (its request carries the proof that the password was right).
    func testAnAcceptedCodeOrTheNextUnlockClearsTheCount() throws {
        try w.register()
        for remaining in [UInt32(4), 3, 2] {
            XCTAssertEqual(assertFails(.wrongPassword, try w.login(Fixture.wrongPassword))?.remainingAttempts, remaining)
        }
        let beforeSuccess = w.store.copy()
        let login = try w.login()
        XCTAssertEqual(try w.attemptsRemaining(), 5)
        XCTAssertTrue(try w.bank.verifyLogin(code: login.code))
        // Forget what the app learned from that success (the proof its next request would
        // carry): only the bank's acceptance of the code can have cleared the count.
        w.store.restore(from: beforeSuccess)
        w.clock.advance(1)
        XCTAssertEqual(assertFails(.wrongPassword, try w.login(Fixture.wrongPassword))?.remainingAttempts, 4, "cleared by the accepted code")

        for remaining in [UInt32(3), 2, 1] {
            XCTAssertEqual(assertFails(.wrongPassword, try w.login(Fixture.wrongPassword))?.remainingAttempts, remaining)
        }
        _ = try w.login() // a right password; its code never reaches the bank
        XCTAssertEqual(
            assertFails(.wrongPassword, try w.login(Fixture.wrongPassword))?.remainingAttempts, 4,
            "cleared by the next unlock"
        )
    }

    /// Two unlocks under way at once, from two threads: each answer finds its request,
    /// and the bank counts both guesses. (The requests reach the bank in the order they
    /// were made: it refuses a request older than one it has already answered.)
    func testTwoConcurrentUnlocksAreBothCounted() throws {
        try w.register()
        let app = w.app
        let bank = w.bank
        let phone = w.phone
        let sending = OneAtATime()

        let unlockTogether = { @Sendable (password: String) -> [Result<LoginCode, Error>]? in
            let bothAnswered = StartGate(parties: 2)
            return runConcurrently(2) {
                let answer = Result {
                    try sending.run { bank.unlock(try app.beginLoginCode(institutionId: "bank-a", password: password, device: phone)) }
                }
                // Neither completes before both unlocks are under way.
                bothAnswered.arriveAndWait()
                return try app.completeLoginCode(answer: answer.get())
            }
        }

        let wrong = try XCTUnwrap(unlockTogether(Fixture.wrongPassword), "the threads did not finish")
        var remaining: [UInt32] = []
        for result in wrong {
            switch result {
            case .success:
                XCTFail("a wrong password was accepted")
            case .failure(let error):
                guard let left = (error as? DigitalOtpError)?.remainingAttempts else {
                    XCTFail("not WrongPassword: \(error)")
                    continue
                }
                remaining.append(left)
            }
        }
        XCTAssertEqual(remaining.sorted(), [3, 4])
        // The next guess shows that the bank counted both.
        XCTAssertEqual(assertFails(.wrongPassword, try w.login(Fixture.wrongPassword))?.remainingAttempts, 2)

        // And two threads with the right password both get the (same) code.
        let right = try XCTUnwrap(unlockTogether(Fixture.password), "the threads did not finish")
        let codes = try right.map { try $0.get().code }
        XCTAssertEqual(codes.count, 2)
        XCTAssertEqual(Set(codes).count, 1)
        XCTAssertEqual(try w.attemptsRemaining(), 5)
        XCTAssertTrue(try w.bank.verifyLogin(code: try XCTUnwrap(codes.first)))
    }

    /// A bank answer altered on the way (more attempts left, another bank time, another
    /// MAC) is InvalidResponse; the genuine answer still completes the unlock.
    func testAlteredUnlockAnswerIsInvalidResponse() throws {
        try w.register()
        assertFails(.noCodeInProgress, try w.app.completeLoginCode(answer: Data("{}".utf8)))
        let request = try w.app.beginLoginCode(institutionId: "bank-a", password: Fixture.password, device: w.phone)
        let answer = w.bank.unlock(request)
        let alterations = [
            try altered(answer, field: "remaining") { ($0 as? Int).map { $0 + 1 } ?? $0 },
            try altered(answer, field: "issuer_time") { ($0 as? Int).map { $0 + 3_600 } ?? $0 },
            try altered(answer, field: "mac", flippedHex),
            Data("null".utf8),
            Data(),
        ]
        for forged in alterations {
            assertFails(.invalidResponse, try w.app.completeLoginCode(answer: forged))
        }
        let login = try w.app.completeLoginCode(answer: answer)
        XCTAssertTrue(try w.bank.verifyLogin(code: login.code))
        // The unlock is over.
        assertFails(.noCodeInProgress, try w.app.completeLoginCode(answer: answer))
    }

    /// With one attempt left the bank evaluates the old password alone (a change would
    /// otherwise spend the last two guesses at once): the SDK says `ChangePasswordAgain`
    /// (the attempts are back to five) and the change made again succeeds.
    func testAChangeOfPasswordWithOneAttemptLeftIsMadeAgain() throws {
        try w.register()
        for remaining in [UInt32(4), 3, 2, 1] {
            XCTAssertEqual(assertFails(.wrongPassword, try w.login(Fixture.wrongPassword))?.remainingAttempts, remaining)
        }
        assertFails(.changePasswordAgain, try w.changePassword(from: Fixture.password, to: Fixture.otherPassword))
        XCTAssertEqual(try w.attemptsRemaining(), 5, "the old password was right")
        try w.changePassword(from: Fixture.password, to: Fixture.otherPassword)
        XCTAssertTrue(try w.bank.verifyLogin(code: try w.login(Fixture.otherPassword).code))
        XCTAssertEqual(assertFails(.wrongPassword, try w.login(Fixture.password))?.remainingAttempts, 4, "the old one is gone")
    }

    /// A login and a transaction code under way at once, completed in the other order:
    /// each answer finds its own request; an answer given to the other kind of step is
    /// not taken for it.
    func testALoginAndATransactionUnderWayAtOnceEachFindTheirRequest() throws {
        try w.register()
        let tx = Fixture.transfer(250_000)
        let loginRequest = try w.app.beginLoginCode(institutionId: "bank-a", password: Fixture.password, device: w.phone)
        let txRequest = try w.app.beginTransactionCode(institutionId: "bank-a", password: Fixture.password, device: w.phone, transaction: tx)
        let loginAnswer = w.bank.unlock(loginRequest)
        let txAnswer = w.bank.unlock(txRequest)
        let txCode = try w.app.completeTransactionCode(answer: txAnswer)
        XCTAssertEqual(txCode.summary, try transactionSummary(transaction: tx))
        let login = try w.app.completeLoginCode(answer: loginAnswer)
        XCTAssertTrue(try w.bank.verifyLogin(code: login.code))
        XCTAssertTrue(try w.bank.verifyTransaction(code: txCode.code, transaction: tx))

        w.clock.advance(30)
        let answer = w.bank.unlock(try w.app.beginLoginCode(institutionId: "bank-a", password: Fixture.password, device: w.phone))
        assertFails(.noCodeInProgress, try w.app.completeTransactionCode(answer: answer))
        assertFails(.noCodeInProgress, try w.app.completeChangePassword(answer: answer))
        XCTAssertTrue(try w.bank.verifyLogin(code: try w.app.completeLoginCode(answer: answer).code), "still under way")
    }

    /// The same code typed on two phones: both get a response, the first confirmation
    /// registers, the bank refuses the second (the code is used by then), and the second
    /// phone deletes its registering credential and its device key.
    func testAnOutcomeRefusedByTheBankDeletesTheRegisteringCredential() throws {
        let otherStore = TestStore()
        let otherKeys = TestStore()
        let other = DigitalOtp.withClock(store: otherStore, keys: softwareDeviceKeys(store: otherKeys), clock: w.clock)
        let code = try w.bank.issueCode(customer: "customer-1")
        let first = try w.app.beginRegistration(institutionId: "bank-a", registrationCode: code, device: w.phone, password: Fixture.password)
        let second = try other.beginRegistration(institutionId: "bank-a", registrationCode: code, device: w.phone, password: Fixture.otherPassword)
        let firstConfirmation = try w.app.confirmRegistration(response: w.bank.answer(first))
        let secondConfirmation = try other.confirmRegistration(response: w.bank.answer(second))
        XCTAssertEqual(try onlyElement(other.credentials(device: w.phone)).status, .registering)
        let info = try w.app.completeRegistration(institutionId: "bank-a", outcome: w.bank.answer(firstConfirmation))
        let refused = w.bank.answer(secondConfirmation)
        assertFails(.registrationRejected, try other.completeRegistration(institutionId: "bank-a", outcome: refused))
        XCTAssertEqual(try other.credentials(device: w.phone), [])
        XCTAssertEqual(otherStore.keys(prefix: Fixture.credentialPrefix), [])
        XCTAssertEqual(otherKeys.keys(prefix: Fixture.softwareKeyPrefix), [], "its device key is deleted")
        XCTAssertEqual(try w.bank.serialOf(customer: "customer-1"), info.serialNumber)
        XCTAssertTrue(try w.bank.verifyLogin(code: try w.login().code))
    }

    /// A store that fails while the outcome is stored: StorageFailed, nothing changed,
    /// and the same outcome completes once the store works.
    func testStoreFailingAtCompleteRegistrationKeepsTheOutcomeUsable() throws {
        let request = try w.app.beginRegistration(
            institutionId: "bank-a", registrationCode: try w.bank.issueCode(customer: "customer-1"), device: w.phone,
            password: Fixture.password
        )
        let outcome = w.bank.answer(try w.app.confirmRegistration(response: w.bank.answer(request)))
        let before = w.store.snapshot()
        w.store.failWrites = true
        assertFails(.storageFailed, try w.app.completeRegistration(institutionId: "bank-a", outcome: outcome))
        w.store.failWrites = false
        XCTAssertEqual(w.store.snapshot(), before)
        XCTAssertEqual(try w.app.credentials(device: w.phone).map { $0.status }, [.registering])
        XCTAssertEqual(try w.app.completeRegistration(institutionId: "bank-a", outcome: outcome).status, .pending)
    }

    // MARK: - DeviceKeys written in Swift

    /// The SDK asks a Swift `DeviceKeys` for a key per registration, with the 32-byte
    /// challenge the evidence must be bound to, and for a signature of the confirmation
    /// and of every unlock request; the evidence it reports reaches the bank, which judges
    /// it under the institution's policy: App Attest evidence that is not a valid
    /// attestation is malformed under `.require`, accepted as not attested under `.warn`.
    func testTheEvidenceOfASwiftDeviceKeysReachesTheBankWhichJudgesItUnderItsPolicy() throws {
        let keys = TestDeviceKeys()
        keys.evidence = KeyEvidence(
            kind: .appleAppAttest, appAttestObject: Data("not an attestation object".utf8), appAttestKeyId: Data(repeating: 7, count: 32)
        )
        let app = DigitalOtp.withClock(store: w.store, keys: keys, clock: w.clock)
        try w.bank.setAttestation(.require)
        let code = try w.bank.issueCode(customer: "customer-1")
        let e = assertFails(.registrationRejected, try w.register(code: code, app: app))
        XCTAssertTrue((e?.reasonText ?? "").contains("attested"), e?.reasonText ?? "")
        XCTAssertEqual(
            try w.bank.auditDetails("register_mobile_otp"), ["device key not trusted: malformed attestation evidence: App Attest CBOR"]
        )
        let refused = try onlyElement(keys.created)
        XCTAssertEqual(refused.challenge.count, 32)
        XCTAssertEqual(refused.publicKey.count, 65)
        XCTAssertEqual(keys.signed.count, 0, "refused at the request: nothing to confirm")
        XCTAssertEqual(keys.deleted, [refused.alias], "the refused key is deleted")
        XCTAssertTrue(w.store.isEmpty)

        try w.bank.setAttestation(.warn)
        let info = try w.register(code: code, app: app)
        XCTAssertEqual(info.status, .pending)
        XCTAssertEqual(keys.created.count, 2)
        XCTAssertNotEqual(keys.created[1].challenge, refused.challenge, "a challenge per request")
        XCTAssertEqual(try w.bank.auditDetails("register_mobile_otp").last, "customer customer-1, pending activation; device key not attested")
        XCTAssertEqual(keys.signed.map { $0.alias }, [keys.created[1].alias], "the confirmation is signed by the new key")
        let login = try w.login(app: app)
        XCTAssertTrue(try w.bank.verifyLogin(code: login.code))
        XCTAssertEqual(keys.signed.count, 2, "and the unlock request")
        XCTAssertEqual(Set(keys.signed.map { $0.alias }).count, 1)
        try app.cancel(institutionId: "bank-a")
        XCTAssertEqual(keys.deleted.last, keys.created[1].alias, "deleted with the credential")
        XCTAssertTrue(keys.store.keys(prefix: Fixture.softwareKeyPrefix).isEmpty)
    }

    /// A key store that fails is KeyStoreFailed, with its reason: at the key's creation
    /// (nothing written), at the confirmation's signature (nothing stored, the key
    /// deleted), at an unlock request's signature (no request, so no guess counted); a
    /// public key that is not 65 bytes is an internal error, and its key is deleted.
    func testDeviceKeysFailuresAreKeyStoreFailedAndSendNothingToTheBank() throws {
        let keys = TestDeviceKeys()
        let app = DigitalOtp.withClock(store: w.store, keys: keys, clock: w.clock)
        let code = try w.bank.issueCode(customer: "customer-1")
        func begin() throws -> Data {
            try app.beginRegistration(institutionId: "bank-a", registrationCode: code, device: w.phone, password: Fixture.password)
        }

        keys.failCreate = true
        let created = assertFails(.keyStoreFailed, try begin())
        XCTAssertTrue((created?.reasonText ?? "").contains(TestDeviceKeys.refused), created?.reasonText ?? "")
        keys.failCreate = false
        XCTAssertEqual(w.store.writeCalls, 0)

        // A malformed public key is the platform's failure, and the key it made is deleted.
        keys.shortPublicKey = true
        assertFails(.keyStoreFailed, try begin())
        keys.shortPublicKey = false
        XCTAssertEqual(keys.deleted, [keys.created[1].alias])

        let request = try begin()
        keys.failSign = true
        assertFails(.keyStoreFailed, try app.confirmRegistration(response: w.bank.answer(request)))
        keys.failSign = false
        XCTAssertTrue(w.store.isEmpty, "nothing stored")
        XCTAssertEqual(keys.deleted.last, keys.created[2].alias)
        XCTAssertNil(try w.bank.serialOf(customer: "customer-1"))

        try w.register(code: code, app: app)
        for fault in [\TestDeviceKeys.failSign, \TestDeviceKeys.throwUnexpected] {
            keys[keyPath: fault] = true
            let e = assertFails(.keyStoreFailed, try app.beginLoginCode(institutionId: "bank-a", password: Fixture.wrongPassword, device: w.phone))
            keys[keyPath: fault] = false
            XCTAssertFalse((e?.reasonText ?? "").isEmpty)
        }
        XCTAssertEqual(try w.bank.auditDetails("unlock"), [], "no request reached the bank")
        XCTAssertEqual(try onlyElement(app.credentials(device: w.phone)).attemptsRemaining, 5)
        let e = assertFails(.wrongPassword, try w.login(Fixture.wrongPassword, app: app))
        XCTAssertEqual(e?.remainingAttempts, 4, "the first guess the bank saw")
    }

    // MARK: - What is stored

    func testStoredBytesNeverContainThePhoneNumberDeviceIdOrPassword() throws {
        let code = try w.bank.issueCode(customer: "customer-1")
        let info = try w.register(code: code)
        _ = try w.login()
        _ = try w.transactionCode(Fixture.transfer(1_500_000))
        assertFails(.wrongPassword, try w.login(Fixture.wrongPassword))
        try w.changePassword(from: Fixture.password, to: Fixture.otherPassword)

        // The documented layout: a device key, an index, one credential under a random name;
        // the credential's signing key apart, with the device keys.
        let keys = w.store.keys()
        XCTAssertEqual(keys.count, 3, "\(keys)")
        XCTAssertTrue(keys.contains("digital-otp.v1.device-key") && keys.contains("digital-otp.v1.index"), "\(keys)")
        XCTAssertEqual(w.store.keys(prefix: Fixture.credentialPrefix).count, 1, "\(keys)")
        let deviceKeys = w.keyStore.keys()
        XCTAssertEqual(deviceKeys.count, 1, "\(deviceKeys)")
        XCTAssertEqual(w.keyStore.keys(prefix: Fixture.softwareKeyPrefix), deviceKeys)

        let needles = [
            Fixture.phone, Fixture.phoneE164, "01012345678", "821012345678", "1012345678", Fixture.deviceId,
            Fixture.password, Fixture.otherPassword, Fixture.wrongPassword,
            code, code.replacingOccurrences(of: "-", with: ""),
            // The blobs are encrypted: not even the serial number or a field name shows.
            info.serialNumber, "sealed_seed", "홍길동",
        ]
        for store in [w.store, w.keyStore] {
            let values = store.values()
            for needle in needles {
                for key in store.keys() {
                    XCTAssertFalse(key.contains(needle), "key \(key) contains \"\(needle)\"")
                }
                for value in values {
                    XCTAssertNil(value.range(of: Data(needle.utf8)), "a stored value contains \"\(needle)\"")
                }
            }
        }
    }
}
