import DigitalOTP
import Foundation

/// What the flow is set up with.
public struct FlowConfig: Sendable {
    /// The bank's institution id (the one credential this bank app uses).
    public var institutionId: String
    /// The device id the credential is bound to: `UIDevice.current.identifierForVendor`.
    public var deviceId: String
    /// How long the code screen stays open before it closes itself.
    public var codeScreenSeconds: UInt64

    public init(institutionId: String, deviceId: String, codeScreenSeconds: UInt64 = 60) {
        self.institutionId = institutionId
        self.deviceId = deviceId
        self.codeScreenSeconds = codeScreenSeconds
    }
}

/// The demo app's screens as a state machine over the SDK (`DigitalOtp`) and the bank
/// (`BankApi`): `send` an event, get the next `FlowState`.
///
/// An actor: events are handled one at a time, off the main thread (the SDK calls block
/// for a fraction of a second: each password check derives a key), and a `@MainActor`
/// view model can hold it and `await send(_:)` under Swift 6's complete concurrency
/// checking. The app's model still waits for each `send` before the next, so that a tap
/// during a password check is dropped rather than queued.
///
/// Every step that needs the bank is sans-IO in the SDK and carried here: a registration
/// is `beginRegistration` → `BankApi.register` → `confirmRegistration` →
/// `BankApi.confirmRegistration` → `completeRegistration`; every code (and a password
/// change) is `begin…` → `BankApi.unlock` → `complete…`, the bank counting each password
/// guess before it answers. The attempts left that the screens show are the bank's
/// (`WrongPassword(attemptsRemaining:)` from the `complete…` step).
///
/// What it keeps in memory: the registration code and phone number between the
/// enrollment and password screens, the registration's confirmation while its outcome
/// has not reached the app, and the code on screen (forgotten when it expires or the
/// screen closes). Passwords are passed to the SDK and not kept. The phone number the
/// customer typed (iOS has no API for it) is kept in `profile` under
/// `OtpFlow.phoneNumberKey`.
public actor OtpFlow {
    /// The key of the phone number in the `profile` store.
    public static let phoneNumberKey = "demo-app.phone-number"

    /// The current screen.
    public private(set) var state: FlowState = .starting

    private let otp: DigitalOtp
    private let bank: BankApi
    private let clock: DigitalOTP.Clock
    private let profile: DigitalOTP.SecureStore
    private let config: FlowConfig

    /// Between the enrollment and password screens.
    private var enrollment: PendingEnrollment?
    /// The registration's confirmation, while its outcome has not reached the app.
    private var confirmation: PendingConfirmation?
    /// The credential last loaded or registered.
    private var credential: CredentialInfo?
    /// The code on screen.
    private var shown: ShownCode?

    private struct PendingEnrollment {
        /// The registration code typed (its check digit checked), for `beginRegistration`
        /// once the password is chosen.
        let registrationCode: String
        /// The number typed (E.164).
        let phoneNumber: String
    }

    private struct PendingConfirmation {
        /// `DigitalOtp.confirmRegistration`'s confirmation, for the bank.
        let message: Data
        /// The number registered (E.164).
        let phoneNumber: String
    }

    private struct ShownCode {
        let purpose: PasswordPurpose
        let serialNumber: String
        /// Nil once expired.
        var code: String?
        /// End of the code's validity (device clock).
        let validUntil: UInt64
        /// When the screen closes itself.
        let closesAt: UInt64
    }

    /// - Parameters:
    ///   - otp: the SDK over the app's `SecureStore` (the Keychain) and `DeviceKeys` (the
    ///     Secure Enclave), with `clock`.
    ///   - bank: the bank's servers.
    ///   - clock: the clock of the countdown; the one `otp` uses.
    ///   - profile: where the app keeps the phone number the customer typed.
    ///   - config: the institution and the device id.
    public init(otp: DigitalOtp, bank: BankApi, clock: DigitalOTP.Clock, profile: DigitalOTP.SecureStore, config: FlowConfig) {
        self.otp = otp
        self.bank = bank
        self.clock = clock
        self.profile = profile
        self.config = config
    }

    /// Handles `event` and returns the new state (also in `state`). An event that does not
    /// apply to the current screen leaves it unchanged.
    @discardableResult
    public func send(_ event: FlowEvent) async -> FlowState {
        let next = await handle(event)
        state = next
        return next
    }

    // MARK: - Transitions

    private func handle(_ event: FlowEvent) async -> FlowState {
        switch event {
        case .start:
            enrollment = nil
            confirmation = nil
            return loadCredential(notice: nil)

        case .submitEnrollment(let registrationCode, let phoneNumber):
            guard case .enrollment = state else { return state }
            return submitEnrollment(registrationCode: registrationCode, phoneNumber: phoneNumber)

        case .choosePassword(let password, let confirmation):
            guard case .passwordSetup = state else { return state }
            return await choosePassword(password, confirmation: confirmation)

        case .backToEnrollment:
            guard case .passwordSetup = state else { return state }
            enrollment = nil
            return .enrollment(phoneNumber: prefilledPhoneNumber(), notice: nil)

        case .retryRegistration:
            guard case .finishingRegistration = state else { return state }
            return await finishRegistration()

        case .requestLoginCode:
            guard case .home = state else { return state }
            return .passwordEntry(purpose: .login, notice: nil)

        case .requestTransfer(let transaction):
            guard case .home(let credential, _) = state else { return state }
            do {
                let summary = try transactionSummary(transaction: transaction)
                return .confirmTransfer(TransferConfirmation(transaction: transaction, summary: summary))
            } catch {
                return .home(credential: credential, notice: notice(for: error))
            }

        case .requestPasswordChange:
            guard case .home = state else { return state }
            return .changePassword(notice: nil)

        case .changePassword(let current, let new, let confirmation):
            guard case .changePassword = state else { return state }
            return await changePassword(from: current, to: new, confirmation: confirmation)

        case .confirmTransfer:
            guard case .confirmTransfer(let confirmation) = state else { return state }
            return .passwordEntry(purpose: .transfer(confirmation), notice: nil)

        case .enterPassword(let password):
            guard case .passwordEntry(let purpose, _) = state else { return state }
            return await enterPassword(password, for: purpose)

        case .submitCode:
            guard case .showingCode = state else { return state }
            return await submitCode()

        case .tick:
            guard case .showingCode(let screen) = state else { return state }
            do {
                let now = try clock.nowUnixSeconds()
                return codeScreen(now: now, notice: screen.notice)
            } catch {
                return loadCredential(notice: notice(for: error))
            }

        case .close:
            switch state {
            case .confirmTransfer, .passwordEntry, .changePassword, .showingCode:
                return loadCredential(notice: nil)
            default:
                return state
            }

        case .startReRegistration:
            guard case .reRegistrationRequired = state else { return state }
            return .enrollment(phoneNumber: prefilledPhoneNumber(), notice: nil)

        case .forgotPassword:
            switch state {
            case .home, .passwordEntry, .changePassword, .finishingRegistration, .reRegistrationRequired:
                do {
                    try otp.resetAll()
                } catch {
                    return replacingNotice(of: state, with: notice(for: error))
                }
                enrollment = nil
                confirmation = nil
                return loadCredential(notice: .reset)
            default:
                return state
            }
        }
    }

    /// Enrollment: the code's format and check digit are checked (a typo is refused here,
    /// without the bank) and the device built from the typed number, which is kept. The
    /// bank is called only once the password is chosen: the password is part of the
    /// registration request.
    private func submitEnrollment(registrationCode: String, phoneNumber: String) -> FlowState {
        let typed = phoneNumber.trimmingCharacters(in: .whitespacesAndNewlines)
        let device: DeviceInfo
        do {
            try checkRegistrationCode(code: registrationCode)
            device = try DeviceInfo(phoneNumber: typed, deviceId: config.deviceId)
        } catch {
            return .enrollment(phoneNumber: typed, notice: notice(for: error))
        }
        let normalized = device.phoneNumberE164()
        do {
            try profile.write(key: OtpFlow.phoneNumberKey, value: Data(normalized.utf8))
        } catch {
            return .enrollment(phoneNumber: typed, notice: notice(for: error))
        }
        enrollment = PendingEnrollment(registrationCode: registrationCode, phoneNumber: normalized)
        return .passwordSetup(notice: nil)
    }

    /// Password setup: the confirmation and the policy first (nothing made, nothing sent),
    /// then the registration: the request (with a new device key and its evidence) to the
    /// bank, its response checked (a wrong, expired or used code fails here) and the
    /// credential stored, the confirmation to the bank, its outcome.
    private func choosePassword(_ password: String, confirmation typed: String) async -> FlowState {
        guard let pending = enrollment else {
            return .enrollment(phoneNumber: prefilledPhoneNumber(), notice: nil)
        }
        guard password == typed else {
            return .passwordSetup(notice: .passwordsDiffer)
        }
        do {
            try checkPasswordPolicy(password: password)
        } catch {
            return .passwordSetup(notice: notice(for: error))
        }
        let request: Data
        do {
            let device = try DeviceInfo(phoneNumber: pending.phoneNumber, deviceId: config.deviceId)
            request = try otp.beginRegistration(
                institutionId: config.institutionId,
                registrationCode: pending.registrationCode,
                device: device,
                password: password
            )
        } catch {
            // Nothing was sent: the same code can be used with this or another password.
            return .passwordSetup(notice: notice(for: error))
        }
        let response: Data
        do {
            response = try await bank.register(request: request)
        } catch {
            // Not reached the bank: the next choosePassword begins again.
            return .passwordSetup(notice: .bankUnavailable(reason: describe(error)))
        }
        let message: Data
        do {
            message = try otp.confirmRegistration(response: response)
        } catch {
            // A wrong, expired or used code, a device key the bank does not trust, an
            // altered response: the attempt is over; start again from a code.
            enrollment = nil
            return .enrollment(phoneNumber: pending.phoneNumber, notice: notice(for: error))
        }
        enrollment = nil
        confirmation = PendingConfirmation(message: message, phoneNumber: pending.phoneNumber)
        return await finishRegistration()
    }

    /// Sends the registration's confirmation and completes the registration with the
    /// bank's outcome. Unreachable: the confirmation is kept to send again.
    private func finishRegistration() async -> FlowState {
        guard let pending = confirmation else {
            return loadCredential(notice: nil)
        }
        let outcome: Data
        do {
            outcome = try await bank.confirmRegistration(confirmation: pending.message)
        } catch {
            return .finishingRegistration(notice: .bankUnavailable(reason: describe(error)))
        }
        confirmation = nil
        do {
            let registered = try otp.completeRegistration(institutionId: config.institutionId, outcome: outcome)
            credential = registered
            return .home(credential: registered, notice: .registered)
        } catch DigitalOtpError.InvalidResponse(let reason) {
            // An answer that is not an outcome (altered on the way): the credential still
            // waits for the genuine one; the same confirmation can be sent again.
            confirmation = pending
            return .finishingRegistration(notice: .invalidBankResponse(reason: reason))
        } catch {
            // Refused by the bank (the SDK deleted the credential and its key), or the
            // store failed.
            return .enrollment(phoneNumber: pending.phoneNumber, notice: notice(for: error))
        }
    }

    /// The password for a login or transfer code: the unlock request to the bank (which
    /// counts the guess), then the code from its answer. A wrong password keeps the screen
    /// with the attempts the bank still allows; a locked, moved or expired credential asks
    /// for a new registration.
    private func enterPassword(_ password: String, for purpose: PasswordPurpose) async -> FlowState {
        let institutionId = credential?.institutionId ?? config.institutionId
        let request: Data
        do {
            let device = try currentDevice()
            switch purpose {
            case .login:
                request = try otp.beginLoginCode(institutionId: institutionId, password: password, device: device)
            case .transfer(let confirmation):
                request = try otp.beginTransactionCode(
                    institutionId: institutionId,
                    password: password,
                    device: device,
                    transaction: confirmation.transaction
                )
            }
        } catch {
            return unlockFailed(error, stay: .passwordEntry(purpose: purpose, notice: nil))
        }
        let answer: Data
        do {
            answer = try await bank.unlock(request: request)
        } catch {
            // Not sent: no guess was counted.
            return .passwordEntry(purpose: purpose, notice: .bankUnavailable(reason: describe(error)))
        }
        do {
            let now: UInt64
            switch purpose {
            case .login:
                let login = try otp.completeLoginCode(answer: answer)
                now = try clock.nowUnixSeconds()
                shown = ShownCode(
                    purpose: .login,
                    serialNumber: login.serialNumber,
                    code: login.code,
                    validUntil: login.validUntil,
                    closesAt: now + config.codeScreenSeconds
                )
            case .transfer(let confirmation):
                let transfer = try otp.completeTransactionCode(answer: answer)
                now = try clock.nowUnixSeconds()
                // The summary the code is bound to: the SDK's, equal to the one confirmed.
                shown = ShownCode(
                    purpose: .transfer(TransferConfirmation(transaction: confirmation.transaction, summary: transfer.summary)),
                    serialNumber: transfer.serialNumber,
                    code: transfer.code,
                    validUntil: transfer.validUntil,
                    closesAt: now + config.codeScreenSeconds
                )
            }
            return codeScreen(now: now, notice: nil)
        } catch {
            return unlockFailed(error, stay: .passwordEntry(purpose: purpose, notice: nil))
        }
    }

    /// A password change: the new one twice and the policy first (nothing sent), then the
    /// request to the bank (which evaluates both passwords, counting a wrong current one
    /// as two guesses) and the seed re-sealed under the new password. With one attempt
    /// left the bank evaluates the current password alone (`ChangePasswordAgain`: it was
    /// right, and the attempts are back to five): the change is then made once more.
    private func changePassword(from current: String, to new: String, confirmation typed: String) async -> FlowState {
        guard new == typed else {
            return .changePassword(notice: .passwordsDiffer)
        }
        do {
            try checkPasswordPolicy(password: new)
        } catch {
            return .changePassword(notice: notice(for: error))
        }
        let institutionId = credential?.institutionId ?? config.institutionId
        for round in 1...2 {
            let request: Data
            do {
                request = try otp.beginChangePassword(
                    institutionId: institutionId, oldPassword: current, newPassword: new, device: try currentDevice()
                )
            } catch {
                return unlockFailed(error, stay: .changePassword(notice: nil))
            }
            let answer: Data
            do {
                answer = try await bank.unlock(request: request)
            } catch {
                return .changePassword(notice: .bankUnavailable(reason: describe(error)))
            }
            do {
                try otp.completeChangePassword(answer: answer)
                return loadCredential(notice: .passwordChanged)
            } catch DigitalOtpError.ChangePasswordAgain where round == 1 {
                continue
            } catch {
                return unlockFailed(error, stay: .changePassword(notice: nil))
            }
        }
        return .changePassword(notice: .failure(reason: "the bank did not evaluate the new password; try again"))
    }

    /// Where a failed unlock (a code or a password change) leads: `stay` (the same
    /// screen) with the notice, or the screen its error calls for.
    private func unlockFailed(_ error: Error, stay: FlowState) -> FlowState {
        switch error {
        case DigitalOtpError.Locked:
            return .reRegistrationRequired(.locked)
        case DigitalOtpError.DeviceMismatch:
            return .reRegistrationRequired(.deviceMismatch)
        case DigitalOtpError.Expired:
            return .reRegistrationRequired(.expired)
        case DigitalOtpError.RegistrationIncomplete:
            return .reRegistrationRequired(.registrationIncomplete)
        case DigitalOtpError.NotRegistered:
            return loadCredential(notice: nil)
        case DigitalOtpError.NotUsable:
            return loadCredential(notice: .notUsable)
        default:
            return replacingNotice(of: stay, with: notice(for: error))
        }
    }

    /// Sends the code on screen to the bank. The first accepted code activates a pending
    /// credential (`confirmActivation`). A code is sent once: the screen closes.
    private func submitCode() async -> FlowState {
        guard let current = shown, let code = current.code else { return state }
        let institutionId = credential?.institutionId ?? config.institutionId
        let accepted: Bool
        do {
            switch current.purpose {
            case .login:
                accepted = try await bank.verifyLogin(institutionId: institutionId, serialNumber: current.serialNumber, code: code)
            case .transfer(let confirmation):
                accepted = try await bank.verifyTransfer(
                    institutionId: institutionId,
                    serialNumber: current.serialNumber,
                    code: code,
                    transaction: confirmation.transaction
                )
            }
        } catch {
            // Not sent: the code stays on screen to try again while it is valid.
            let reason = describe(error)
            do {
                let now = try clock.nowUnixSeconds()
                return codeScreen(now: now, notice: .bankUnavailable(reason: reason))
            } catch {
                return loadCredential(notice: notice(for: error))
            }
        }
        shown = nil
        guard accepted else {
            return loadCredential(notice: .codeRejected)
        }
        var outcome: FlowNotice
        if case .login = current.purpose {
            outcome = .loginAccepted
        } else {
            outcome = .transferAccepted
        }
        if credential?.status == .pending {
            do {
                try otp.confirmActivation(institutionId: institutionId)
                outcome = .activated
            } catch {
                outcome = notice(for: error)
            }
        }
        return loadCredential(notice: outcome)
    }

    // MARK: - Screens

    /// The code screen at `now`: forgets the code once expired, closes at `closesAt`.
    private func codeScreen(now: UInt64, notice: FlowNotice?) -> FlowState {
        guard var current = shown else {
            return loadCredential(notice: nil)
        }
        if now >= current.closesAt {
            return loadCredential(notice: .screenClosed)
        }
        if now >= current.validUntil {
            current.code = nil
            shown = current
        }
        let expired = current.code == nil
        return .showingCode(
            CodeScreen(
                purpose: current.purpose,
                serialNumber: current.serialNumber,
                code: current.code,
                codeSecondsRemaining: expired ? 0 : current.validUntil - now,
                screenSecondsRemaining: current.closesAt - now,
                notice: expired ? .codeExpired : notice
            )
        )
    }

    /// Home for this bank's credential, or where its status leads: enrollment when there
    /// is none (or no phone number yet), re-registration when it is unusable.
    private func loadCredential(notice: FlowNotice?) -> FlowState {
        shown = nil
        let phoneNumber: String
        do {
            guard let stored = try storedPhoneNumber() else {
                credential = nil
                return .enrollment(phoneNumber: "", notice: notice)
            }
            phoneNumber = stored
        } catch {
            return .enrollment(phoneNumber: "", notice: self.notice(for: error))
        }
        do {
            let device = try DeviceInfo(phoneNumber: phoneNumber, deviceId: config.deviceId)
            let found = try otp.credentials(device: device).first { $0.institutionId == config.institutionId }
            credential = found
            guard let found = found else {
                return .enrollment(phoneNumber: phoneNumber, notice: notice)
            }
            switch found.status {
            case .pending, .active:
                return .home(credential: found, notice: notice)
            case .registering:
                // Its outcome has not reached the app: send the confirmation again if it
                // is still here, else the registration cannot be finished.
                guard confirmation != nil else {
                    return .reRegistrationRequired(.registrationIncomplete)
                }
                return .finishingRegistration(notice: notice)
            case .locked:
                return .reRegistrationRequired(.locked)
            case .deviceMismatch:
                return .reRegistrationRequired(.deviceMismatch)
            case .expired:
                return .reRegistrationRequired(.expired)
            }
        } catch {
            return .enrollment(phoneNumber: phoneNumber, notice: self.notice(for: error))
        }
    }

    private func replacingNotice(of state: FlowState, with notice: FlowNotice) -> FlowState {
        switch state {
        case .enrollment(let phoneNumber, _):
            return .enrollment(phoneNumber: phoneNumber, notice: notice)
        case .passwordSetup:
            return .passwordSetup(notice: notice)
        case .finishingRegistration:
            return .finishingRegistration(notice: notice)
        case .home(let credential, _):
            return .home(credential: credential, notice: notice)
        case .passwordEntry(let purpose, _):
            return .passwordEntry(purpose: purpose, notice: notice)
        case .changePassword:
            return .changePassword(notice: notice)
        default:
            return state
        }
    }

    // MARK: - Helpers

    private func storedPhoneNumber() throws -> String? {
        guard let data = try profile.read(key: OtpFlow.phoneNumberKey) else { return nil }
        return String(data: data, encoding: .utf8)
    }

    private func prefilledPhoneNumber() -> String {
        (try? storedPhoneNumber()) ?? ""
    }

    private func currentDevice() throws -> DeviceInfo {
        guard let phoneNumber = try storedPhoneNumber() else {
            throw DigitalOtpError.NotRegistered
        }
        return try DeviceInfo(phoneNumber: phoneNumber, deviceId: config.deviceId)
    }

    /// The notice for a failed SDK, bank or store call. Only the SDK's reasons are shown:
    /// they never contain a code, password, phone number or device id.
    private func notice(for error: Error) -> FlowNotice {
        if let bankError = error as? BankApiError {
            return .bankUnavailable(reason: bankError.reason)
        }
        if let hostError = error as? HostError {
            switch hostError {
            case .Failed(let reason), .Unexpected(let reason):
                return .failure(reason: reason)
            }
        }
        guard let otpError = error as? DigitalOtpError else {
            return .failure(reason: describe(error))
        }
        switch otpError {
        case .InvalidRegistrationCode(let reason):
            return .invalidRegistrationCode(reason: reason)
        case .InvalidDevice(let reason):
            return .invalidPhoneNumber(reason: reason)
        case .WeakPassword(let reason):
            return .weakPassword(reason: reason)
        case .WrongPassword(let attemptsRemaining):
            return .wrongPassword(attemptsRemaining: attemptsRemaining)
        case .MalformedPassword:
            return .failure(reason: "the app password is 6 digits; nothing was sent, enter it again")
        case .RegistrationRejected(let reason):
            return .registrationRejected(reason: reason)
        case .InvalidResponse(let reason):
            return .invalidBankResponse(reason: reason)
        case .InvalidTransaction(let reason):
            return .invalidTransaction(reason: reason)
        case .KeyStoreFailed(let reason):
            return .deviceKeyFailed(reason: reason)
        case .ClockOutOfSync:
            return .clockOutOfSync
        case .NotUsable:
            return .notUsable
        case .StorageFailed(let reason), .CorruptedData(let reason), .Internal(let reason):
            return .failure(reason: reason)
        case .Locked:
            return .failure(reason: "the OTP is locked; register again")
        case .DeviceMismatch:
            return .failure(reason: "the OTP was registered on another phone number or device; register again")
        case .Expired:
            return .failure(reason: "the OTP has expired; register again")
        case .NotRegistered:
            return .failure(reason: "no OTP is registered")
        case .NoRegistrationInProgress:
            return .failure(reason: "no registration is in progress; enter the code again")
        case .RegistrationIncomplete:
            return .failure(reason: "the registration is not finished; register again")
        case .NoCodeInProgress:
            return .failure(reason: "no code is being made; enter the password again")
        case .ChangePasswordAgain:
            return .failure(reason: "the bank confirmed the current password; change it again")
        }
    }

    private func describe(_ error: Error) -> String {
        if let bankError = error as? BankApiError {
            return bankError.reason
        }
        return error.localizedDescription
    }
}
