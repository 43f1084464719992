import DemoFlow
import DigitalOTP
import Foundation

// =====================================================================================
//  DEMO ONLY: a stand-in for the bank's backend relay.
//
//  An API key is a SERVER credential. In production the app talks only to the bank's own
//  backend, over the customer's authenticated session (and the bank's pinned TLS); that
//  backend knows its customer from the session and calls the issuer service with the
//  institution's channel key. A key shipped in an app can be extracted from it and used
//  against EVERY customer of the institution (registration, unlock and verification
//  calls for any customer id). So this class, which calls the service directly with the
//  channel key, exists for the demo and the tests only, like FakeBankApi: a real app's
//  `BankApi` calls its bank's backend, which does what this class does.
// =====================================================================================

/// DEMO ONLY stand-in for the bank's backend relay (see the banner above): a `BankApi`
/// answered by the issuer service (`dotp issuer serve`, docs/openapi.yaml) over HTTP with
/// the institution's channel key.
///
/// - Registration and unlock messages go to `POST /v1/institutions/{i}/registration` and
///   `…/unlock` as the SDK's bytes (`application/json`), and the answer's body comes back
///   unchanged: a refusal by the issuer is part of that answer (status 200), and the SDK
///   reports it at the next step.
/// - Codes go to `POST /v1/institutions/{i}/customers/{c}/login-verifications` (`{"code"}`)
///   and `…/transaction-verifications` (`{"code", "transaction"}`): `true` for the verdict
///   `accepted`. The bank verifies by customer, not by serial number: `customerId` is the
///   customer of the bank's session (the backend knows it from the customer's login, never
///   from the app), fixed for the life of this object: one object per signed-in customer.
///   The serial number the flow passes is not sent.
/// - Not reached (no connection, a timeout), 5xx, 429, or an answer that is not one:
///   `BankApiError`, which the flow shows as "bank unavailable" and keeps its state to try
///   again (nothing was done at the bank, or the same message can be sent again). Another
///   4xx (a key refused, an unknown customer): `ServiceRefusal`, whose description names
///   the status and the service's error code (the flow shows it in the same notice: it
///   keeps its state on any failure of the bank).
public final class ServiceBankApi: BankApi {
    /// The institution whose channel key this is; the only one it serves.
    public let institutionId: String
    /// The customer of the bank's session, whose codes it submits.
    public let customerId: String
    private let connection: ServiceConnection

    /// A relay to the service at `baseURL` for `institutionId`, with its `channelKey`
    /// (role `channel`), submitting codes for `customerId` (the session's customer).
    /// `timeout` bounds each call, in seconds.
    public init(baseURL: URL, institutionId: String, channelKey: String, customerId: String, timeout: TimeInterval = 30) {
        self.institutionId = institutionId
        self.customerId = customerId
        connection = ServiceConnection(baseURL: baseURL, apiKey: channelKey, timeout: timeout)
    }

    /// The service's base URL.
    public var baseURL: URL { connection.baseURL }

    private var institutionPath: String {
        "/v1/institutions/" + ServiceConnection.pathSegment(institutionId)
    }

    private var customerPath: String {
        institutionPath + "/customers/" + ServiceConnection.pathSegment(customerId)
    }

    // MARK: - BankApi

    /// `POST …/registration` with the SDK's registration request; the answer as it is.
    public func register(request: Data) async throws -> Data {
        try await message(to: "/registration", request)
    }

    /// `POST …/registration` with the SDK's confirmation; the outcome as it is.
    public func confirmRegistration(confirmation: Data) async throws -> Data {
        try await message(to: "/registration", confirmation)
    }

    /// `POST …/unlock` with the SDK's unlock request (the bank counts the guess); the answer as it is.
    public func unlock(request: Data) async throws -> Data {
        try await message(to: "/unlock", request)
    }

    /// `POST …/customers/{customerId}/login-verifications`: true when accepted.
    public func verifyLogin(institutionId: String, serialNumber: String, code: String) async throws -> Bool {
        try checkInstitution(institutionId)
        return try await verdict(of: "/login-verifications", LoginVerification(code: code))
    }

    /// `POST …/customers/{customerId}/transaction-verifications`: true when accepted for
    /// exactly `transaction`.
    public func verifyTransfer(
        institutionId: String,
        serialNumber: String,
        code: String,
        transaction: Transaction
    ) async throws -> Bool {
        try checkInstitution(institutionId)
        let body = TransactionVerification(code: code, transaction: TransactionBody(transaction))
        return try await verdict(of: "/transaction-verifications", body)
    }

    // MARK: - The calls

    /// Sends one of the SDK's messages to `institutionPath + route` and returns the answer's
    /// body as it is.
    private func message(to route: String, _ message: Data) async throws -> Data {
        let reply = try await connection.send("POST", institutionPath + route, body: message)
        guard reply.status == 200 else {
            throw ServiceRefusal(reply: reply)
        }
        return reply.body
    }

    /// Posts `body` to `customerPath + route` and reads the verdict.
    private func verdict<Body: Encodable>(of route: String, _ body: Body) async throws -> Bool {
        let encoded: Data
        do {
            encoded = try JSONEncoder().encode(body)
        } catch {
            throw BankApiError(reason: "the request could not be written (\(error.localizedDescription))")
        }
        let reply = try await connection.send("POST", customerPath + route, body: encoded)
        guard reply.status == 200 else {
            throw ServiceRefusal(reply: reply)
        }
        guard let answer = try? JSONDecoder().decode(VerdictBody.self, from: reply.body) else {
            throw BankApiError(reason: "the bank's answer is not a verdict")
        }
        switch answer.verdict {
        case "accepted":
            return true
        case "rejected":
            return false
        default:
            throw BankApiError(reason: "the bank's answer is not a verdict")
        }
    }

    /// The flow asks about the credential's institution: it must be this key's.
    private func checkInstitution(_ other: String) throws {
        guard other == institutionId else {
            throw ServiceRefusal(
                status: 0,
                code: "other_institution",
                message: "this relay serves \(institutionId) only"
            )
        }
    }

    // MARK: - Bodies (docs/openapi.yaml)

    private struct LoginVerification: Encodable {
        let code: String
    }

    private struct TransactionVerification: Encodable {
        let code: String
        let transaction: TransactionBody
    }

    private struct TransactionBody: Encodable {
        let amountMinor: UInt64
        let currency: String
        let payeeAccount: String
        let payeeName: String
        let memo: String?

        init(_ transaction: Transaction) {
            amountMinor = transaction.amountMinor
            currency = transaction.currency
            payeeAccount = transaction.payeeAccount
            payeeName = transaction.payeeName
            memo = transaction.memo
        }

        enum CodingKeys: String, CodingKey {
            case amountMinor = "amount_minor"
            case currency
            case payeeAccount = "payee_account"
            case payeeName = "payee_name"
            case memo
        }
    }

    private struct VerdictBody: Decodable {
        let verdict: String
    }
}
