import DigitalOTP
import Foundation

// The screens of the demo app and what moves between them. Plain values: the SwiftUI
// views render a `FlowState` and send `FlowEvent`s; `OtpFlow` does the rest.
//
//   starting ──start──▶ enrollment ──submitEnrollment──▶ passwordSetup ──choosePassword──▶ home
//                          ▲   ▲                              │ beginRegistration, then two     │
//                          │   │                              │ round trips to the bank:        │
//                          │   │                              │ request → response,             │
//                          │   │                              │ confirmation → outcome          │
//                          │   └── (bank refused: back) ──────┤                                 │
//                          │                                  │ (outcome not received:          │
//                          │                                  ▼  bank unreachable)              │
//                          │                finishingRegistration ──retryRegistration──▶ home    │
//                          │                                       requestLoginCode ◀────────────┤
//                          │                                       requestTransfer ──▶ confirmTransfer
//                          │                                       requestPasswordChange ──▶ changePassword
//                          │                                                               │ confirmTransfer
//                          │                                                               ▼
//                          │                      passwordEntry ◀──────────────────────────┘
//                          │                        │ enterPassword: the unlock round trip to the bank
//                          │                        │ (WrongPassword: stays, with the attempts the bank allows)
//                          │                        ▼
//                          │                      showingCode ──tick──▶ code expired ──tick──▶ home (screen closed)
//                          │                        │ submitCode ──▶ home (accepted / rejected; first one activates)
//                          │
//   reRegistrationRequired (Locked, DeviceMismatch, Expired, RegistrationIncomplete) ──startReRegistration──┘

/// Why the credential cannot be used any more and the customer must register again.
public enum ReRegistrationReason: Equatable, Sendable {
    /// Five wrong passwords, counted by the bank: the SDK destroyed the seed and the
    /// device key.
    case locked
    /// Registered with another phone number or on another device (for example, the app
    /// was deleted and installed again: the Keychain kept the credential, but
    /// `identifierForVendor` changed).
    case deviceMismatch
    /// Past its validity.
    case expired
    /// The registration was interrupted after the credential was stored and before the
    /// bank's outcome reached the app, and the app was closed since: the confirmation to
    /// send again is gone, so it cannot be finished any more.
    case registrationIncomplete
}

/// A message shown on the current screen: the outcome of the last event.
public enum FlowNotice: Equatable, Sendable {
    /// The registration code is mistyped (format or check digit).
    case invalidRegistrationCode(reason: String)
    /// The phone number (or the device id) is refused.
    case invalidPhoneNumber(reason: String)
    /// The password breaks the policy (6 digits, not common, repeated or sequential).
    case weakPassword(reason: String)
    /// The password and its confirmation differ.
    case passwordsDiffer
    /// A wrong password; after `attemptsRemaining` more the credential is locked (the bank
    /// counts them).
    case wrongPassword(attemptsRemaining: UInt32)
    /// The bank refused the registration: a wrong, expired or used code (the bank answers
    /// all of these alike), another phone number, a device key it does not trust.
    case registrationRejected(reason: String)
    /// The bank's answer does not fit this registration.
    case invalidBankResponse(reason: String)
    /// The bank could not be reached; try again.
    case bankUnavailable(reason: String)
    /// The phone's clock differed from the bank's; the SDK learned the difference: try again.
    case clockOutOfSync
    /// The bank says this OTP cannot be used (reported lost or stolen, cancelled): contact
    /// the bank.
    case notUsable
    /// A transfer field is invalid.
    case invalidTransaction(reason: String)
    /// The device key could not be made or used (the Secure Enclave refused, the
    /// biometric sheet was cancelled): nothing was sent to the bank.
    case deviceKeyFailed(reason: String)
    /// Registered: pending until the bank accepts a first code.
    case registered
    /// The app password was changed.
    case passwordChanged
    /// The bank accepted the first code: the credential is active.
    case activated
    /// The bank accepted the login code.
    case loginAccepted
    /// The bank accepted the transfer's code.
    case transferAccepted
    /// The bank refused the code.
    case codeRejected
    /// The code's validity ended; enter the password again for a new one.
    case codeExpired
    /// The code screen closed itself.
    case screenClosed
    /// Every credential was deleted (forgotten password).
    case reset
    /// Storage, stored data or an internal failure; the reason says which.
    case failure(reason: String)

    /// The text to show (English; never a code, password, phone number or device id).
    public var message: String {
        switch self {
        case .invalidRegistrationCode:
            return "This registration code is not valid. Check the 12 digits and type them again."
        case .invalidPhoneNumber:
            return "This phone number is not valid."
        case .weakPassword(let reason):
            return "Choose another password: \(reason)."
        case .passwordsDiffer:
            return "The two passwords differ."
        case .wrongPassword(let attemptsRemaining):
            return attemptsRemaining == 1
                ? "Wrong password. 1 attempt left before the OTP is locked."
                : "Wrong password. \(attemptsRemaining) attempts left before the OTP is locked."
        case .registrationRejected(let reason):
            return "The bank refused the registration (\(reason)). Ask the bank for a new code."
        case .invalidBankResponse:
            return "The bank's answer was not valid. Register again."
        case .bankUnavailable:
            return "The bank cannot be reached. Try again."
        case .clockOutOfSync:
            return "The phone's clock differs from the bank's. Try again."
        case .notUsable:
            return "The bank says this OTP cannot be used. Contact the bank."
        case .deviceKeyFailed(let reason):
            return "The device key did not work (\(reason)). Nothing was sent to the bank; try again."
        case .invalidTransaction(let reason):
            return "This transfer is not valid: \(reason)."
        case .registered:
            return "Registered. Use a first code with the bank to activate your OTP."
        case .passwordChanged:
            return "Your OTP password was changed."
        case .activated:
            return "Your OTP is active."
        case .loginAccepted:
            return "The bank accepted the code."
        case .transferAccepted:
            return "The bank accepted the transfer."
        case .codeRejected:
            return "The bank refused the code."
        case .codeExpired:
            return "The code has expired. Enter your password for a new one."
        case .screenClosed:
            return "The code screen closed itself."
        case .reset:
            return "Every OTP was deleted. Register again."
        case .failure(let reason):
            return "Something went wrong: \(reason)."
        }
    }
}

/// A transfer the customer is asked to confirm, with the SDK's canonical summary.
public struct TransferConfirmation: Equatable, Sendable {
    /// The transfer the code will be bound to.
    public let transaction: Transaction
    /// `transactionSummary(transaction:)`, e.g. `Transfer KRW 1,500,000\nPayee: 홍길동\nAccount: 110123456789`.
    public let summary: String

    public init(transaction: Transaction, summary: String) {
        self.transaction = transaction
        self.summary = summary
    }

    /// The amount with its currency, e.g. `KRW 1,500,000` or `USD 12.50`.
    public var amountText: String {
        formatAmount(minorUnits: transaction.amountMinor, currency: transaction.currency)
    }

    /// The payee's name.
    public var payeeName: String { transaction.payeeName }

    /// The payee's account number as typed.
    public var payeeAccount: String { transaction.payeeAccount }
}

/// What a password unlocks.
public enum PasswordPurpose: Equatable, Sendable {
    /// A login code.
    case login
    /// A code for the confirmed transfer.
    case transfer(TransferConfirmation)
}

/// The code screen, as of the last `tick`.
public struct CodeScreen: Equatable, Sendable {
    /// A login code, or a transfer's code (with what was confirmed).
    public let purpose: PasswordPurpose
    /// The credential's serial number.
    public let serialNumber: String
    /// The code; nil once its validity ended.
    public let code: String?
    /// Seconds the code stays valid (0 once expired).
    public let codeSecondsRemaining: UInt64
    /// Seconds before the screen closes itself.
    public let screenSecondsRemaining: UInt64
    /// The outcome of the last event (code expired, bank unreachable…).
    public let notice: FlowNotice?
}

/// The screen to show.
public enum FlowState: Equatable, Sendable {
    /// Before `start`.
    case starting
    /// Enter the registration code the bank issued, and the phone number (prefilled when known).
    case enrollment(phoneNumber: String, notice: FlowNotice?)
    /// Choose the app password (twice); then the app registers with the bank.
    case passwordSetup(notice: FlowNotice?)
    /// The bank has the registration's confirmation, or may have: its outcome did not
    /// reach the app. Send the confirmation again (`retryRegistration`).
    case finishingRegistration(notice: FlowNotice?)
    /// The credential and what can be done with it.
    case home(credential: CredentialInfo, notice: FlowNotice?)
    /// Amount and payee of a transfer, to confirm before its code is made.
    case confirmTransfer(TransferConfirmation)
    /// Enter the app password.
    case passwordEntry(purpose: PasswordPurpose, notice: FlowNotice?)
    /// Change the app password: the current one and the new one (twice).
    case changePassword(notice: FlowNotice?)
    /// A code with its countdown.
    case showingCode(CodeScreen)
    /// The credential is unusable: register again.
    case reRegistrationRequired(ReRegistrationReason)
}

/// What the customer (or the countdown timer) did.
public enum FlowEvent: Sendable {
    /// Loads the credential (app launch).
    case start
    /// The registration code and phone number typed on the enrollment screen.
    case submitEnrollment(registrationCode: String, phoneNumber: String)
    /// The new password and its confirmation: the registration with the bank starts.
    case choosePassword(password: String, confirmation: String)
    /// Back from password setup to enrollment.
    case backToEnrollment
    /// Sends the registration's confirmation to the bank again (`finishingRegistration`).
    case retryRegistration
    /// Home: asks for a login code.
    case requestLoginCode
    /// Home: a transfer to confirm.
    case requestTransfer(Transaction)
    /// Home: change the app password.
    case requestPasswordChange
    /// The current password, the new one and its confirmation (one round trip to the
    /// bank, which counts a wrong current password like any other).
    case changePassword(current: String, new: String, confirmation: String)
    /// The customer confirmed the transfer shown.
    case confirmTransfer
    /// The app password, for the pending login or transfer code.
    case enterPassword(String)
    /// Sends the code shown to the bank (the demo's stand-in for the bank's login page or
    /// transfer request).
    case submitCode
    /// One second passed (the code screen's countdown).
    case tick
    /// Closes the current screen (confirmation, password, password change, code) and goes home.
    case close
    /// From `reRegistrationRequired`: back to enrollment.
    case startReRegistration
    /// The password is forgotten: delete every credential, then register again.
    case forgotPassword
}

/// `minorUnits` of `currency` as text: `KRW 1,500,000`, `USD 12.50`.
public func formatAmount(minorUnits: UInt64, currency: String) -> String {
    let zeroDecimalCurrencies: Set<String> = ["KRW", "JPY", "VND", "CLP", "ISK", "UGX", "XAF", "XOF"]
    let decimals = zeroDecimalCurrencies.contains(currency.uppercased()) ? 0 : 2
    var divisor: UInt64 = 1
    for _ in 0..<decimals {
        divisor *= 10
    }
    let whole = minorUnits / divisor
    let fraction = minorUnits % divisor
    var groups: [String] = []
    var rest = String(whole)
    while rest.count > 3 {
        groups.insert(String(rest.suffix(3)), at: 0)
        rest = String(rest.dropLast(3))
    }
    groups.insert(rest, at: 0)
    var text = groups.joined(separator: ",")
    if decimals > 0 {
        let padded = String(fraction)
        text += "." + String(repeating: "0", count: decimals - padded.count) + padded
    }
    return currency + " " + text
}
