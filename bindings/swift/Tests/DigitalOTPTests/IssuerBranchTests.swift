import DigitalOTP
import Foundation
import XCTest

// The bank's side through the Swift bindings: a whole branch scenario on an SQLite
// database (face-to-face issuance with an SMS gateway written in Swift, the app's
// registration and activation, verification, the 10-strike lock and its reset, a loss
// and its recovery, another institution's OTP device), then the issuer's rules one by
// one. Mirrors bindings/python/tests/test_issuer_branch.py and tests/issuer.rs.
//
// The app's registrations and unlocks cost one PBKDF2 each (~0.2 s): the tests that need a
// mobile OTP keep their count of registrations and codes low, and the others use
// a hardware token whose codes the `Totp` binding computes.

fileprivate enum Branch {
    static let t0: UInt64 = 1_800_000_000
    static let year: UInt64 = 365 * 86_400
    /// The employee at the branch.
    static let staff = "branch-001/emp-42"
    /// Who sets the issuer up.
    static let admin = "admin"
    /// Who imports hardware tokens.
    static let ops = "ops"
    /// The channel that verifies customers' codes.
    static let web = "web"
    /// The channel that registers apps.
    static let app = "mobile-app"
    static let phone = "010-1234-5678"
    static let phoneE164 = "+821012345678"
    static let deviceId = "android-id-1"
    static let password = "482915"
    /// Vendor code of the SDK's mobile OTPs.
    static let mobile = "DOTP"
    static let vendor = "VASCO"
    static let serial = "SN0001"
    /// A hardware token's secret, known to the test (160 bits).
    static let tokenSecretHex = "8f3c2a71d94e0b65c7a1f2e83d590b4a6c7e1d20"
    static let institutions = [("bank-a", "Bank A"), ("bank-b", "Bank B"), ("bank-c", "Bank C")]

    static func customer(
        _ institutionId: String,
        _ customerId: String,
        kind: CustomerKind = .individual,
        residency: Residency = .domestic
    ) -> NewCustomer {
        NewCustomer(
            institutionId: institutionId,
            customerId: customerId,
            name: "홍길동",
            kind: kind,
            residency: residency,
            phoneNumber: Branch.phone
        )
    }

    /// Adds the three institutions, and `customers` (individual, domestic) at each.
    @discardableResult
    static func setUp(_ issuer: Issuer, customers: [String] = ["kim"]) throws -> Issuer {
        for (institutionId, name) in Branch.institutions {
            try issuer.addInstitution(actor: Branch.admin, institutionId: institutionId, name: name)
            for customerId in customers {
                try issuer.registerCustomer(actor: Branch.staff, customer: customer(institutionId, customerId))
            }
        }
        return issuer
    }

    static func transfer(
        amount: UInt64 = 1_500_000,
        account: String = "110-123-456789",
        name: String = "이순신",
        currency: String = "KRW",
        memo: String? = nil
    ) -> Transaction {
        Transaction(amountMinor: amount, currency: currency, payeeAccount: account, payeeName: name, memo: memo)
    }

    /// The codes of the hardware token with the known secret (SHA-1, 6 digits, 30 s).
    static func token() throws -> Totp {
        try Totp(secret: try OtpSecret.fromHex(text: Branch.tokenSecretHex), algorithm: .sha1, digits: 6, periodSeconds: 30)
    }

    /// Imports the hardware TOTP token with the known secret; returns its codes.
    @discardableResult
    static func importToken(_ issuer: Issuer, serial: String = Branch.serial, validUntil: UInt64 = Branch.t0 + 3 * Branch.year) throws -> Totp {
        let device = ImportedDevice(
            vendorCode: Branch.vendor,
            serialNumber: serial,
            secret: try OtpSecret.fromHex(text: Branch.tokenSecretHex),
            algorithm: .sha1,
            digits: 6,
            periodSeconds: 30,
            validUntil: validUntil
        )
        try issuer.importDevice(actor: Branch.ops, device: device)
        return try token()
    }

    /// A 6-digit code the token does not show in the steps around `now`.
    static func wrongCode(_ token: Totp, at now: UInt64) throws -> String {
        let step = try token.timeStep(unixTime: now)
        let near = Set([step - 1, step, step + 1].map { token.codeForStep(step: $0) })
        return try XCTUnwrap(["000000", "111111", "222222", "333333"].first(where: { !near.contains($0) }))
    }

    /// Another code of the same length (for mobile OTPs, whose codes the test cannot compute).
    static func otherCode(_ code: String) -> String {
        var modulus = 1
        for _ in 0..<code.count {
            modulus *= 10
        }
        let next = String(((Int(code) ?? 0) + 1) % modulus)
        return String(repeating: "0", count: code.count - next.count) + next
    }
}

/// An `SmsGateway` written in Swift that keeps every message instead of sending it.
/// Called by Rust from any thread: behind a lock.
fileprivate final class RecordingSms: SmsGateway, @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [(phone: String, message: String)] = []

    func send(phoneNumber: String, message: String) throws {
        lock.lock()
        defer { lock.unlock() }
        messages.append((phone: phoneNumber, message: message))
    }

    /// (phone number, message) of every message, oldest first.
    var sent: [(phone: String, message: String)] {
        lock.lock()
        defer { lock.unlock() }
        return messages
    }

    /// The 5-digit verification code of the last message.
    func lastCode() throws -> String {
        let message = try XCTUnwrap(sent.last, "no SMS was sent").message
        let numbers = message.components(separatedBy: CharacterSet(charactersIn: "0123456789").inverted)
        return try onlyElement(numbers.filter { $0.count == 5 })
    }
}

/// The customer's phone: the app on a Swift store, software device keys (in a store of
/// their own, as the Secure Enclave would keep them) and the test clock.
fileprivate final class BranchPhone {
    let store = TestStore()
    let keyStore = TestStore()
    let app: DigitalOtp
    let device: DeviceInfo

    init(clock: TestClock) throws {
        app = DigitalOtp.withClock(store: store, keys: softwareDeviceKeys(store: keyStore), clock: clock)
        device = try DeviceInfo(phoneNumber: Branch.phone, deviceId: Branch.deviceId)
    }

    /// The registration request: the typed code and the app password.
    func beginRegistration(code: String, institutionId: String = "bank-a") throws -> Data {
        try app.beginRegistration(institutionId: institutionId, registrationCode: code, device: device, password: Branch.password)
    }

    /// Types in the code and the password, then carries the request and the confirmation
    /// to the bank.
    func register(_ issuer: Issuer, code: String, institutionId: String = "bank-a") throws -> CredentialInfo {
        let request = try beginRegistration(code: code, institutionId: institutionId)
        let confirmation = try app.confirmRegistration(response: issuer.handleRegistration(actor: Branch.app, message: request))
        return try app.completeRegistration(
            institutionId: institutionId, outcome: issuer.handleRegistration(actor: Branch.app, message: confirmation)
        )
    }

    /// A login code, after the unlock round trip to `issuer`.
    func loginCode(_ issuer: Issuer, institutionId: String = "bank-a") throws -> String {
        let request = try app.beginLoginCode(institutionId: institutionId, password: Branch.password, device: device)
        return try app.completeLoginCode(answer: issuer.handleUnlock(actor: Branch.app, request: request)).code
    }

    func transactionCode(_ issuer: Issuer, _ transaction: Transaction, institutionId: String = "bank-a") throws -> String {
        let request = try app.beginTransactionCode(
            institutionId: institutionId, password: Branch.password, device: device, transaction: transaction
        )
        return try app.completeTransactionCode(answer: issuer.handleUnlock(actor: Branch.app, request: request)).code
    }
}

// MARK: - Typed IssuerError checks

fileprivate enum IssuerErrorKind: String {
    case notEligible
    case unknownInstitution
    case unknownCustomer
    case customerExists
    case unknownDevice
    case deviceExists
    case noDevice
    case alreadyHasDevice
    case notRegisteredHere
    case notPermitted
    case invalidState
    case wrongVerificationCode
    case noVerificationPending
    case possessionNotProven
    case invalidInput
    case smsFailed
    case masterKey
    case storageFailed
    case internalError
    /// A variant added to IssuerError after these tests were written.
    case other
}

fileprivate extension IssuerError {
    var kind: IssuerErrorKind {
        switch self {
        case .NotEligible: return .notEligible
        case .UnknownInstitution: return .unknownInstitution
        case .UnknownCustomer: return .unknownCustomer
        case .CustomerExists: return .customerExists
        case .UnknownDevice: return .unknownDevice
        case .DeviceExists: return .deviceExists
        case .NoDevice: return .noDevice
        case .AlreadyHasDevice: return .alreadyHasDevice
        case .NotRegisteredHere: return .notRegisteredHere
        case .NotPermitted: return .notPermitted
        case .InvalidState: return .invalidState
        case .WrongVerificationCode: return .wrongVerificationCode
        case .NoVerificationPending: return .noVerificationPending
        case .PossessionNotProven: return .possessionNotProven
        case .InvalidInput: return .invalidInput
        case .SmsFailed: return .smsFailed
        case .MasterKey: return .masterKey
        case .StorageFailed: return .storageFailed
        case .Internal: return .internalError
        @unknown default: return .other
        }
    }

    /// The `reason` of the variants that have one, else "".
    var reasonText: String {
        switch self {
        case .NotEligible(let reason),
             .NotPermitted(let reason),
             .InvalidState(let reason),
             .InvalidInput(let reason),
             .SmsFailed(let reason),
             .MasterKey(let reason),
             .StorageFailed(let reason),
             .Internal(let reason):
            return reason
        default:
            return ""
        }
    }
}

/// The `IssuerError` that `expression` throws; fails the test (and returns nil) if it
/// throws nothing or something else.
@discardableResult
fileprivate func issuerError<T>(
    _ expression: @autoclosure () throws -> T,
    file: StaticString = #filePath,
    line: UInt = #line
) -> IssuerError? {
    var caught: IssuerError?
    XCTAssertThrowsError(try expression(), file: file, line: line) { error in
        guard let typed = error as? IssuerError else {
            XCTFail("expected an IssuerError, got \(error)", file: file, line: line)
            return
        }
        caught = typed
    }
    return caught
}

/// The detail of the newest audit record of `action`.
fileprivate func lastDetail(_ issuer: Issuer, _ action: String) throws -> String {
    try onlyElement(try issuer.audit(filter: AuditFilter(action: action, limit: 1))).detail
}

/// Whether `secret` occurs in `text` as a whole number (not inside a longer run of digits).
fileprivate func containsWhole(_ text: String, _ secret: String) -> Bool {
    let pattern = "(?<![0-9])" + NSRegularExpression.escapedPattern(for: secret) + "(?![0-9])"
    return text.range(of: pattern, options: .regularExpression) != nil
}

final class IssuerBranchTests: XCTestCase {
    private let clock = TestClock(start: Branch.t0)
    private let sms = RecordingSms()
    private let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("dotp-issuer-" + UUID().uuidString, isDirectory: true)

    private var databasePath: String {
        directory.appendingPathComponent("issuer.db").path
    }

    override func setUpWithError() throws {
        try super.setUpWithError()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
        try super.tearDownWithError()
    }

    /// An issuer in memory with the three institutions and customer kim at each.
    private func memoryIssuer() throws -> Issuer {
        try Branch.setUp(try Issuer.inMemory(masterKeyHex: try generateMasterKey(), clock: clock, sms: sms))
    }

    // MARK: - The whole branch scenario

    func testABranchScenarioEndToEndOnSqlite() throws {
        let path = databasePath
        let key = try generateMasterKey()
        XCTAssertTrue(matchesWhole(key, "[0-9a-f]{64}"))
        var issuer = try Branch.setUp(try Issuer.openSqlite(path: path, masterKeyHex: key, clock: clock, sms: sms))

        // Face to face: a 5-digit code goes to the customer's phone; the employee types in
        // what the customer shows. A wrong code is counted; the right one gives the
        // registration code to hand over, once.
        try issuer.startFaceToFace(actor: Branch.staff, institutionId: "bank-a", customerId: "kim")
        XCTAssertEqual(sms.sent.map { $0.phone }, [Branch.phoneE164])
        let shown = try sms.lastCode()
        let wrongSms = shown == "00000" ? "11111" : "00000"
        XCTAssertEqual(
            issuerError(try issuer.confirmFaceToFace(actor: Branch.staff, institutionId: "bank-a", customerId: "kim", shownCode: wrongSms)),
            .WrongVerificationCode(attemptsRemaining: 4)
        )
        let registrationCode = try issuer.confirmFaceToFace(actor: Branch.staff, institutionId: "bank-a", customerId: "kim", shownCode: shown)
        XCTAssertTrue(matchesWhole(registrationCode, "[0-9]{4}-[0-9]{4}-[0-9]{4}"), registrationCode)
        try checkRegistrationCode(code: registrationCode)
        XCTAssertEqual(
            issuerError(try issuer.confirmFaceToFace(actor: Branch.staff, institutionId: "bank-a", customerId: "kim", shownCode: shown))?.kind,
            .noVerificationPending
        )

        // The app registers with it: pending at the bank until the first code verifies.
        let phone = try BranchPhone(clock: clock)
        let info = try phone.register(issuer, code: registrationCode)
        XCTAssertEqual(info.status, .pending)
        XCTAssertEqual(info.institutionId, "bank-a")
        XCTAssertEqual(info.institutionName, "Bank A")
        let serial = info.serialNumber

        func device() throws -> DeviceReport {
            try issuer.deviceInquiry(actor: Branch.staff, institutionId: "bank-a", vendorCode: Branch.mobile, serialNumber: serial)
        }

        func verify(_ code: String) throws -> Verification {
            try issuer.verifyLogin(actor: Branch.web, institutionId: "bank-a", customerId: "kim", code: code)
        }

        var d = try device()
        XCTAssertEqual(d.vendorCode, Branch.mobile)
        XCTAssertEqual(d.serialNumber, serial)
        XCTAssertEqual(d.kind, .mobile)
        XCTAssertEqual(d.state, .active)
        XCTAssertEqual(d.errorCount, 0)
        XCTAssertFalse(d.expired)
        XCTAssertEqual(d.validUntil, info.validUntil)
        let registration = try onlyElement(d.registrations)
        XCTAssertEqual(registration.institutionId, "bank-a")
        XCTAssertEqual(registration.customerId, "kim")
        XCTAssertEqual(registration.state, .pending)

        // Activation: the first login code verifies; then a replay is refused (not
        // counted), and the next time step's code verifies.
        let first = try phone.loginCode(issuer)
        XCTAssertEqual(try verify(first), .accepted)
        XCTAssertEqual(try device().registrations.last?.state, .active)
        try phone.app.confirmActivation(institutionId: "bank-a")
        XCTAssertEqual(try verify(first), .rejected, "replay")
        XCTAssertEqual(try device().errorCount, 0, "a replay is not counted")
        XCTAssertTrue(try device().history.contains { $0.detail == "code already used" })
        clock.advance(30)
        let second = try phone.loginCode(issuer)
        XCTAssertEqual(try verify(second), .accepted)

        // Ten wrong codes lock the device; then even a right code is refused.
        clock.advance(30)
        let right = try phone.loginCode(issuer)
        let wrong = Branch.otherCode(right)
        for _ in 0..<10 {
            XCTAssertEqual(try verify(wrong), .rejected)
        }
        d = try device()
        XCTAssertEqual(d.state, .locked)
        XCTAssertEqual(d.errorCount, 10)
        XCTAssertEqual(try verify(right), .rejected, "locked")
        let latest = try XCTUnwrap(try device().history.first(where: { $0.action == "verify_login" }))
        XCTAssertEqual(latest.actor, Branch.web)
        XCTAssertEqual(latest.outcome, "rejected")
        XCTAssertEqual(latest.detail, "device locked (error count)")

        // The branch resets the count: the same code now verifies.
        try issuer.resetErrorCount(actor: Branch.staff, institutionId: "bank-a", vendorCode: Branch.mobile, serialNumber: serial)
        d = try device()
        XCTAssertEqual(d.state, .active)
        XCTAssertEqual(d.errorCount, 0)
        XCTAssertEqual(try verify(right), .accepted)

        // A loss is reported: refused; the phone cannot even make a code (the bank will
        // not unlock a lost OTP); recovered at the branch: accepted again.
        clock.advance(30)
        let afterLoss = try phone.loginCode(issuer)
        try issuer.reportAccident(actor: Branch.staff, institutionId: "bank-a", vendorCode: Branch.mobile, serialNumber: serial, kind: .lost)
        XCTAssertEqual(try device().state, .lost)
        XCTAssertEqual(try verify(afterLoss), .rejected)
        XCTAssertThrowsError(try phone.loginCode(issuer)) { error in
            XCTAssertEqual((error as? DigitalOtpError)?.kind, .notUsable, "\(error)")
        }
        XCTAssertEqual(try lastDetail(issuer, "verify_login"), "device reported lost")
        let pending = try issuer.recover(actor: Branch.staff, institutionId: "bank-a", vendorCode: Branch.mobile, serialNumber: serial)
        XCTAssertEqual(pending, [], "bank-a was the only institution to clear it")
        XCTAssertEqual(try device().state, .active)
        XCTAssertEqual(
            issuerError(try issuer.recover(actor: Branch.staff, institutionId: "bank-a", vendorCode: Branch.mobile, serialNumber: serial))?.kind,
            .invalidState
        )
        XCTAssertEqual(try verify(afterLoss), .accepted)

        // Another institution's OTP device: a hardware token issued by bank B (imported
        // with its secret, handed over there), registered at bank C by vendor code and
        // serial number with a current code as proof of possession.
        let token = try Branch.importToken(issuer)
        try issuer.registerDevice(actor: Branch.staff, institutionId: "bank-b", customerId: "kim", vendorCode: Branch.vendor, serialNumber: Branch.serial)
        let now = clock.seconds
        let badProof = try Branch.wrongCode(token, at: now)
        XCTAssertEqual(
            issuerError(try issuer.registerDevice(
                actor: Branch.staff, institutionId: "bank-c", customerId: "kim",
                vendorCode: Branch.vendor, serialNumber: Branch.serial, possessionCode: badProof
            )),
            .PossessionNotProven
        )
        let proof = try token.codeAt(unixTime: now).code
        try issuer.registerDevice(
            actor: Branch.staff, institutionId: "bank-c", customerId: "kim",
            vendorCode: Branch.vendor, serialNumber: Branch.serial, possessionCode: proof
        )
        let t = try issuer.deviceInquiry(actor: Branch.staff, institutionId: "bank-c", vendorCode: Branch.vendor, serialNumber: Branch.serial)
        XCTAssertEqual(t.kind, .hardware)
        XCTAssertEqual(t.state, .active)
        XCTAssertEqual(t.errorCount, 0)
        XCTAssertEqual(t.registrations.map { $0.institutionId }, ["bank-b", "bank-c"])
        // Bank C's staff see bank B's registration without its customer; the centre's see all.
        XCTAssertEqual(t.registrations.map { $0.customerId }, ["", "kim"])
        let centre = DeskContext(channel: .branch, agent: nil, role: .centreStaff)
        let all = try issuer.deviceInquiry(
            actor: "centre-1", institutionId: "bank-c", vendorCode: Branch.vendor, serialNumber: Branch.serial,
            context: centre
        )
        XCTAssertEqual(all.registrations.map { $0.customerId }, ["kim", "kim"])
        let byPhone = DeskContext(channel: .phone, agent: nil, role: .institutionStaff)
        XCTAssertEqual(
            issuerError(try issuer.resetErrorCount(
                actor: "call-centre", institutionId: "bank-c", vendorCode: Branch.vendor, serialNumber: Branch.serial,
                context: byPhone
            ))?.kind,
            .notPermitted
        )
        XCTAssertEqual(t.registrations.map { $0.state }, [.active, .active])
        XCTAssertEqual(
            try issuer.verifyLogin(actor: Branch.web, institutionId: "bank-c", customerId: "kim", code: proof),
            .rejected,
            "the proof used the code"
        )
        clock.advance(30)
        let tokenCode = try token.codeAt(unixTime: clock.seconds).code
        XCTAssertEqual(try issuer.verifyLogin(actor: Branch.web, institutionId: "bank-c", customerId: "kim", code: tokenCode), .accepted)
        XCTAssertTrue(
            t.history.contains { $0.action == "register_device" && $0.detail.contains("possession proven") },
            "\(t.history.map { "\($0.action): \($0.detail)" })"
        )
        // Bank A still verifies kim against the phone, not the token.
        XCTAssertEqual(try verify(tokenCode), .rejected)
        // Bank A's customer still has the mobile OTP, bank C the token.
        let atBankA = try issuer.customerInquiry(actor: Branch.staff, institutionId: "bank-a", customerId: "kim").devices
        XCTAssertEqual(atBankA.map { $0.serialNumber }, [serial])
        let atBankC = try issuer.customerInquiry(actor: Branch.staff, institutionId: "bank-c", customerId: "kim").devices
        XCTAssertEqual(atBankC.map { $0.vendorCode }, [Branch.vendor])
        XCTAssertEqual(atBankC.map { $0.serialNumber }, [Branch.serial])

        // Everything is in the database: reopened with the same key, the states are there.
        let history = try issuer.audit(filter: AuditFilter(subject: "device:\(Branch.mobile):\(serial)"))
        let actions = Set(history.map { $0.action })
        let expected: Set<String> = ["register_mobile_otp", "verify_login", "reset_error_count", "report_accident", "recover_accident"]
        XCTAssertTrue(actions.isSuperset(of: expected), "\(actions)")
        let before = try device()
        issuer = try Issuer.openSqlite(path: path, masterKeyHex: key, clock: clock, sms: sms)
        let after = try device()
        XCTAssertEqual(after.state, before.state)
        XCTAssertEqual(after.errorCount, before.errorCount)
        XCTAssertEqual(after.registrations, before.registrations)
        clock.advance(30)
        XCTAssertEqual(try verify(try phone.loginCode(issuer)), .accepted)
        // The audit log, read back from the database, is a whole hash chain.
        let audit = try issuer.verifyAudit()
        XCTAssertEqual(audit.faults, [])
        XCTAssertGreaterThan(audit.entries, 0)
    }

    // MARK: - The rules, one by one

    func testCorporationsAndForeignCustomersAreNotEligible() throws {
        let issuer = try memoryIssuer()
        try issuer.registerCustomer(actor: Branch.staff, customer: Branch.customer("bank-a", "acme", kind: .corporation))
        try issuer.registerCustomer(actor: Branch.staff, customer: Branch.customer("bank-a", "smith", residency: .foreign))
        for (who, why) in [("acme", "corporations"), ("smith", "foreign")] {
            let e = issuerError(try issuer.issueNonFaceToFace(actor: Branch.web, institutionId: "bank-a", customerId: who, verificationReference: "kyc-77"))
            XCTAssertEqual(e?.kind, .notEligible, who)
            XCTAssertTrue(e?.reasonText.contains("physical OTP") ?? false, "\(String(describing: e))")
            XCTAssertTrue(e?.reasonText.contains(why) ?? false, "\(String(describing: e))")
            XCTAssertEqual(issuerError(try issuer.startFaceToFace(actor: Branch.staff, institutionId: "bank-a", customerId: who))?.kind, .notEligible, who)
            let refused = try issuer.audit(filter: AuditFilter(subject: "customer:\(who)", action: "issue_registration_code"))
            XCTAssertEqual(refused.map { $0.outcome }, ["refused"], who)
            let refusals = try issuer.audit(filter: AuditFilter(subject: "customer:\(who)")).filter { $0.outcome == "refused" }
            XCTAssertEqual(Set(refusals.map { $0.action }), ["issue_registration_code", "start_face_to_face"], who)
        }
        XCTAssertTrue(sms.sent.isEmpty, "no SMS for an ineligible customer")
        let report = try issuer.customerInquiry(actor: Branch.staff, institutionId: "bank-a", customerId: "acme")
        XCTAssertEqual(report.kind, .corporation)
        XCTAssertEqual(report.residency, .domestic)
        // A physical OTP is what they get.
        try Branch.importToken(issuer)
        try issuer.registerDevice(actor: Branch.staff, institutionId: "bank-a", customerId: "acme", vendorCode: Branch.vendor, serialNumber: Branch.serial)
        let devices = try issuer.customerInquiry(actor: Branch.staff, institutionId: "bank-a", customerId: "acme").devices
        XCTAssertEqual(devices.map { $0.serialNumber }, [Branch.serial])
        let acmeCode = try Branch.token().codeAt(unixTime: clock.seconds).code
        XCTAssertEqual(try issuer.verifyLogin(actor: Branch.web, institutionId: "bank-a", customerId: "acme", code: acmeCode), .accepted)
        // Unknown customers and institutions are refused as such.
        XCTAssertEqual(
            issuerError(try issuer.issueNonFaceToFace(actor: Branch.web, institutionId: "bank-a", customerId: "nobody", verificationReference: "kyc-77")),
            .UnknownCustomer
        )
        XCTAssertEqual(issuerError(try issuer.registerCustomer(actor: Branch.staff, customer: Branch.customer("bank-x", "kim"))), .UnknownInstitution)
    }

    func testAnExpiredRegistrationCodeIsRejected() throws {
        let issuer = try memoryIssuer()
        let code = try issuer.issueNonFaceToFace(actor: Branch.web, institutionId: "bank-a", customerId: "kim", verificationReference: "kyc-77")
        let phone = try BranchPhone(clock: clock)
        let request = try phone.beginRegistration(code: code)
        clock.advance(601) // a registration code lives 10 minutes
        let response = issuer.handleRegistration(actor: Branch.app, message: request)
        // The phone cannot tell an expired code from a wrong or void one (the bank answers
        // every such request alike); the staff see why in the audit log.
        var expired: DigitalOtpError?
        XCTAssertThrowsError(try phone.app.confirmRegistration(response: response)) { error in
            expired = error as? DigitalOtpError
            XCTAssertEqual(expired?.kind, .registrationRejected, "\(error)")
        }
        XCTAssertEqual(try issuer.customerInquiry(actor: Branch.staff, institutionId: "bank-a", customerId: "kim").devices, [])
        let entry = try onlyElement(issuer.audit(filter: AuditFilter(action: "register_mobile_otp")))
        XCTAssertEqual(entry.actor, Branch.app)
        XCTAssertEqual(entry.outcome, "rejected")
        XCTAssertEqual(entry.detail, "expired registration code")
        // The expired code is void for good.
        let again = issuer.handleRegistration(actor: Branch.app, message: try phone.beginRegistration(code: code))
        XCTAssertThrowsError(try phone.app.confirmRegistration(response: again)) { error in
            XCTAssertEqual((error as? DigitalOtpError)?.kind, .registrationRejected, "\(error)")
            XCTAssertEqual(error as? DigitalOtpError, expired, "a void code is answered as an expired one")
        }
        let reasons = try issuer.audit(filter: AuditFilter(action: "register_mobile_otp")).map { $0.detail }
        XCTAssertEqual(reasons, ["no outstanding code for this phone", "expired registration code"], "newest first")
        XCTAssertTrue(phone.store.isEmpty, "failed registrations write nothing")
        XCTAssertTrue(phone.keyStore.isEmpty, "nor keep a device key")
        XCTAssertEqual(try issuer.customerInquiry(actor: Branch.staff, institutionId: "bank-a", customerId: "kim").devices, [])
        // The face-to-face SMS code lives 5 minutes.
        try issuer.startFaceToFace(actor: Branch.staff, institutionId: "bank-a", customerId: "kim")
        let shown = try sms.lastCode()
        clock.advance(301)
        XCTAssertEqual(
            issuerError(try issuer.confirmFaceToFace(actor: Branch.staff, institutionId: "bank-a", customerId: "kim", shownCode: shown)),
            .NoVerificationPending
        )
    }

    func testCustomersHearOnlyAcceptedOrRejectedWhileStaffSeeWhy() throws {
        let issuer = try memoryIssuer()
        let token = try Branch.importToken(issuer, validUntil: Branch.t0 + 86_400)
        try issuer.registerDevice(actor: Branch.staff, institutionId: "bank-a", customerId: "kim", vendorCode: Branch.vendor, serialNumber: Branch.serial)
        try issuer.registerCustomer(actor: Branch.staff, customer: Branch.customer("bank-a", "lee"))
        var verdicts: [Verification] = []

        func verify(_ code: String, customer: String = "kim") throws {
            verdicts.append(try issuer.verifyLogin(actor: Branch.web, institutionId: "bank-a", customerId: customer, code: code))
        }

        func device() throws -> DeviceReport {
            try issuer.deviceInquiry(actor: Branch.staff, institutionId: "bank-a", vendorCode: Branch.vendor, serialNumber: Branch.serial)
        }

        // A closure, not a nested func: Swift 6.0.3's emit-module pass misjudges `try` in
        // such a nested func (a warning there, the opposite error when compiling).
        let nowCode = { () throws -> String in try token.codeAt(unixTime: self.clock.seconds).code }

        try verify(try nowCode(), customer: "lee") // no OTP device
        try verify(try Branch.wrongCode(token, at: clock.seconds)) // wrong
        let code = try nowCode()
        try verify(code)
        try verify(code) // replay
        try issuer.reportAccident(actor: Branch.staff, institutionId: "bank-a", vendorCode: Branch.vendor, serialNumber: Branch.serial, kind: .lost)
        clock.advance(30)
        try verify(try nowCode()) // lost
        XCTAssertEqual(try device().state, .lost)
        _ = try issuer.recover(actor: Branch.staff, institutionId: "bank-a", vendorCode: Branch.vendor, serialNumber: Branch.serial)
        try verify(try nowCode())
        for _ in 0..<10 {
            try verify(try Branch.wrongCode(token, at: clock.seconds))
        }
        let locked = try device()
        XCTAssertEqual(locked.state, .locked)
        XCTAssertEqual(locked.errorCount, 10)
        clock.advance(30)
        try verify(try nowCode()) // locked
        try issuer.resetErrorCount(actor: Branch.staff, institutionId: "bank-a", vendorCode: Branch.vendor, serialNumber: Branch.serial)
        clock.advance(86_400)
        try verify(try nowCode()) // expired
        XCTAssertTrue(try device().expired)

        let expectedVerdicts: [Verification] = [.rejected, .rejected, .accepted, .rejected, .rejected, .accepted]
            + Array(repeating: Verification.rejected, count: 12)
        XCTAssertEqual(verdicts, expectedVerdicts)
        // The staff see why, in the audit log (oldest first here) and in the inquiry.
        let log = Array(try issuer.audit(filter: AuditFilter(action: "verify_login")).reversed())
        var expectedDetails: [String] = ["no OTP device", "wrong code; error count 1", "accepted", "code already used", "device reported lost", "accepted"]
        for count in 1...9 {
            expectedDetails.append("wrong code; error count \(count)")
        }
        expectedDetails.append("wrong code; error count 10: device locked")
        expectedDetails.append("device locked (error count)")
        expectedDetails.append("device expired")
        XCTAssertEqual(log.map { $0.detail }, expectedDetails)
        XCTAssertEqual(log.map { $0.outcome }, verdicts.map { $0 == .accepted ? "ok" : "rejected" })
        XCTAssertEqual(log.first?.subject, "customer:lee")
        XCTAssertEqual(Set(log.dropFirst().map { $0.subject }), ["device:\(Branch.vendor):\(Branch.serial)"])
        let history = try device().history.filter { $0.action == "verify_login" }.map { $0.detail }
        XCTAssertEqual(history, log.dropFirst().reversed().map { $0.detail }, "the device's history, newest first")
    }

    func testAuditEntriesHaveActorsAndNeverContainACode() throws {
        let issuer = try memoryIssuer()
        try issuer.startFaceToFace(actor: Branch.staff, institutionId: "bank-a", customerId: "kim")
        let shown = try sms.lastCode()
        let wrongSms = shown == "00000" ? "11111" : "00000"
        issuerError(try issuer.confirmFaceToFace(actor: Branch.staff, institutionId: "bank-a", customerId: "kim", shownCode: wrongSms))
        let registrationCode = try issuer.confirmFaceToFace(actor: Branch.staff, institutionId: "bank-a", customerId: "kim", shownCode: shown)
        let phone = try BranchPhone(clock: clock)
        let serial = try phone.register(issuer, code: registrationCode).serialNumber
        // The used registration code again: rejected, and recorded without the code.
        let again = try phone.beginRegistration(code: registrationCode)
        XCTAssertThrowsError(
            try phone.app.confirmRegistration(response: issuer.handleRegistration(actor: Branch.app, message: again))
        ) { error in
            XCTAssertEqual((error as? DigitalOtpError)?.kind, .registrationRejected, "\(error)")
        }
        let login = try phone.loginCode(issuer)
        let wrongLogin = Branch.otherCode(login)
        XCTAssertEqual(try issuer.verifyLogin(actor: Branch.web, institutionId: "bank-a", customerId: "kim", code: wrongLogin), .rejected)
        XCTAssertEqual(try issuer.verifyLogin(actor: Branch.web, institutionId: "bank-a", customerId: "kim", code: login), .accepted)
        let tx = Branch.transfer()
        let txCode = try phone.transactionCode(issuer, tx)
        XCTAssertEqual(
            try issuer.verifyTransaction(actor: Branch.web, institutionId: "bank-a", customerId: "kim", code: txCode, transaction: tx),
            .accepted
        )
        _ = try issuer.customerInquiry(actor: Branch.staff, institutionId: "bank-a", customerId: "kim")

        let records = try issuer.audit(filter: AuditFilter())
        XCTAssertEqual(records.map { $0.id }, records.map { $0.id }.sorted(by: >), "newest first")
        var actorsOf: [String: Set<String>] = [:]
        for r in records {
            XCTAssertFalse(r.actor.trimmingCharacters(in: .whitespaces).isEmpty, "\(r)")
            XCTAssertFalse(r.action.isEmpty, "\(r)")
            XCTAssertTrue(["ok", "rejected", "refused"].contains(r.outcome), "\(r)")
            XCTAssertEqual(r.at, Branch.t0)
            actorsOf[r.action, default: []].insert(r.actor)
        }
        XCTAssertEqual(actorsOf["add_institution"], [Branch.admin])
        XCTAssertEqual(actorsOf["start_face_to_face"], [Branch.staff])
        XCTAssertEqual(actorsOf["confirm_face_to_face"], [Branch.staff])
        XCTAssertEqual(actorsOf["issue_registration_code"], [Branch.staff])
        XCTAssertEqual(actorsOf["register_mobile_otp"], [Branch.app])
        XCTAssertEqual(actorsOf["unlock"], [Branch.app])
        XCTAssertEqual(actorsOf["verify_login"], [Branch.web])
        XCTAssertEqual(actorsOf["verify_transaction"], [Branch.web])
        XCTAssertEqual(actorsOf["customer_inquiry"], [Branch.staff])
        let details = Set(records.map { "\($0.action) | \($0.outcome) | \($0.detail)" })
        XCTAssertTrue(details.contains("confirm_face_to_face | rejected | wrong verification code"), "\(details)")
        XCTAssertTrue(details.contains("register_mobile_otp | rejected | no outstanding code for this phone"), "\(details)")

        // No code, password or phone number: not as a whole number in any field of any entry.
        let deviceHistory = try issuer.deviceInquiry(actor: Branch.staff, institutionId: "bank-a", vendorCode: Branch.mobile, serialNumber: serial).history
        let texts = (records + deviceHistory).map { r in
            [r.institutionId, r.actor, r.action, r.subject, r.outcome, r.detail].joined(separator: " ")
        }
        let secrets = [
            shown, wrongSms, registrationCode, registrationCode.replacingOccurrences(of: "-", with: ""),
            login, wrongLogin, txCode, Branch.password, Branch.deviceId, Branch.phone, Branch.phoneE164,
        ]
        for secret in secrets {
            for text in texts {
                XCTAssertFalse(containsWhole(text, secret), "\"\(secret)\" in the audit log: \(text)")
            }
        }
        // Filters: the limit, and the time range.
        XCTAssertEqual(try issuer.audit(filter: AuditFilter(limit: 2)).count, 2)
        XCTAssertEqual(try issuer.audit(filter: AuditFilter(from: Branch.t0 + 1)), [])
        let everything = try issuer.audit(filter: AuditFilter())
        XCTAssertEqual(try issuer.audit(filter: AuditFilter(from: Branch.t0, until: Branch.t0 + 1)), everything)
        XCTAssertEqual(try issuer.purgeExpiredAudit(), 0, "kept ten years")
    }

    /// The Kotlin suite's audit test: every operation is recorded with its actor, outcome
    /// and institution; the filters select; no code of any kind, nor the master key, shows.
    func testTheAuditLogRecordsTheOperationsWithTheirActorsAndNeverACode() throws {
        let auditor = "audit-07"
        let masterKey = try generateMasterKey()
        let issuer = try Branch.setUp(try Issuer.inMemory(masterKeyHex: masterKey, clock: clock, sms: sms))
        try issuer.startFaceToFace(actor: Branch.staff, institutionId: "bank-a", customerId: "kim")
        let shown = try sms.lastCode()
        let wrongShown = shown == "00000" ? "11111" : "00000"
        XCTAssertEqual(
            issuerError(try issuer.confirmFaceToFace(actor: Branch.staff, institutionId: "bank-a", customerId: "kim", shownCode: wrongShown))?.kind,
            .wrongVerificationCode
        )
        let registrationCode = try issuer.confirmFaceToFace(actor: Branch.staff, institutionId: "bank-a", customerId: "kim", shownCode: shown)
        let phone = try BranchPhone(clock: clock)
        let serial = try phone.register(issuer, code: registrationCode).serialNumber
        clock.advance(30)
        let login = try phone.loginCode(issuer)
        XCTAssertEqual(try issuer.verifyLogin(actor: Branch.web, institutionId: "bank-a", customerId: "kim", code: login), .accepted)
        let tx = Branch.transfer()
        let txCode = try phone.transactionCode(issuer, tx)
        XCTAssertEqual(
            try issuer.verifyTransaction(actor: Branch.web, institutionId: "bank-a", customerId: "kim", code: txCode, transaction: tx),
            .accepted
        )
        let token = try Branch.importToken(issuer, serial: "SN0003")
        let proof = try token.codeAt(unixTime: clock.seconds).code
        try issuer.registerDevice(
            actor: Branch.staff, institutionId: "bank-b", customerId: "kim", vendorCode: Branch.vendor, serialNumber: "SN0003",
            possessionCode: proof
        )
        let wrongLogin = Branch.otherCode(login)
        XCTAssertEqual(try issuer.verifyLogin(actor: Branch.web, institutionId: "bank-a", customerId: "kim", code: wrongLogin), .rejected)
        _ = try issuer.deviceInquiry(actor: Branch.staff, institutionId: "bank-a", vendorCode: Branch.mobile, serialNumber: serial)
        _ = try issuer.customerInquiry(actor: auditor, institutionId: "bank-a", customerId: "kim")

        let log = try issuer.audit(filter: AuditFilter())
        XCTAssertEqual(log.map { $0.id }, log.map { $0.id }.sorted(by: >), "newest first")
        XCTAssertEqual(Set(log.map { $0.id }).count, log.count, "ids are unique")
        let expected: [(action: String, actor: String, outcome: String, institution: String)] = [
            ("add_institution", Branch.admin, "ok", "bank-a"),
            ("register_customer", Branch.staff, "ok", "bank-a"),
            ("start_face_to_face", Branch.staff, "ok", "bank-a"),
            ("confirm_face_to_face", Branch.staff, "rejected", "bank-a"),
            ("confirm_face_to_face", Branch.staff, "ok", "bank-a"),
            ("issue_registration_code", Branch.staff, "ok", "bank-a"),
            ("register_mobile_otp", Branch.app, "ok", "bank-a"),
            ("unlock", Branch.app, "ok", "bank-a"),
            ("verify_login", Branch.web, "ok", "bank-a"),
            ("verify_login", Branch.web, "rejected", "bank-a"),
            ("verify_transaction", Branch.web, "ok", "bank-a"),
            ("import_device", Branch.ops, "ok", ""),
            ("register_device", Branch.staff, "ok", "bank-b"),
            ("device_inquiry", Branch.staff, "ok", "bank-a"),
            ("customer_inquiry", auditor, "ok", "bank-a"),
        ]
        for e in expected {
            XCTAssertTrue(
                log.contains { $0.action == e.action && $0.actor == e.actor && $0.outcome == e.outcome && $0.institutionId == e.institution },
                "no \(e.action) by \(e.actor) (\(e.outcome)) at '\(e.institution)'"
            )
        }
        XCTAssertTrue(log.contains { $0.subject == "device:\(Branch.mobile):\(serial)" && $0.detail == "customer kim, pending activation; device key not attested" })

        // Filters.
        let logins = try issuer.audit(filter: AuditFilter(action: "verify_login"))
        XCTAssertEqual(logins.count, 2)
        XCTAssertTrue(logins.allSatisfy { $0.action == "verify_login" })
        let atBankB = try issuer.audit(filter: AuditFilter(institutionId: "bank-b"))
        XCTAssertFalse(atBankB.isEmpty)
        XCTAssertTrue(atBankB.allSatisfy { $0.institutionId == "bank-b" })
        let ofDevice = Set(try issuer.audit(filter: AuditFilter(subject: "device:\(Branch.mobile):\(serial)")).map { $0.action })
        XCTAssertTrue(ofDevice.isSuperset(of: ["register_mobile_otp", "unlock", "verify_login", "verify_transaction"]), "\(ofDevice)")
        XCTAssertEqual(try issuer.audit(filter: AuditFilter(limit: 3)).count, 3)
        let before = try issuer.audit(filter: AuditFilter(until: Branch.t0 + 1))
        XCTAssertFalse(before.isEmpty)
        XCTAssertTrue(before.allSatisfy { $0.at == Branch.t0 })
        XCTAssertFalse(before.contains { $0.action == "verify_login" })
        XCTAssertEqual(try issuer.audit(filter: AuditFilter(from: clock.seconds + 1)), [])
        XCTAssertEqual(try issuer.purgeExpiredAudit(), 0, "kept ten years")

        // No code, of any kind, in any record (nor in a device's history), nor the master key.
        let codes = [shown, wrongShown, registrationCode, registrationCode.replacingOccurrences(of: "-", with: ""), login, txCode, proof]
        let history = try issuer.deviceInquiry(actor: Branch.staff, institutionId: "bank-a", vendorCode: Branch.mobile, serialNumber: serial).history
        let texts = (log + history).map { r in
            [r.institutionId, r.actor, r.action, r.subject, r.outcome, r.detail].joined(separator: " | ")
        }
        for text in texts {
            for code in codes {
                XCTAssertFalse(containsWhole(text, code), "the audit log holds a code: \(text)")
            }
            XCTAssertFalse(text.lowercased().contains(masterKey.lowercased()), text)
        }
    }

    /// The rest of the Kotlin suite's "the customer hears only ACCEPTED or REJECTED": no
    /// device at that institution, an unknown customer and a stolen device are all just
    /// REJECTED, while the audit log tells them apart.
    func testOtherInstitutionsUnknownCustomersAndStolenDevicesAreRejectedAlike() throws {
        let issuer = try memoryIssuer()
        let token = try Branch.importToken(issuer)
        try issuer.registerDevice(actor: Branch.staff, institutionId: "bank-a", customerId: "kim", vendorCode: Branch.vendor, serialNumber: Branch.serial)
        let verify = { (institutionId: String, customerId: String, code: String) throws -> Verification in
            try issuer.verifyLogin(actor: Branch.web, institutionId: institutionId, customerId: customerId, code: code)
        }
        let nowCode = { () throws -> String in try token.codeAt(unixTime: self.clock.seconds).code }

        XCTAssertEqual(try verify("bank-b", "kim", try nowCode()), .rejected)
        XCTAssertEqual(try lastDetail(issuer, "verify_login"), "no OTP device")
        XCTAssertEqual(try verify("bank-a", "nobody", try nowCode()), .rejected, "an unknown customer is not told apart")
        XCTAssertEqual(try lastDetail(issuer, "verify_login"), "no OTP device")
        XCTAssertEqual(issuerError(try issuer.customerInquiry(actor: Branch.staff, institutionId: "bank-a", customerId: "nobody")), .UnknownCustomer)

        try issuer.reportAccident(actor: Branch.staff, institutionId: "bank-a", vendorCode: Branch.vendor, serialNumber: Branch.serial, kind: .stolen)
        clock.advance(30)
        XCTAssertEqual(try verify("bank-a", "kim", try nowCode()), .rejected)
        XCTAssertEqual(try lastDetail(issuer, "verify_login"), "device reported stolen")
        let stolen = try issuer.deviceInquiry(actor: Branch.staff, institutionId: "bank-a", vendorCode: Branch.vendor, serialNumber: Branch.serial)
        XCTAssertEqual(stolen.state, .stolen)
        XCTAssertEqual(stolen.errorCount, 0, "a refusal for the device's state is not a wrong code")
        _ = try issuer.recover(actor: Branch.staff, institutionId: "bank-a", vendorCode: Branch.vendor, serialNumber: Branch.serial)
        clock.advance(30)
        XCTAssertEqual(try verify("bank-a", "kim", try nowCode()), .accepted)
        XCTAssertEqual(try lastDetail(issuer, "verify_login"), "accepted")
    }

    func testReopeningTheDatabaseWithAnotherMasterKeyIsRefused() throws {
        let path = databasePath
        let key = try generateMasterKey()
        let other = try generateMasterKey()
        XCTAssertNotEqual(key, other)
        do {
            let issuer = try Branch.setUp(try Issuer.openSqlite(path: path, masterKeyHex: key, clock: clock))
            try Branch.importToken(issuer)
            try issuer.registerDevice(actor: Branch.staff, institutionId: "bank-a", customerId: "kim", vendorCode: Branch.vendor, serialNumber: Branch.serial)
        }

        let e = issuerError(try Issuer.openSqlite(path: path, masterKeyHex: other, clock: clock))
        XCTAssertEqual(e?.kind, .masterKey)
        let text = String(describing: e)
        XCTAssertTrue(e?.reasonText.contains("not the master key") ?? false, text)
        XCTAssertFalse(text.contains(other) || text.contains(key), text)
        for malformed in ["", "not a key", String(repeating: "00", count: 31), String(repeating: "zz", count: 32)] {
            XCTAssertEqual(issuerError(try Issuer.openSqlite(path: path, masterKeyHex: malformed, clock: clock))?.kind, .masterKey, malformed)
        }
        XCTAssertEqual(issuerError(try Issuer.inMemory(masterKeyHex: "00"))?.kind, .masterKey)

        // The right key opens it, and unseals the token's secret.
        let reopened = try Issuer.openSqlite(path: path, masterKeyHex: key, clock: clock)
        let kim = try reopened.customerInquiry(actor: Branch.staff, institutionId: "bank-a", customerId: "kim")
        XCTAssertEqual(kim.name, "홍길동")
        let devices = kim.devices
        XCTAssertEqual(devices.map { $0.serialNumber }, [Branch.serial])
        let code = try Branch.token().codeAt(unixTime: Branch.t0).code
        XCTAssertEqual(try reopened.verifyLogin(actor: Branch.web, institutionId: "bank-a", customerId: "kim", code: code), .accepted)
        // Neither the key nor the secret is in the database files.
        let tokenBase32 = try OtpSecret.fromHex(text: Branch.tokenSecretHex).toBase32()
        let needles = [
            Data(key.utf8), Data(hexString: key), Data(Branch.tokenSecretHex.utf8), Data(hexString: Branch.tokenSecretHex),
            Data(tokenBase32.utf8),
        ]
        let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.lastPathComponent.hasPrefix("issuer.db") }
        XCTAssertFalse(files.isEmpty)
        for file in files {
            let data = try Data(contentsOf: file)
            for needle in needles {
                XCTAssertNil(data.range(of: needle), "\(file.lastPathComponent) holds a key or secret")
            }
        }
    }

    func testTransactionCodesVerifyOnlyForTheSameTransaction() throws {
        let issuer = try memoryIssuer()
        let phone = try BranchPhone(clock: clock)
        let registrationCode = try issuer.issueNonFaceToFace(actor: Branch.web, institutionId: "bank-a", customerId: "kim", verificationReference: "kyc-77")
        let serial = try phone.register(issuer, code: registrationCode).serialNumber
        let tx = Branch.transfer()
        let code = try phone.transactionCode(issuer, tx)
        XCTAssertTrue(matchesWhole(code, "[0-9]{8}"), code)

        func verify(_ transaction: Transaction) throws -> Verification {
            try issuer.verifyTransaction(actor: Branch.web, institutionId: "bank-a", customerId: "kim", code: code, transaction: transaction)
        }

        let changed = [
            Branch.transfer(amount: 1_500_001),
            Branch.transfer(account: "110-123-456788"),
            Branch.transfer(name: "홍길동"),
            Branch.transfer(currency: "USD"),
            Branch.transfer(memo: "rent"),
        ]
        for other in changed {
            XCTAssertEqual(try verify(other), .rejected, "\(other)")
        }
        // The same transfer, with the account written another way.
        XCTAssertEqual(try verify(Branch.transfer(account: "110 123 456789", currency: "krw")), .accepted)
        XCTAssertEqual(try verify(tx), .rejected, "replay")
        XCTAssertEqual(try lastDetail(issuer, "verify_transaction"), "code already used")
        // An 8-digit transaction code is not of a login code's form: refused, not counted.
        XCTAssertEqual(issuerError(try issuer.verifyLogin(actor: Branch.web, institutionId: "bank-a", customerId: "kim", code: code))?.kind, .invalidInput, "not a login code")
        let d = try issuer.deviceInquiry(actor: Branch.staff, institutionId: "bank-a", vendorCode: Branch.mobile, serialNumber: serial)
        XCTAssertEqual(d.registrations.last?.state, .active, "a transaction code activates too")
        XCTAssertEqual(d.errorCount, 0)
        XCTAssertEqual(issuerError(try verify(Branch.transfer(amount: 0)))?.kind, .invalidInput)
        XCTAssertEqual(issuerError(try verify(Branch.transfer(currency: "")))?.kind, .invalidInput)
        // Another institution's customer: no device there.
        XCTAssertEqual(
            try issuer.verifyTransaction(actor: Branch.web, institutionId: "bank-b", customerId: "kim", code: code, transaction: tx),
            .rejected
        )
    }

    func testUnknownDeviceForAWrongVendorOrSerial() throws {
        let issuer = try memoryIssuer()
        let token = try Branch.importToken(issuer)
        try issuer.registerDevice(actor: Branch.staff, institutionId: "bank-a", customerId: "kim", vendorCode: Branch.vendor, serialNumber: Branch.serial)
        let proof = try token.codeAt(unixTime: Branch.t0).code
        for (vendor, serial) in [("WRONG", Branch.serial), (Branch.vendor, "SN9999"), (Branch.mobile, Branch.serial)] {
            let calls: [() throws -> Void] = [
                { try issuer.registerDevice(actor: Branch.staff, institutionId: "bank-b", customerId: "kim", vendorCode: vendor, serialNumber: serial) },
                {
                    try issuer.registerDevice(
                        actor: Branch.staff, institutionId: "bank-b", customerId: "kim",
                        vendorCode: vendor, serialNumber: serial, possessionCode: proof
                    )
                },
                { _ = try issuer.deviceInquiry(actor: Branch.staff, institutionId: "bank-a", vendorCode: vendor, serialNumber: serial) },
                { try issuer.reportAccident(actor: Branch.staff, institutionId: "bank-a", vendorCode: vendor, serialNumber: serial, kind: .stolen) },
                { _ = try issuer.recover(actor: Branch.staff, institutionId: "bank-a", vendorCode: vendor, serialNumber: serial) },
                { try issuer.resetErrorCount(actor: Branch.staff, institutionId: "bank-a", vendorCode: vendor, serialNumber: serial) },
            ]
            for (index, call) in calls.enumerated() {
                XCTAssertEqual(issuerError(try call())?.kind, .unknownDevice, "call \(index) with \(vendor):\(serial)")
            }
        }
        XCTAssertEqual(issuerError(try Branch.importToken(issuer))?.kind, .deviceExists)
        // The real one is untouched: registered at bank A only, usable.
        let d = try issuer.deviceInquiry(actor: Branch.staff, institutionId: "bank-a", vendorCode: Branch.vendor, serialNumber: Branch.serial)
        XCTAssertEqual(d.registrations.map { $0.institutionId }, ["bank-a"])
        XCTAssertEqual(d.state, .active)
        XCTAssertEqual(try issuer.verifyLogin(actor: Branch.web, institutionId: "bank-a", customerId: "kim", code: proof), .accepted)
        let refused = try issuer.audit(filter: AuditFilter(subject: "device:WRONG:\(Branch.serial)"))
        XCTAssertFalse(refused.isEmpty)
        XCTAssertEqual(Set(refused.map { $0.outcome }), ["refused"])
        XCTAssertTrue(refused.allSatisfy { $0.detail.contains("no OTP device with this vendor code") }, "\(refused)")
        // The SDK's own vendor code is not for imported devices.
        let mobileImport = ImportedDevice(
            vendorCode: Branch.mobile, serialNumber: "X1", secret: try OtpSecret.fromHex(text: Branch.tokenSecretHex),
            algorithm: .sha1, digits: 6, periodSeconds: 30, validUntil: Branch.t0 + 60
        )
        XCTAssertEqual(issuerError(try issuer.importDevice(actor: Branch.ops, device: mobileImport))?.kind, .invalidInput)
        // A known device registered elsewhere is another matter.
        XCTAssertEqual(
            issuerError(try issuer.resetErrorCount(actor: Branch.staff, institutionId: "bank-b", vendorCode: Branch.vendor, serialNumber: Branch.serial))?.kind,
            .notRegisteredHere
        )
    }

    // MARK: - Attestation, the audit chain, the master key

    /// The attestation policy is the institution's: bank A requires attested device keys
    /// and refuses the software key (before its code is guessed), bank B (off by default)
    /// takes it; under `.warn`, bank A takes it too and records it as not attested.
    func testRequiredAttestationRefusesASoftwareDeviceKeyAtThatInstitutionOnly() throws {
        let issuer = try memoryIssuer()
        try issuer.setAttestationPolicy(
            actor: Branch.admin, institutionId: "bank-a", policy: AttestationPolicy(requirement: .require), requireIntegrity: false
        )
        let set = try onlyElement(try issuer.audit(filter: AuditFilter(action: "set_attestation_policy")))
        XCTAssertEqual([set.actor, set.institutionId, set.outcome], [Branch.admin, "bank-a", "ok"])
        let code = try issuer.issueNonFaceToFace(actor: Branch.web, institutionId: "bank-a", customerId: "kim", verificationReference: "kyc-77")
        let phone = try BranchPhone(clock: clock)
        XCTAssertThrowsError(try phone.register(issuer, code: code)) { error in
            XCTAssertEqual((error as? DigitalOtpError)?.kind, .registrationRejected, "\(error)")
            XCTAssertTrue((error as? DigitalOtpError)?.reasonText.contains("attest") ?? false, "\(error)")
        }
        XCTAssertTrue(phone.store.isEmpty && phone.keyStore.isEmpty, "no credential, and the refused device key deleted")
        XCTAssertEqual(try issuer.customerInquiry(actor: Branch.staff, institutionId: "bank-a", customerId: "kim").devices, [])
        let refused = try onlyElement(try issuer.audit(filter: AuditFilter(action: "register_mobile_otp")))
        XCTAssertEqual([refused.actor, refused.outcome], [Branch.app, "rejected"])
        XCTAssertEqual(refused.detail, "device key not trusted: no key attestation evidence")

        let atB = try phone.register(
            issuer, code: try issuer.issueNonFaceToFace(actor: Branch.web, institutionId: "bank-b", customerId: "kim", verificationReference: "kyc-78"),
            institutionId: "bank-b"
        )
        XCTAssertEqual(atB.status, .pending)

        try issuer.setAttestationPolicy(
            actor: Branch.admin, institutionId: "bank-a", policy: AttestationPolicy(requirement: .warn), requireIntegrity: false
        )
        let atA = try phone.register(issuer, code: code)
        XCTAssertEqual(atA.status, .pending, "the refused key did not spend a guess of the code")
        let registered = try onlyElement(
            try issuer.audit(filter: AuditFilter(subject: "device:\(Branch.mobile):\(atA.serialNumber)", action: "register_mobile_otp"))
        )
        XCTAssertEqual(registered.detail, "customer kim, pending activation; device key not attested")
        XCTAssertEqual(try issuer.verifyLogin(actor: Branch.web, institutionId: "bank-a", customerId: "kim", code: try phone.loginCode(issuer)), .accepted)
    }

    /// An audit entry rewritten in the database file (the bytes of its detail, the way
    /// someone with the file and no key would): the log still reads, but its hash chain
    /// names the entry, and still does after a reopening.
    func testVerifyAuditReportsAnAuditEntryRewrittenInTheDatabaseFile() throws {
        let path = databasePath
        let key = try generateMasterKey()
        var issuer: Issuer? = try Branch.setUp(try Issuer.openSqlite(path: path, masterKeyHex: key, clock: clock, sms: sms))
        let phone = try BranchPhone(clock: clock)
        let code = try XCTUnwrap(issuer).issueNonFaceToFace(actor: Branch.web, institutionId: "bank-a", customerId: "kim", verificationReference: "kyc-77")
        _ = try phone.register(try XCTUnwrap(issuer), code: code)
        _ = try phone.loginCode(try XCTUnwrap(issuer))
        let whole = try XCTUnwrap(issuer).verifyAudit()
        XCTAssertEqual(whole.faults, [])
        let unlock = try onlyElement(try XCTUnwrap(issuer).audit(filter: AuditFilter(action: "unlock")))
        XCTAssertEqual(unlock.detail, "evaluation 1; 4 wrong app passwords left")
        issuer = nil // closed: the write-ahead log is checkpointed into the file

        let file = URL(fileURLWithPath: path)
        let wal = URL(fileURLWithPath: path + "-wal")
        let walSize = (try? FileManager.default.attributesOfItem(atPath: wal.path)[.size] as? Int) ?? 0
        XCTAssertEqual(walSize, 0, "the database is not checkpointed: the test would edit a stale copy")
        var bytes = try Data(contentsOf: file)
        let original = Data(unlock.detail.utf8)
        let found = try XCTUnwrap(bytes.range(of: original), "the detail is not in the file as it is")
        XCTAssertNil(bytes[found.upperBound...].range(of: original), "the detail is in the file once")
        bytes.replaceSubrange(found, with: Data("evaluation 1; 5 wrong app passwords left".utf8))
        try bytes.write(to: file)

        let reopened = try Issuer.openSqlite(path: path, masterKeyHex: key, clock: clock, sms: sms)
        let rewritten = try onlyElement(try reopened.audit(filter: AuditFilter(action: "unlock")))
        XCTAssertEqual(rewritten.detail, "evaluation 1; 5 wrong app passwords left", "the log itself still reads")
        let check = try reopened.verifyAudit()
        XCTAssertEqual(check.entries, whole.entries)
        let fault = try onlyElement(check.faults)
        XCTAssertTrue(fault.range(of: "\\bentry \(unlock.id)\\b", options: .regularExpression) != nil, fault)
    }

    /// Rotating the master key re-seals everything while the issuer serves on (the
    /// phone's unlocks and codes, a hardware token, an outstanding registration code);
    /// then the database opens with the new key only.
    func testRotatingTheMasterKeyReSealsEverythingAndTheOldKeyNoLongerOpens() throws {
        let path = databasePath
        let key = try generateMasterKey()
        var issuer = try Branch.setUp(try Issuer.openSqlite(path: path, masterKeyHex: key, clock: clock, sms: sms))
        let phone = try BranchPhone(clock: clock)
        let serial = try phone.register(
            issuer, code: try issuer.issueNonFaceToFace(actor: Branch.web, institutionId: "bank-a", customerId: "kim", verificationReference: "kyc-77")
        ).serialNumber
        func verify(_ issuer: Issuer, _ code: String, _ institutionId: String = "bank-a") throws -> Verification {
            try issuer.verifyLogin(actor: Branch.web, institutionId: institutionId, customerId: "kim", code: code)
        }
        XCTAssertEqual(try verify(issuer, try phone.loginCode(issuer)), .accepted)
        let token = try Branch.importToken(issuer, serial: "SN0005")
        try issuer.registerDevice(actor: Branch.staff, institutionId: "bank-b", customerId: "kim", vendorCode: Branch.vendor, serialNumber: "SN0005")
        let outstanding = try issuer.issueNonFaceToFace(actor: Branch.web, institutionId: "bank-c", customerId: "kim", verificationReference: "kyc-79")

        let newKey = try generateMasterKey()
        XCTAssertNotEqual(newKey, key)
        let rows = try issuer.rotateMasterKey(actor: Branch.ops, newMasterKeyHex: newKey)
        XCTAssertGreaterThan(rows, 0)
        let rotation = try onlyElement(try issuer.audit(filter: AuditFilter(action: "rotate_master_key")))
        XCTAssertEqual([rotation.actor, rotation.outcome], [Branch.ops, "ok"])
        for text in [rotation.detail, rotation.subject] {
            XCTAssertFalse(text.lowercased().contains(newKey) || text.lowercased().contains(key), text)
        }

        // The same issuer serves on.
        clock.advance(30)
        XCTAssertEqual(try verify(issuer, try phone.loginCode(issuer)), .accepted)
        XCTAssertEqual(try verify(issuer, try token.codeAt(unixTime: clock.seconds).code, "bank-b"), .accepted)
        let other = try BranchPhone(clock: clock)
        XCTAssertEqual(try other.register(issuer, code: outstanding, institutionId: "bank-c").status, .pending)
        XCTAssertEqual(try issuer.verifyAudit().faults, [])

        // Reopened: the old key is refused, the new one opens everything.
        XCTAssertEqual(issuerError(try Issuer.openSqlite(path: path, masterKeyHex: key, clock: clock, sms: sms))?.kind, .masterKey)
        issuer = try Issuer.openSqlite(path: path, masterKeyHex: newKey, clock: clock, sms: sms)
        let device = try issuer.deviceInquiry(actor: Branch.staff, institutionId: "bank-a", vendorCode: Branch.mobile, serialNumber: serial)
        XCTAssertEqual(device.state, .active)
        clock.advance(30)
        XCTAssertEqual(try verify(issuer, try phone.loginCode(issuer)), .accepted)
        XCTAssertEqual(try verify(issuer, try token.codeAt(unixTime: clock.seconds).code, "bank-b"), .accepted)
        XCTAssertEqual(try issuer.verifyAudit().faults, [])
        XCTAssertEqual(issuerError(try issuer.rotateMasterKey(actor: Branch.ops, newMasterKeyHex: "not a key"))?.kind, .masterKey)
    }
}
