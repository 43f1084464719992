import DemoFlow
import DigitalOTP
import Foundation

// =====================================================================================
//  FOR THE DEMO ONLY.
//
//  A bank inside the app's own process: the SDK's issuer side (`Issuer`, the code that
//  runs on a bank's servers) with its master key in a file next to its database, so the
//  demo works without a server. A real bank app never does this: it implements
//  `BankApi` over its own (pinned) HTTPS connection to the bank, and its XCFramework is
//  built WITHOUT the `issuer` feature (PROFILE=release FEATURES= ...).
// =====================================================================================

/// FOR THE DEMO ONLY: a `BankApi` answered in-process by an `Issuer` (see the banner
/// above): both registration messages go to `Issuer.handleRegistration`, the unlocks to
/// `Issuer.handleUnlock` (which counts the password guesses). Also does what a branch or
/// the bank's website does before enrollment: registers the customer and issues a
/// registration code (`issueRegistrationCode`).
public final class FakeBankApi: BankApi {
    /// The demo bank's institution id.
    public static let demoInstitutionId = "demo-bank"
    /// Its display name.
    public static let demoInstitutionName = "Demo Bank (fake, in-app)"
    /// The employee recorded in the issuer's audit log for branch operations.
    static let branchActor = "demo-branch"
    /// The channel recorded for the app's requests.
    static let appChannel = "demo-app"

    /// The issuer answering (in memory or SQLite).
    public let issuer: Issuer
    /// The institution it serves.
    public let institutionId: String

    /// A fake bank over `issuer`, serving `institutionId` (added, or renamed, now).
    public init(
        issuer: Issuer,
        institutionId: String = FakeBankApi.demoInstitutionId,
        institutionName: String = FakeBankApi.demoInstitutionName
    ) throws {
        self.issuer = issuer
        self.institutionId = institutionId
        try issuer.addInstitution(actor: FakeBankApi.branchActor, institutionId: institutionId, name: institutionName)
    }

    /// A fake bank in memory, with a fresh master key (tests; forgotten when the app quits).
    public static func inMemory(clock: DigitalOTP.Clock? = nil) throws -> FakeBankApi {
        let issuer = try Issuer.inMemory(masterKeyHex: try generateMasterKey(), clock: clock, sms: nil)
        return try FakeBankApi(issuer: issuer)
    }

    /// A fake bank in a SQLite file under `directory`, so it remembers the registration
    /// across launches like the app's Keychain does. Its master key is kept in a plain
    /// file beside the database: acceptable for a demo, never for a bank.
    public static func persistent(directory: URL) throws -> FakeBankApi {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let keyFile = directory.appendingPathComponent("fake-bank-master-key.txt")
        let masterKey: String
        if let existing = try? String(contentsOf: keyFile, encoding: .utf8) {
            masterKey = existing.trimmingCharacters(in: .whitespacesAndNewlines)
        } else {
            masterKey = try generateMasterKey()
            try masterKey.write(to: keyFile, atomically: true, encoding: .utf8)
        }
        let database = directory.appendingPathComponent("fake-bank.sqlite").path
        let issuer = try Issuer.openSqlite(path: database, masterKeyHex: masterKey, clock: nil, sms: nil)
        return try FakeBankApi(issuer: issuer)
    }

    /// What the bank does before the app is involved (at a branch, or on its website after
    /// its own identity check): registers the customer with `phoneNumber` (the bank
    /// refuses a registration from another number) and issues an app registration code,
    /// displayed as `1234-5678-9012`, valid 10 minutes and single-use.
    public func issueRegistrationCode(phoneNumber: String) throws -> String {
        let e164 = try DeviceInfo(phoneNumber: phoneNumber, deviceId: "fake-bank").phoneNumberE164()
        let customerId = FakeBankApi.customerId(phoneNumberE164: e164)
        let customer = NewCustomer(
            institutionId: institutionId,
            customerId: customerId,
            name: "Demo Customer",
            kind: .individual,
            residency: .domestic,
            phoneNumber: e164
        )
        do {
            try issuer.registerCustomer(actor: FakeBankApi.branchActor, customer: customer)
        } catch IssuerError.CustomerExists {
            // Registered by an earlier code.
        }
        return try issuer.issueNonFaceToFace(
            actor: FakeBankApi.branchActor,
            institutionId: institutionId,
            customerId: customerId,
            verificationReference: "demo-identity-check"
        )
    }

    /// What the bank requires of a new device key's evidence. The demo bank has no trust
    /// anchors (a real bank sets Apple's App Attestation root CA, its `TEAMID.bundle.id`
    /// and the production environment), so under `.warn` every key is accepted and its
    /// evidence checked and recorded, and under `.require` every key is refused. Persisted
    /// and audited by the issuer.
    public func setAttestation(_ requirement: Requirement) throws {
        try issuer.setAttestationPolicy(
            actor: FakeBankApi.branchActor,
            institutionId: institutionId,
            policy: AttestationPolicy(
                requirement: requirement, androidRoots: [], androidPackages: [], appleRoots: [], appleAppIds: [],
                appleDevelopment: false
            ),
            requireIntegrity: false
        )
    }

    /// The issuer's audit records of `action` (`register_mobile_otp`, `unlock`, …), newest
    /// first: what the bank's staff would see.
    public func audit(action: String) throws -> [AuditRecord] {
        try issuer.audit(filter: AuditFilter(institutionId: nil, subject: nil, action: action, from: nil, until: nil, limit: 0))
    }

    /// The demo's customer id for a phone number (one customer per number).
    static func customerId(phoneNumberE164: String) -> String {
        "customer-" + phoneNumberE164.filter { $0.isASCII && $0.isNumber }
    }

    // MARK: - BankApi

    public func register(request: Data) async throws -> Data {
        issuer.handleRegistration(actor: FakeBankApi.appChannel, message: request)
    }

    public func confirmRegistration(confirmation: Data) async throws -> Data {
        issuer.handleRegistration(actor: FakeBankApi.appChannel, message: confirmation)
    }

    public func unlock(request: Data) async throws -> Data {
        issuer.handleUnlock(actor: FakeBankApi.appChannel, request: request)
    }

    public func verifyLogin(institutionId: String, serialNumber: String, code: String) async throws -> Bool {
        guard let customerId = try customer(of: serialNumber, at: institutionId) else {
            return false
        }
        let verdict = try issuer.verifyLogin(
            actor: FakeBankApi.appChannel,
            institutionId: institutionId,
            customerId: customerId,
            code: code
        )
        return verdict == .accepted
    }

    public func verifyTransfer(
        institutionId: String,
        serialNumber: String,
        code: String,
        transaction: Transaction
    ) async throws -> Bool {
        guard let customerId = try customer(of: serialNumber, at: institutionId) else {
            return false
        }
        let verdict = try issuer.verifyTransaction(
            actor: FakeBankApi.appChannel,
            institutionId: institutionId,
            customerId: customerId,
            code: code,
            transaction: transaction
        )
        return verdict == .accepted
    }

    /// The customer whose current (pending or active) registration at `institutionId`
    /// is the mobile OTP `serialNumber`. A real bank knows its customer from the login
    /// session instead.
    private func customer(of serialNumber: String, at institutionId: String) throws -> String? {
        let report: DeviceReport
        do {
            report = try issuer.deviceInquiry(
                actor: FakeBankApi.appChannel,
                institutionId: institutionId,
                vendorCode: mobileVendorCode(),
                serialNumber: serialNumber
            )
        } catch IssuerError.UnknownDevice {
            return nil
        }
        let current = report.registrations.last { registration in
            registration.institutionId == institutionId
                && (registration.state == .pending || registration.state == .active)
        }
        return current?.customerId
    }
}
