import DigitalOTP
import Foundation

/// What the app needs from its bank's servers. The bank app implements it over its own
/// (certificate-pinned) connection; the SDK never talks to the network.
///
/// The demo ships `FakeBankApi` (module DemoFakeBank): a bank inside the app's process,
/// for the demo and the tests only.
public protocol BankApi: AnyObject, Sendable {
    /// Sends the SDK's registration request (`DigitalOtp.beginRegistration`) and returns
    /// the bank's answer, to pass to `DigitalOtp.completeRegistration`. A refusal by the
    /// bank (expired or used code, another phone number) is part of the answer, not an
    /// error: the SDK reports it as `DigitalOtpError.RegistrationRejected`.
    /// Throws only when the bank could not be reached.
    func register(request: Data) async throws -> Data

    /// Submits a login code of the credential `serialNumber` at `institutionId`; true when
    /// the bank accepted it. The first accepted code activates a new credential.
    func verifyLogin(institutionId: String, serialNumber: String, code: String) async throws -> Bool

    /// Submits a transfer with its transaction code; true when the bank accepted the code
    /// for exactly this transfer.
    func verifyTransfer(
        institutionId: String,
        serialNumber: String,
        code: String,
        transaction: Transaction
    ) async throws -> Bool
}

/// What a `BankApi` implementation may throw when the bank cannot be reached or answers
/// nonsense. Any other error is shown with its description.
public struct BankApiError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// What went wrong (shown to the customer).
    public let reason: String

    public init(reason: String) {
        self.reason = reason
    }

    public var description: String { reason }

    public var errorDescription: String? { reason }
}
