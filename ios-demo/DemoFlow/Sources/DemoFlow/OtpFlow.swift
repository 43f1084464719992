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
/// What it keeps in memory: the registration request between the enrollment and password
/// screens, and the code on screen (forgotten when it expires or the screen closes).
/// Passwords are passed to the SDK and not kept. The phone number the customer typed
/// (iOS has no API for it) is kept in `profile` under `OtpFlow.phoneNumberKey`.
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
    /// The credential last loaded or registered.
    private var credential: CredentialInfo?
    /// The code on screen.
    private var shown: ShownCode?

    private struct PendingEnrollment {
        /// `DigitalOtp.beginRegistration`'s request, sent to the bank once the password is chosen.
        let request: Data
        /// The number typed (E.164).
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
    ///   - otp: the SDK over the app's `SecureStore` (the Keychain), with `clock`.
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

        case .confirmTransfer:
            guard case .confirmTransfer(let confirmation) = state else { return state }
            return .passwordEntry(purpose: .transfer(confirmation), notice: nil)

        case .enterPassword(let password):
            guard case .passwordEntry(let purpose, _) = state else { return state }
            return enterPassword(password, for: purpose)

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
            case .confirmTransfer, .passwordEntry, .showingCode:
                return loadCredential(notice: nil)
            default:
                return state
            }

        case .startReRegistration:
            guard case .reRegistrationRequired = state else { return state }
            return .enrollment(phoneNumber: prefilledPhoneNumber(), notice: nil)

        case .forgotPassword:
            switch state {
            case .home, .passwordEntry, .reRegistrationRequired:
                do {
                    try otp.resetAll()
                } catch {
                    return replacingNotice(of: state, with: notice(for: error))
                }
                enrollment = nil
                return loadCredential(notice: .reset)
            default:
                return state
            }
        }
    }

    /// Enrollment: the code is checked (a typo is refused here, without the bank), the
    /// device built from the typed number, and the SDK's registration request made. The
    /// bank is called only once the password is chosen.
    private func submitEnrollment(registrationCode: String, phoneNumber: String) -> FlowState {
        let typed = phoneNumber.trimmingCharacters(in: .whitespacesAndNewlines)
        let device: DeviceInfo
        let request: Data
        do {
            try checkRegistrationCode(code: registrationCode)
            device = try DeviceInfo(phoneNumber: typed, deviceId: config.deviceId)
            request = try otp.beginRegistration(registrationCode: registrationCode, device: device)
        } catch {
            return .enrollment(phoneNumber: typed, notice: notice(for: error))
        }
        let normalized = device.phoneNumberE164()
        do {
            try profile.write(key: OtpFlow.phoneNumberKey, value: Data(normalized.utf8))
        } catch {
            return .enrollment(phoneNumber: typed, notice: notice(for: error))
        }
        enrollment = PendingEnrollment(request: request, phoneNumber: normalized)
        return .passwordSetup(notice: nil)
    }

    /// Password setup: policy and confirmation first (nothing sent), then the bank, then
    /// the SDK stores the credential (pending until the bank accepts a first code).
    private func choosePassword(_ password: String, confirmation: String) async -> FlowState {
        guard let pending = enrollment else {
            return .enrollment(phoneNumber: prefilledPhoneNumber(), notice: nil)
        }
        guard password == confirmation else {
            return .passwordSetup(notice: .passwordsDiffer)
        }
        do {
            try checkPasswordPolicy(password: password)
        } catch {
            return .passwordSetup(notice: notice(for: error))
        }
        let response: Data
        do {
            response = try await bank.register(request: pending.request)
        } catch {
            // Not reached the bank: the same request can be sent again.
            return .passwordSetup(notice: .bankUnavailable(reason: describe(error)))
        }
        do {
            let registered = try otp.completeRegistration(response: response, password: password)
            enrollment = nil
            credential = registered
            return .home(credential: registered, notice: .registered)
        } catch DigitalOtpError.WeakPassword(let reason) {
            // Refused before the response is used: the registration is still in progress.
            return .passwordSetup(notice: .weakPassword(reason: reason))
        } catch {
            // Any other failure ends the SDK's registration: start again from a code.
            enrollment = nil
            return .enrollment(phoneNumber: pending.phoneNumber, notice: notice(for: error))
        }
    }

    /// The password for a login or transfer code. A wrong one keeps the screen with the
    /// attempts left; a locked, moved or expired credential asks for a new registration.
    private func enterPassword(_ password: String, for purpose: PasswordPurpose) -> FlowState {
        let institutionId = credential?.institutionId ?? config.institutionId
        do {
            let device = try currentDevice()
            switch purpose {
            case .login:
                let login = try otp.generate(institutionId: institutionId, password: password, device: device)
                let now = try clock.nowUnixSeconds()
                shown = ShownCode(
                    purpose: .login,
                    serialNumber: login.serialNumber,
                    code: login.code,
                    validUntil: login.validUntil,
                    closesAt: now + config.codeScreenSeconds
                )
                return codeScreen(now: now, notice: nil)
            case .transfer(let confirmation):
                let transfer = try otp.generateForTransaction(
                    institutionId: institutionId,
                    password: password,
                    device: device,
                    transaction: confirmation.transaction
                )
                let now = try clock.nowUnixSeconds()
                // The summary the code is bound to: the SDK's, equal to the one confirmed.
                shown = ShownCode(
                    purpose: .transfer(TransferConfirmation(transaction: confirmation.transaction, summary: transfer.summary)),
                    serialNumber: transfer.serialNumber,
                    code: transfer.code,
                    validUntil: transfer.validUntil,
                    closesAt: now + config.codeScreenSeconds
                )
                return codeScreen(now: now, notice: nil)
            }
        } catch DigitalOtpError.WrongPassword(let attemptsRemaining) {
            return .passwordEntry(purpose: purpose, notice: .wrongPassword(attemptsRemaining: attemptsRemaining))
        } catch DigitalOtpError.Locked {
            return .reRegistrationRequired(.locked)
        } catch DigitalOtpError.DeviceMismatch {
            return .reRegistrationRequired(.deviceMismatch)
        } catch DigitalOtpError.Expired {
            return .reRegistrationRequired(.expired)
        } catch DigitalOtpError.NotRegistered {
            return loadCredential(notice: nil)
        } catch {
            return .passwordEntry(purpose: purpose, notice: notice(for: error))
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
        case .home(let credential, _):
            return .home(credential: credential, notice: notice)
        case .passwordEntry(let purpose, _):
            return .passwordEntry(purpose: purpose, notice: notice)
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
        case .RegistrationRejected(let reason):
            return .registrationRejected(reason: reason)
        case .InvalidResponse(let reason):
            return .invalidBankResponse(reason: reason)
        case .InvalidTransaction(let reason):
            return .invalidTransaction(reason: reason)
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
        }
    }

    private func describe(_ error: Error) -> String {
        if let bankError = error as? BankApiError {
            return bankError.reason
        }
        return error.localizedDescription
    }
}
