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
    /// What no error message may contain.
    static let secrets = [password, otherPassword, wrongPassword, "1234-5678", "12345678", deviceId]

    /// A transfer of `amount` won to 홍길동.
    static func transfer(_ amount: UInt64, account: String = "110-123-456789") -> Transaction {
        Transaction(amountMinor: amount, currency: "KRW", payeeAccount: account, payeeName: "홍길동")
    }
}

/// One phone with the app (over a Swift store and clock) and bank A, sharing the clock.
fileprivate final class World {
    let clock: TestClock
    let store: TestStore
    let app: DigitalOtp
    let bank: TestBank
    let phone: DeviceInfo

    init() throws {
        let clock = TestClock(start: Fixture.t0)
        let store = TestStore()
        self.clock = clock
        self.store = store
        app = DigitalOtp.withClock(store: store, clock: clock)
        bank = try TestBank(institutionId: "bank-a", institutionName: "Bank A", clock: clock)
        phone = try DeviceInfo(phoneNumber: Fixture.phone, deviceId: Fixture.deviceId)
    }

    /// Bank B, on the same clock.
    func bankB() throws -> TestBank {
        try TestBank(institutionId: "bank-b", institutionName: "Bank B", clock: clock)
    }

    /// The whole registration round trip: code at the bank, request, response, password.
    @discardableResult
    func register(
        customer: String = "customer-1",
        bank: TestBank? = nil,
        password: String = Fixture.password,
        device: DeviceInfo? = nil
    ) throws -> CredentialInfo {
        let bank = bank ?? self.bank
        let code = try bank.issueCode(customer: customer)
        let request = try app.beginRegistration(registrationCode: code, device: device ?? phone)
        return try app.completeRegistration(response: try bank.answer(request), password: password)
    }

    func institutions() throws -> [String] {
        try app.credentials(device: phone).map { $0.institutionId }
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
/// `Issuer`), with a `SecureStore` and a `Clock` implemented in Swift. Mirrors the Kotlin
/// AppLifecycleTest and tests/app_lifecycle.rs.
///
/// Every password check costs one PBKDF2 of 600,000 iterations (~0.2 s), so each test
/// keeps its count of completeRegistration / generate* / changePassword calls low.
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

    /// Register, activate, log in, confirm a transfer, lock, register again.
    func testWholeLifecycle() throws {
        let t0 = Fixture.t0
        let password = Fixture.password
        let wrongPassword = Fixture.wrongPassword

        // The bank issues a registration code; the customer types it into the app.
        let code = try w.bank.issueCode(customer: "customer-1")
        XCTAssertTrue(matchesWhole(code, "[0-9]{4}-[0-9]{4}-[0-9]{4}"), "displayed as 1234-5678-9012: \(code)")
        try checkRegistrationCode(code: code)
        let request = try w.app.beginRegistration(registrationCode: code, device: w.phone)
        XCTAssertTrue(w.store.isEmpty, "beginRegistration writes nothing")
        let response = try w.bank.answer(request)
        let info = try w.app.completeRegistration(response: response, password: password)
        XCTAssertEqual(info.status, .pending)
        XCTAssertEqual(info.institutionId, "bank-a")
        XCTAssertEqual(info.institutionName, "Bank A")
        XCTAssertEqual(info.attemptsRemaining, 5)
        XCTAssertGreaterThan(info.validUntil, t0)
        let serial = info.serialNumber
        XCTAssertEqual(try w.bank.serialOf(customer: "customer-1"), serial)
        XCTAssertEqual(try w.bank.state(serial: serial), .pending)
        XCTAssertEqual(try w.app.credentials(device: w.phone), [info])

        // Activation: the first login code verifies at the bank.
        let login = try w.app.generate(institutionId: "bank-a", password: password, device: w.phone)
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
        let next = try w.app.generate(institutionId: "bank-a", password: password, device: w.phone)
        XCTAssertGreaterThanOrEqual(next.validFrom, login.validUntil, "the next time step")
        XCTAssertTrue(try w.bank.verifyLogin(code: next.code))

        // A transaction code is bound to the amount and the payee.
        let tx = Fixture.transfer(1_500_000)
        let txCode = try w.app.generateForTransaction(institutionId: "bank-a", password: password, device: w.phone, transaction: tx)
        XCTAssertEqual(txCode.summary, try transactionSummary(transaction: tx))
        XCTAssertEqual(txCode.summary, "Transfer KRW 1,500,000 to 홍길동 (account 110123456789)")
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
        let stale = try w.app.generate(institutionId: "bank-a", password: password, device: w.phone)
        // The phone's storage as it is now (a backup, say): the old credential, usable.
        let oldPhone = w.store.copy()

        // Five wrong passwords lock it; then the right one is refused too.
        for remaining in [UInt32(4), 3, 2, 1] {
            let e = assertFails(.wrongPassword, try w.app.generate(institutionId: "bank-a", password: wrongPassword, device: w.phone))
            XCTAssertEqual(e?.remainingAttempts, remaining)
        }
        assertFails(.locked, try w.app.generate(institutionId: "bank-a", password: wrongPassword, device: w.phone))
        assertFails(.locked, try w.app.generate(institutionId: "bank-a", password: password, device: w.phone))
        assertFails(.locked, try w.app.generateForTransaction(institutionId: "bank-a", password: password, device: w.phone, transaction: tx))
        let locked = try onlyElement(w.app.credentials(device: w.phone))
        XCTAssertEqual(locked.status, .locked)
        XCTAssertEqual(locked.attemptsRemaining, 0)

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
        let fresh = try w.app.generate(institutionId: "bank-a", password: password, device: w.phone)
        XCTAssertEqual(fresh.serialNumber, again.serialNumber)
        // The old credential still makes codes (restored from the backup), but the bank
        // verifies the customer's current OTP only: the old credential's codes, the unused
        // one from before and the backup's current one, are refused; the new one's is accepted.
        let restored = try DigitalOtp.withClock(store: oldPhone, clock: w.clock)
            .generate(institutionId: "bank-a", password: password, device: w.phone)
        XCTAssertEqual(restored.serialNumber, serial)
        XCTAssertFalse(try w.bank.verifyLogin(code: restored.code), "the old credential is revoked")
        XCTAssertFalse(try w.bank.verifyLogin(code: stale.code), "the old serial is revoked")
        XCTAssertTrue(try w.bank.verifyLogin(code: fresh.code))
        XCTAssertEqual(try w.bank.state(serial: again.serialNumber), .active)
        try w.app.confirmActivation(institutionId: "bank-a")
        let listed = try onlyElement(w.app.credentials(device: w.phone))
        XCTAssertEqual(listed.status, .active)
        XCTAssertEqual(listed.attemptsRemaining, 5)
        XCTAssertEqual(w.store.keys(prefix: Fixture.credentialPrefix).count, 1, "the locked credential was replaced")
    }

    // MARK: - Registration failures

    func testMistypedRegistrationCodeIsRefusedBeforeAnyRequest() throws {
        let code = try w.bank.issueCode(customer: "customer-1")
        try checkRegistrationCode(code: code)
        // Change one digit: the Damm check digit catches every single-digit error.
        let first = try XCTUnwrap(code.first?.wholeNumberValue)
        let typo = String((first + 1) % 10) + String(code.dropFirst())
        assertFails(.invalidRegistrationCode, try checkRegistrationCode(code: typo))
        assertFails(.invalidRegistrationCode, try w.app.beginRegistration(registrationCode: typo, device: w.phone))
        for malformed in ["", "1234", "1234-5678-901", "abcd-efgh-ijkl", "1234-5678-90123"] {
            assertFails(.invalidRegistrationCode, try checkRegistrationCode(code: malformed))
            assertFails(.invalidRegistrationCode, try w.app.beginRegistration(registrationCode: malformed, device: w.phone))
        }
        // Nothing is in progress and nothing was written.
        assertFails(.noRegistrationInProgress, try w.app.completeRegistration(response: Data("{}".utf8), password: Fixture.password))
        XCTAssertEqual(w.store.writeCalls, 0)
    }

    func testWeakPasswordsAreRefusedAndKeepTheRegistrationInProgress() throws {
        for weak in ["123456", "111111", "234567", "12345", "987654", "121212", "12345a", "1234567", ""] {
            assertFails(.weakPassword, try checkPasswordPolicy(password: weak))
        }
        try checkPasswordPolicy(password: Fixture.password)
        try checkPasswordPolicy(password: Fixture.otherPassword)

        let code = try w.bank.issueCode(customer: "customer-1")
        let response = try w.bank.answer(try w.app.beginRegistration(registrationCode: code, device: w.phone))
        for weak in ["123456", "111111", "234567", "12345"] {
            let e = assertFails(.weakPassword, try w.app.completeRegistration(response: response, password: weak))
            XCTAssertFalse((e?.reasonText ?? "").trimmingCharacters(in: .whitespaces).isEmpty)
        }
        XCTAssertEqual(w.store.writeCalls, 0, "a refused password writes nothing")
        // The app may ask again: the same response completes with a good password.
        XCTAssertEqual(try w.app.completeRegistration(response: response, password: Fixture.password).status, .pending)
    }

    func testExpiredOrUsedRegistrationCodeIsRejectedByTheBank() throws {
        let code = try w.bank.issueCode(customer: "customer-1")
        let request = try w.app.beginRegistration(registrationCode: code, device: w.phone)
        w.clock.advance(601) // valid for 10 minutes
        let response = try w.bank.answer(request)
        assertFails(.registrationRejected, try w.app.completeRegistration(response: response, password: Fixture.password))
        // The expired attempt consumed the code.
        let again = try w.bank.answer(try w.app.beginRegistration(registrationCode: code, device: w.phone))
        assertFails(.registrationRejected, try w.app.completeRegistration(response: again, password: Fixture.password))
        XCTAssertTrue(w.store.isEmpty, "failed registrations write nothing")
        XCTAssertEqual(w.store.writeCalls, 0)
        XCTAssertNil(try w.bank.serialOf(customer: "customer-1"))
    }

    func testTamperedBankResponseIsRefusedWritesNothingAndEndsTheAttempt() throws {
        let code = try w.bank.issueCode(customer: "customer-1")
        let response = try w.bank.answer(try w.app.beginRegistration(registrationCode: code, device: w.phone))
        let text = String(decoding: response, as: UTF8.self)
        let tampered = Data(text.replacingOccurrences(of: "Bank A", with: "Bank B").utf8)
        XCTAssertNotEqual(tampered, response, "the response names the bank")
        assertFails(.invalidResponse, try w.app.completeRegistration(response: tampered, password: Fixture.password))
        XCTAssertTrue(w.store.isEmpty)
        XCTAssertEqual(w.store.writeCalls, 0, "not a single write")
        // The attempt is over: even the genuine response needs a new beginRegistration.
        assertFails(.noRegistrationInProgress, try w.app.completeRegistration(response: response, password: Fixture.password))
        // Garbage is InvalidResponse too.
        for garbage in [Data(), Data("null".utf8), Data(repeating: 0xFF, count: 10)] {
            _ = try w.app.beginRegistration(registrationCode: try w.bank.issueCode(customer: "customer-1"), device: w.phone)
            assertFails(.invalidResponse, try w.app.completeRegistration(response: garbage, password: Fixture.password))
        }
        XCTAssertTrue(w.store.isEmpty)
    }

    // MARK: - Device binding

    func testAnotherPhoneNumberOrDeviceIdIsADeviceMismatch() throws {
        try w.register()
        let others = try [
            DeviceInfo(phoneNumber: "010-1234-5679", deviceId: Fixture.deviceId),
            DeviceInfo(phoneNumber: Fixture.phone, deviceId: "android-id-2"),
        ]
        for other in others {
            assertFails(.deviceMismatch, try w.app.generate(institutionId: "bank-a", password: Fixture.password, device: other))
            assertFails(
                .deviceMismatch,
                try w.app.generateForTransaction(institutionId: "bank-a", password: Fixture.password, device: other, transaction: Fixture.transfer(1_000))
            )
            XCTAssertEqual(try onlyElement(w.app.credentials(device: other)).status, .deviceMismatch)
        }
        // A mismatch is not a password failure.
        let mine = try onlyElement(w.app.credentials(device: w.phone))
        XCTAssertEqual(mine.status, .pending)
        XCTAssertEqual(mine.attemptsRemaining, 5)
        // Another way of writing the same number is the same device.
        let same = try DeviceInfo(phoneNumber: "+82 10 1234 5678", deviceId: Fixture.deviceId)
        XCTAssertNoThrow(try w.app.generate(institutionId: "bank-a", password: Fixture.password, device: same))
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
    /// on during `completeRegistration`: StorageFailed, the store exactly as before, bank A
    /// usable, and bank B registrable once the store is healthy again. Returns the reason.
    private func secondBankRegistrationFailsCleanly(
        _ fault: ReferenceWritableKeyPath<TestStore, Bool>,
        file: StaticString = #filePath,
        line: UInt = #line
    ) throws -> String {
        let serialA = try w.register().serialNumber
        let before = w.store.snapshot()
        let bankB = try w.bankB()
        let response = try bankB.answer(
            try w.app.beginRegistration(registrationCode: try bankB.issueCode(customer: "customer-1"), device: w.phone)
        )
        w.store[keyPath: fault] = true
        let e = assertFails(.storageFailed, try w.app.completeRegistration(response: response, password: Fixture.password), file: file, line: line)
        w.store[keyPath: fault] = false
        XCTAssertEqual(w.store.snapshot(), before, "nothing half-written", file: file, line: line)
        XCTAssertEqual(try w.institutions(), ["bank-a"], file: file, line: line)
        let login = try w.app.generate(institutionId: "bank-a", password: Fixture.password, device: w.phone)
        XCTAssertTrue(try w.bank.verifyLogin(code: login.code), "bank A's credential is intact", file: file, line: line)
        XCTAssertEqual(try w.bank.serialOf(customer: "customer-1"), serialA, file: file, line: line)
        // The failed attempt is over; a new one succeeds on a healthy store.
        assertFails(.noRegistrationInProgress, try w.app.completeRegistration(response: response, password: Fixture.password), file: file, line: line)
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
        // A lost failure-count write means the password is not tried at all.
        w.store.dropWrites = true
        assertFails(.storageFailed, try w.app.generate(institutionId: "bank-a", password: Fixture.wrongPassword, device: w.phone))
        w.store.dropWrites = false
        let bankA = try XCTUnwrap(try w.app.credentials(device: w.phone).first { $0.institutionId == "bank-a" })
        XCTAssertEqual(bankA.attemptsRemaining, 5)
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
        // Each credential has its own password.
        assertFails(.wrongPassword, try w.app.generate(institutionId: "bank-b", password: Fixture.password, device: w.phone))
        let b = try w.app.generate(institutionId: "bank-b", password: Fixture.otherPassword, device: w.phone)
        XCTAssertEqual(b.serialNumber, serialB)
        XCTAssertTrue(try bankB.verifyLogin(code: b.code))

        try w.app.cancel(institutionId: "bank-a")
        assertFails(.notRegistered, try w.app.generate(institutionId: "bank-a", password: Fixture.password, device: w.phone))
        assertFails(.notRegistered, try w.app.cancel(institutionId: "bank-a"))
        XCTAssertEqual(try w.institutions(), ["bank-b"])
        XCTAssertEqual(w.store.keys(prefix: Fixture.credentialPrefix).count, 1)

        w.clock.advance(30)
        let b2 = try w.app.generate(institutionId: "bank-b", password: Fixture.otherPassword, device: w.phone)
        XCTAssertTrue(try bankB.verifyLogin(code: b2.code), "bank B still works")
        // The wrong password given for bank B was followed by a success: the count is reset.
        XCTAssertEqual(try onlyElement(w.app.credentials(device: w.phone)).attemptsRemaining, 5)
    }

    func testResetAllDeletesEveryCredentialAndEmptiesTheStore() throws {
        let bankB = try w.bankB()
        try w.register()
        try w.register(bank: bankB)
        XCTAssertFalse(w.store.isEmpty)
        try w.app.resetAll()
        XCTAssertTrue(w.store.isEmpty, "left behind: \(w.store.keys())")
        XCTAssertEqual(try w.app.credentials(device: w.phone), [])
        assertFails(.notRegistered, try w.app.generate(institutionId: "bank-a", password: Fixture.password, device: w.phone))
        assertFails(.notRegistered, try w.app.generate(institutionId: "bank-b", password: Fixture.password, device: w.phone))
        try w.app.resetAll() // idempotent
    }

    func testChangePasswordNeedsTheOldPasswordAndFollowsThePolicy() throws {
        let serial = try w.register().serialNumber
        assertFails(
            .weakPassword,
            try w.app.changePassword(institutionId: "bank-a", oldPassword: Fixture.password, newPassword: "111111", device: w.phone)
        )
        let e = assertFails(
            .wrongPassword,
            try w.app.changePassword(institutionId: "bank-a", oldPassword: Fixture.wrongPassword, newPassword: Fixture.otherPassword, device: w.phone)
        )
        XCTAssertEqual(e?.remainingAttempts, 4)
        try w.app.changePassword(institutionId: "bank-a", oldPassword: Fixture.password, newPassword: Fixture.otherPassword, device: w.phone)
        XCTAssertEqual(try onlyElement(w.app.credentials(device: w.phone)).attemptsRemaining, 5, "a success resets the count")
        assertFails(.wrongPassword, try w.app.generate(institutionId: "bank-a", password: Fixture.password, device: w.phone))
        let login = try w.app.generate(institutionId: "bank-a", password: Fixture.otherPassword, device: w.phone)
        XCTAssertTrue(try w.bank.verifyLogin(code: login.code), "same seed, new password")
        XCTAssertEqual(try w.bank.state(serial: serial), .active)
    }

    // MARK: - Concurrency and what is stored

    func testConcurrentWrongPasswordsFromTwoThreadsEachCount() throws {
        try w.register()
        let app = w.app
        let phone = w.phone
        let wrong = try XCTUnwrap(runConcurrently(2) {
            try app.generate(institutionId: "bank-a", password: Fixture.wrongPassword, device: phone)
        }, "the threads did not finish")
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
        XCTAssertEqual(try onlyElement(w.app.credentials(device: w.phone)).attemptsRemaining, 3)

        // And two threads with the right password both get the (same) code.
        let right = try XCTUnwrap(runConcurrently(2) {
            try app.generate(institutionId: "bank-a", password: Fixture.password, device: phone).code
        }, "the threads did not finish")
        let codes = try right.map { try $0.get() }
        XCTAssertEqual(codes.count, 2)
        XCTAssertEqual(Set(codes).count, 1)
        XCTAssertEqual(try onlyElement(w.app.credentials(device: w.phone)).attemptsRemaining, 5)
    }

    func testStoredBytesNeverContainThePhoneNumberDeviceIdOrPassword() throws {
        let code = try w.bank.issueCode(customer: "customer-1")
        let request = try w.app.beginRegistration(registrationCode: code, device: w.phone)
        let info = try w.app.completeRegistration(response: try w.bank.answer(request), password: Fixture.password)
        _ = try w.app.generate(institutionId: "bank-a", password: Fixture.password, device: w.phone)
        _ = try w.app.generateForTransaction(
            institutionId: "bank-a", password: Fixture.password, device: w.phone, transaction: Fixture.transfer(1_500_000)
        )
        assertFails(.wrongPassword, try w.app.generate(institutionId: "bank-a", password: Fixture.wrongPassword, device: w.phone))
        try w.app.changePassword(institutionId: "bank-a", oldPassword: Fixture.password, newPassword: Fixture.otherPassword, device: w.phone)

        // The documented layout: a device key, an index, one credential under a random name.
        let keys = w.store.keys()
        XCTAssertEqual(keys.count, 3, "\(keys)")
        XCTAssertTrue(keys.contains("digital-otp.v1.device-key") && keys.contains("digital-otp.v1.index"), "\(keys)")
        XCTAssertEqual(w.store.keys(prefix: Fixture.credentialPrefix).count, 1, "\(keys)")

        let needles = [
            Fixture.phone, Fixture.phoneE164, "01012345678", "821012345678", "1012345678", Fixture.deviceId,
            Fixture.password, Fixture.otherPassword, Fixture.wrongPassword,
            code, code.replacingOccurrences(of: "-", with: ""),
            // The blobs are encrypted: not even the serial number or a field name shows.
            info.serialNumber, "sealed_seed", "홍길동",
        ]
        let values = w.store.values()
        for needle in needles {
            for key in keys {
                XCTAssertFalse(key.contains(needle), "key \(key) contains \"\(needle)\"")
            }
            for value in values {
                XCTAssertNil(value.range(of: Data(needle.utf8)), "a stored value contains \"\(needle)\"")
            }
        }
    }
}
