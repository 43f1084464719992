import DigitalOTP
import Foundation

/// What the app needs from its bank's servers. The bank app implements it over its own
/// (certificate-pinned) connection; the SDK never talks to the network.
///
/// A registration is two round trips (the request, then the confirmation) and every
/// code one (the unlock: the bank counts each password guess, so the count survives
/// anything done to the phone). The messages are the SDK's bytes, carried as they are.
///
/// The demo ships `FakeBankApi` (module DemoFakeBank): a bank inside the app's process,
/// for the demo and the tests only.
public protocol BankApi: AnyObject, Sendable {
    /// Registration, first round trip: sends the SDK's registration request
    /// (`DigitalOtp.beginRegistration`) and returns the bank's response, to pass to
    /// `DigitalOtp.confirmRegistration`. A refusal (a wrong, expired or used code, another
    /// phone number, an untrusted device key) is part of the answer, not an error: the SDK
    /// reports it as `DigitalOtpError.RegistrationRejected`.
    /// Throws only when the bank could not be reached.
    func register(request: Data) async throws -> Data

    /// Registration, second round trip: sends the confirmation
    /// (`DigitalOtp.confirmRegistration`'s result) and returns the bank's outcome, to pass
    /// to `DigitalOtp.completeRegistration`. Throws only when the bank could not be reached
    /// or its answer was lost; the same confirmation may then be sent again (a bank that
    /// had registered it refuses the repeat: the customer registers again).
    func confirmRegistration(confirmation: Data) async throws -> Data

    /// A code's round trip: sends the SDK's unlock request (`DigitalOtp.beginLoginCode` or
    /// `beginTransactionCode`) and returns the bank's answer, to pass to
    /// `completeLoginCode` or `completeTransactionCode`. The bank counts the password guess
    /// before it answers. Throws only when the bank could not be reached.
    func unlock(request: Data) async throws -> Data

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
