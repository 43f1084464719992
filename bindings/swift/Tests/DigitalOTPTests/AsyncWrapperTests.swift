import DigitalOTP
import Foundation
import XCTest

/// A `SecureStore` that remembers, for every call the SDK makes into it, whether it ran
/// on the main thread: Rust calls the store on the thread that called `DigitalOtp`.
fileprivate final class MainThreadRecordingStore: DigitalOTP.SecureStore, @unchecked Sendable {
    private let inner = TestStore()
    private let lock = NSLock()
    private var onMain: [Bool] = []

    private func record() {
        let main = Thread.isMainThread
        lock.lock()
        onMain.append(main)
        lock.unlock()
    }

    /// For each store call since the last `drain()`, whether it ran on the main thread.
    func drain() -> [Bool] {
        lock.lock()
        defer { lock.unlock() }
        let calls = onMain
        onMain = []
        return calls
    }

    func read(key: String) throws -> Data? {
        record()
        return try inner.read(key: key)
    }

    func write(key: String, value: Data) throws {
        record()
        try inner.write(key: key, value: value)
    }

    func delete(key: String) throws {
        record()
        try inner.delete(key: key)
    }
}

fileprivate enum AsyncFixture {
    static let t0: UInt64 = 1_800_000_000
    static let password = "482915"
    static let newPassword = "730264"
    static let wrongPassword = "000001"
    static let customer = "customer-1"
}

// The blocking calls, as an app calls them from synchronous code.
fileprivate func blockingCredentials(_ app: DigitalOtp, _ device: DeviceInfo) throws -> [CredentialInfo] {
    try app.credentials(device: device)
}

fileprivate func blockingLogin(_ app: DigitalOtp, _ bank: TestBank, _ password: String, _ device: DeviceInfo) throws -> LoginCode {
    let request = try app.beginLoginCode(institutionId: bank.institutionId, password: password, device: device)
    return try app.completeLoginCode(answer: bank.unlock(request))
}

fileprivate func blockingRegister(_ app: DigitalOtp, _ bank: TestBank, _ device: DeviceInfo) throws -> CredentialInfo {
    let code = try bank.issueCode(customer: AsyncFixture.customer)
    let request = try app.beginRegistration(
        institutionId: bank.institutionId, registrationCode: code, device: device, password: AsyncFixture.password
    )
    let confirmation = try app.confirmRegistration(response: bank.answer(request))
    return try app.completeRegistration(institutionId: bank.institutionId, outcome: bank.answer(confirmation))
}

/// The store calls since the last check were made, and none on the main thread.
fileprivate func assertOffTheMainThread(
    _ store: MainThreadRecordingStore, _ call: String, file: StaticString = #filePath, line: UInt = #line
) {
    let calls = store.drain()
    XCTAssertFalse(calls.isEmpty, "\(call) made no store call to observe", file: file, line: line)
    XCTAssertFalse(calls.contains(true), "\(call) ran on the main thread", file: file, line: line)
}

/// The `async` wrappers of Sources/DigitalOTP/DigitalOtp+Async.swift: called from the main
/// actor, every one runs the blocking call off the main thread and returns what the
/// blocking call returns, or throws what it throws.
final class AsyncWrapperTests: XCTestCase {
    fileprivate var clock: TestClock!
    fileprivate var store: MainThreadRecordingStore!
    fileprivate var app: DigitalOtp!
    fileprivate var bank: TestBank!
    fileprivate var phone: DeviceInfo!

    override func setUpWithError() throws {
        clock = TestClock(start: AsyncFixture.t0)
        store = MainThreadRecordingStore()
        app = DigitalOtp.withClock(store: store, keys: softwareDeviceKeys(store: store), clock: clock)
        bank = try TestBank(institutionId: "bank-a", institutionName: "Bank A", clock: clock)
        phone = try DeviceInfo(phoneNumber: "010-1234-5678", deviceId: "android-id-1")
    }

    // XCTest runs the synchronous tests on the main thread.
    func testTheBlockingCallsRunOnTheCallersThread() throws {
        XCTAssertTrue(Thread.isMainThread)
        _ = store.drain()
        _ = try blockingCredentials(app, phone)
        let calls = store.drain()
        XCTAssertFalse(calls.isEmpty)
        XCTAssertEqual(Set(calls), [true], "the blocking call ran on the main thread, the caller's")
    }

    func testEveryWrapperRunsOffTheMainActorWithTheBlockingCallsResults() async throws {
        try await everyWrapperFromTheMainActor(app: app, bank: bank, store: store, phone: phone, clock: clock)
    }
}

/// Every wrapper, called from the main actor (as a view model would).
@MainActor
fileprivate func everyWrapperFromTheMainActor(
    app: DigitalOtp, bank: TestBank, store: MainThreadRecordingStore, phone: DeviceInfo, clock: TestClock
) async throws {
        XCTAssertTrue(Thread.isMainThread)
        let queue = DispatchQueue.global(qos: .userInitiated)
        let assertOffTheMainThread = { (call: String) in DigitalOTPTests.assertOffTheMainThread(store, call) }
        _ = store.drain()

        // Registration: three steps, then the list the blocking credentials() gives.
        let code = try bank.issueCode(customer: AsyncFixture.customer)
        let request = try await app.beginRegistration(
            on: queue, institutionId: "bank-a", registrationCode: code, device: phone, password: AsyncFixture.password
        )
        assertOffTheMainThread("beginRegistration")
        let confirmation = try await app.confirmRegistration(on: queue, response: bank.answer(request))
        assertOffTheMainThread("confirmRegistration")
        let info = try await app.completeRegistration(on: queue, institutionId: "bank-a", outcome: bank.answer(confirmation))
        assertOffTheMainThread("completeRegistration")
        XCTAssertEqual(info.status, .pending)
        XCTAssertEqual(try bank.serialOf(customer: AsyncFixture.customer), info.serialNumber)
        let listed = try await app.credentials(on: queue, device: phone)
        assertOffTheMainThread("credentials")
        XCTAssertEqual(listed, [info])
        XCTAssertEqual(listed, try blockingCredentials(app, phone))
        _ = store.drain()

        // A login code: the code the blocking calls make in the same time step; the bank
        // accepts it.
        let unlock = try await app.beginLoginCode(on: queue, institutionId: "bank-a", password: AsyncFixture.password, device: phone)
        assertOffTheMainThread("beginLoginCode")
        let login = try await app.completeLoginCode(on: queue, answer: bank.unlock(unlock))
        assertOffTheMainThread("completeLoginCode")
        let blocking = try blockingLogin(app, bank, AsyncFixture.password, phone)
        _ = store.drain()
        XCTAssertEqual(login.code, blocking.code)
        XCTAssertEqual(login.validUntil, blocking.validUntil)
        XCTAssertEqual(login.serialNumber, info.serialNumber)
        XCTAssertTrue(try bank.verifyLogin(code: login.code))
        try await app.confirmActivation(on: queue, institutionId: "bank-a")
        assertOffTheMainThread("confirmActivation")
        XCTAssertEqual(try blockingCredentials(app, phone).map(\.status), [.active])
        _ = store.drain()

        // A transaction code, bound to its transaction.
        let transfer = Transaction(amountMinor: 1_500_000, currency: "KRW", payeeAccount: "110-123-456789", payeeName: "홍길동")
        let txRequest = try await app.beginTransactionCode(
            on: queue, institutionId: "bank-a", password: AsyncFixture.password, device: phone, transaction: transfer
        )
        assertOffTheMainThread("beginTransactionCode")
        let txCode = try await app.completeTransactionCode(on: queue, answer: bank.unlock(txRequest))
        assertOffTheMainThread("completeTransactionCode")
        XCTAssertEqual(txCode.summary, try transactionSummary(transaction: transfer))
        XCTAssertTrue(try bank.verifyTransaction(code: txCode.code, transaction: transfer))

        // The errors are the blocking calls' errors: a wrong password counts at the bank
        // either way; an unknown bank is NotRegistered.
        let wrongRequest = try await app.beginLoginCode(on: queue, institutionId: "bank-a", password: AsyncFixture.wrongPassword, device: phone)
        do {
            _ = try await app.completeLoginCode(on: queue, answer: bank.unlock(wrongRequest))
            XCTFail("a wrong password made a code")
        } catch let error as DigitalOtpError {
            XCTAssertEqual(error, .WrongPassword(attemptsRemaining: 4))
        }
        assertOffTheMainThread("a wrong password")
        XCTAssertThrowsError(try blockingLogin(app, bank, AsyncFixture.wrongPassword, phone)) { error in
            XCTAssertEqual(error as? DigitalOtpError, .WrongPassword(attemptsRemaining: 3))
        }
        _ = store.drain()
        var unknownAsync: Error?
        do {
            _ = try await app.beginLoginCode(on: queue, institutionId: "bank-z", password: AsyncFixture.password, device: phone)
        } catch {
            unknownAsync = error
        }
        assertOffTheMainThread("an unknown bank")
        XCTAssertEqual(unknownAsync as? DigitalOtpError, .NotRegistered)
        XCTAssertThrowsError(
            try blockingLogin(app, TestBank(institutionId: "bank-z", institutionName: "Bank Z", clock: clock), AsyncFixture.password, phone)
        ) { error in
            XCTAssertEqual(error as? DigitalOtpError, unknownAsync as? DigitalOtpError)
        }
        _ = store.drain()

        // A change of password: afterwards the new one makes codes.
        let change = try await app.beginChangePassword(
            on: queue, institutionId: "bank-a", oldPassword: AsyncFixture.password, newPassword: AsyncFixture.newPassword, device: phone
        )
        assertOffTheMainThread("beginChangePassword")
        try await app.completeChangePassword(on: queue, answer: bank.unlock(change))
        assertOffTheMainThread("completeChangePassword")
        clock.advance(30)
        XCTAssertTrue(try bank.verifyLogin(code: blockingLogin(app, bank, AsyncFixture.newPassword, phone).code))
        _ = store.drain()

        // Removing the credential, then every credential.
        try await app.cancel(on: queue, institutionId: "bank-a")
        assertOffTheMainThread("cancel")
        XCTAssertEqual(try blockingCredentials(app, phone), [])
        clock.advance(60)
        _ = try blockingRegister(app, bank, phone)
        XCTAssertEqual(try blockingCredentials(app, phone).count, 1)
        _ = store.drain()
        try await app.resetAll(on: queue)
        assertOffTheMainThread("resetAll")
        XCTAssertEqual(try blockingCredentials(app, phone), [])
}
