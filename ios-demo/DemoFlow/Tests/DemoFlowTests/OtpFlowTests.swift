import DemoFakeBank
import DemoFlow
import DemoKeychain
import DigitalOTP
import Foundation
import XCTest

/// The demo app's screens, driven event by event as the SwiftUI views do, against the
/// real SDK (a Swift in-memory `SecureStore`, the demo's `HardwareDeviceKeys` over a
/// stand-in for the Secure Enclave, a test `Clock`) and the real issuer as the bank
/// (`FakeBankApi` over `Issuer.inMemory`). Mirrors the Android demo's JVM flow test; the
/// new flow's round trips (the bank's count of wrong passwords, a backup restored, the
/// confirmation sent again, a password change, attestation) are in BankRoundTripTests.
///
/// Every registration and every unlock costs one PBKDF2 of 1,000,000 iterations (~0.2 s):
/// each test keeps its count of registrations and codes low.
final class OtpFlowTests: XCTestCase {
    private var w: World!

    override func setUpWithError() throws {
        try super.setUpWithError()
        w = try World()
    }

    override func tearDown() {
        w = nil
        super.tearDown()
    }

    // MARK: - Enrollment and password setup

    func testAFreshAppStartsOnEnrollment() async throws {
        let state = await w.send(.start)
        XCTAssertEqual(state, .enrollment(phoneNumber: "", notice: nil))
    }

    func testEnrollmentAndPasswordSetupRefuseBadInputWithoutCallingTheBank() async throws {
        await w.send(.start)
        let code = try w.fakeBank.issueRegistrationCode(phoneNumber: Fixture.phone)
        XCTAssertTrue(matchesWhole(code, "[0-9]{4}-[0-9]{4}-[0-9]{4}"), "displayed as 1234-5678-9012")

        // A typo is caught by the check digit, on the phone.
        let typo = await w.send(.submitEnrollment(registrationCode: withTypo(code), phoneNumber: Fixture.phone))
        XCTAssertEqual(typo.screen, .enrollment)
        XCTAssertEqual(typo.notice?.kind, .invalidRegistrationCode)
        let short = await w.send(.submitEnrollment(registrationCode: "1234-5678", phoneNumber: Fixture.phone))
        XCTAssertEqual(short.notice?.kind, .invalidRegistrationCode)
        let badNumber = await w.send(.submitEnrollment(registrationCode: code, phoneNumber: "12"))
        XCTAssertEqual(badNumber.screen, .enrollment)
        XCTAssertEqual(badNumber.notice?.kind, .invalidPhoneNumber)
        XCTAssertNil(try w.profile.read(key: OtpFlow.phoneNumberKey))

        // Password setup: the confirmation and the policy are checked first.
        let setup = await w.send(.submitEnrollment(registrationCode: code, phoneNumber: Fixture.phone))
        XCTAssertEqual(setup, .passwordSetup(notice: nil))
        XCTAssertEqual(try w.profile.read(key: OtpFlow.phoneNumberKey), Data(Fixture.phoneE164.utf8), "kept in E.164")
        let differ = await w.send(.choosePassword(password: Fixture.password, confirmation: Fixture.otherPassword))
        XCTAssertEqual(differ, .passwordSetup(notice: .passwordsDiffer))
        for weak in ["111111", "123456", "12345", "abcdef"] {
            let state = await w.send(.choosePassword(password: weak, confirmation: weak))
            XCTAssertEqual(state.screen, .passwordSetup, weak)
            XCTAssertEqual(state.notice?.kind, .weakPassword, weak)
        }
        XCTAssertEqual(w.bank.registerCalls, 0, "nothing was sent to the bank")
        XCTAssertEqual(w.store.keys(), [], "nothing was stored")
        XCTAssertEqual(w.enclave.keysCreated, 0, "no device key was made")

        // Back to enrollment, the number prefilled.
        let back = await w.send(.backToEnrollment)
        XCTAssertEqual(back, .enrollment(phoneNumber: Fixture.phoneE164, notice: nil))
    }

    func testTheBankRefusesACodeIssuedForAnotherNumber() async throws {
        await w.send(.start)
        let code = try w.fakeBank.issueRegistrationCode(phoneNumber: Fixture.phone)
        let setup = await w.send(.submitEnrollment(registrationCode: code, phoneNumber: Fixture.otherPhone))
        XCTAssertEqual(setup, .passwordSetup(notice: nil))
        let refused = await w.send(.choosePassword(password: Fixture.password, confirmation: Fixture.password))
        XCTAssertEqual(refused.screen, .enrollment)
        XCTAssertEqual(refused.notice?.kind, .registrationRejected)
        if case .enrollment(let phoneNumber, _) = refused {
            XCTAssertEqual(phoneNumber, Fixture.otherPhoneE164)
        }
        XCTAssertEqual(w.bank.registerCalls, 1)
        XCTAssertEqual(w.bank.calls(.confirmRegistration), 0, "refused at the response: no confirmation")
        XCTAssertEqual(w.store.keys(), [], "a refused registration writes nothing")
        XCTAssertEqual(w.keyHandles.keys(), [], "and keeps no device key")
    }

    func testForgotPasswordDeletesEverythingAndTheUsedCodeIsRefused() async throws {
        await w.send(.start)
        let code = try w.fakeBank.issueRegistrationCode(phoneNumber: Fixture.phone)
        await w.send(.submitEnrollment(registrationCode: code, phoneNumber: Fixture.phone))
        let home = await w.send(.choosePassword(password: Fixture.password, confirmation: Fixture.password))
        XCTAssertEqual(home.screen, .home)

        let prompt = await w.send(.requestLoginCode)
        XCTAssertEqual(prompt.screen, .passwordEntry)
        let reset = await w.send(.forgotPassword)
        XCTAssertEqual(reset, .enrollment(phoneNumber: Fixture.phoneE164, notice: .reset))
        XCTAssertEqual(w.store.keys(), [], "resetAll leaves nothing in the Keychain")
        XCTAssertEqual(w.keyHandles.keys(), [], "nor a device key")
        XCTAssertEqual(try w.credentials(), [])

        // Registration codes are single-use.
        let setup = await w.send(.submitEnrollment(registrationCode: code, phoneNumber: Fixture.phone))
        XCTAssertEqual(setup, .passwordSetup(notice: nil))
        let refused = await w.send(.choosePassword(password: Fixture.password, confirmation: Fixture.password))
        XCTAssertEqual(refused.screen, .enrollment)
        XCTAssertEqual(refused.notice?.kind, .registrationRejected)
    }

    func testAnUnreachableBankKeepsTheScreenAndARetrySucceeds() async throws {
        await w.send(.start)
        let code = try w.fakeBank.issueRegistrationCode(phoneNumber: Fixture.phone)
        await w.send(.submitEnrollment(registrationCode: code, phoneNumber: Fixture.phone))
        w.bank.unreachable = true
        let offline = await w.send(.choosePassword(password: Fixture.password, confirmation: Fixture.password))
        XCTAssertEqual(offline, .passwordSetup(notice: .bankUnavailable(reason: SwitchableBank.offline)))
        XCTAssertEqual(w.store.keys(), [])
        w.bank.unreachable = false
        let home = await w.send(.choosePassword(password: Fixture.password, confirmation: Fixture.password))
        XCTAssertEqual(home.notice, .registered)
        XCTAssertEqual(w.bank.registerCalls, 2)
        XCTAssertEqual(w.enclave.keysCreated, 2, "a device key per attempt")
        XCTAssertEqual(w.keyHandles.keys(prefix: HardwareDeviceKeys.handlePrefix).count, 1, "the first attempt's key is deleted")

        // A code that could not be sent stays on screen, with the notice, while it is valid.
        let shown = try await w.loginCode()
        w.bank.unreachable = true
        let notSentState = await w.send(.submitCode)
        let notSent = try codeScreen(notSentState)
        XCTAssertEqual(notSent.code, shown.code)
        XCTAssertEqual(notSent.notice, .bankUnavailable(reason: SwitchableBank.offline))
        let tickedState = await w.send(.tick)
        XCTAssertEqual(try codeScreen(tickedState).notice, .bankUnavailable(reason: SwitchableBank.offline))
        w.bank.unreachable = false
        let activated = await w.send(.submitCode)
        XCTAssertEqual(activated.notice, .activated)
        XCTAssertEqual(try homeCredential(activated).status, .active)
    }

    // MARK: - Codes

    /// Register, activate with the first login code, confirm a transfer and send its code.
    func testRegisterActivateAndConfirmATransfer() async throws {
        let registered = try await w.register()
        XCTAssertEqual(registered.institutionId, FakeBankApi.demoInstitutionId)
        XCTAssertEqual(registered.institutionName, FakeBankApi.demoInstitutionName)
        XCTAssertEqual(registered.attemptsRemaining, 5)
        XCTAssertEqual(w.bank.registerCalls, 1)

        // The first login code the bank accepts activates the credential.
        let login = try await w.loginCode()
        XCTAssertEqual(login.purpose, .login)
        XCTAssertEqual(login.serialNumber, registered.serialNumber)
        let code = try XCTUnwrap(login.code)
        XCTAssertTrue(matchesWhole(code, "[0-9]{6}"), "a 6-digit login code")
        XCTAssertTrue((1...30).contains(login.codeSecondsRemaining), "\(login.codeSecondsRemaining)")
        XCTAssertEqual(login.screenSecondsRemaining, 60)
        XCTAssertNil(login.notice)
        let activated = await w.send(.submitCode)
        XCTAssertEqual(activated.notice, .activated)
        XCTAssertEqual(try homeCredential(activated).status, .active)

        // A transfer: the customer sees amount and payee, then gets a code for exactly it.
        w.clock.advance(30)
        let transfer = Fixture.transfer(1_500_000)
        let confirmState = await w.send(.requestTransfer(transfer))
        let confirm = try confirmation(confirmState)
        XCTAssertEqual(confirm.transaction, transfer)
        XCTAssertEqual(confirm.summary, try transactionSummary(transaction: transfer))
        XCTAssertEqual(confirm.summary, "Transfer KRW 1,500,000\nPayee: 홍길동\nAccount: 110123456789")
        XCTAssertEqual(confirm.amountText, "KRW 1,500,000")
        XCTAssertEqual(confirm.payeeName, "홍길동")
        XCTAssertEqual(confirm.payeeAccount, "110-123-456789")
        let prompt = await w.send(.confirmTransfer)
        XCTAssertEqual(prompt, .passwordEntry(purpose: .transfer(confirm), notice: nil))
        let shownState = await w.send(.enterPassword(Fixture.password))
        let shown = try codeScreen(shownState)
        XCTAssertEqual(shown.purpose, .transfer(confirm), "bound to the summary confirmed")
        let transferCode = try XCTUnwrap(shown.code)
        XCTAssertTrue(matchesWhole(transferCode, "[0-9]{8}"), "an 8-digit transaction code")

        // The code verifies for this transfer only.
        let forAnotherAmount = try await w.fakeBank.verifyTransfer(
            institutionId: registered.institutionId,
            serialNumber: registered.serialNumber,
            code: transferCode,
            transaction: Fixture.transfer(9_500_000)
        )
        XCTAssertFalse(forAnotherAmount)
        let accepted = await w.send(.submitCode)
        XCTAssertEqual(accepted.notice, .transferAccepted)

        // A later login code: accepted, nothing left to activate.
        w.clock.advance(30)
        _ = try await w.loginCode()
        let again = await w.send(.submitCode)
        XCTAssertEqual(again.notice, .loginAccepted)
        XCTAssertEqual(try w.credentials().map { $0.status }, [.active])
    }

    func testTheCodeScreenCountsDownForgetsTheExpiredCodeAndClosesItself() async throws {
        try await w.register()
        let shown = try await w.loginCode()
        let left = shown.codeSecondsRemaining
        XCTAssertTrue((1...30).contains(left), "\(left)")

        w.clock.advance(left - 1)
        let lastSecondState = await w.send(.tick)
        let lastSecond = try codeScreen(lastSecondState)
        XCTAssertEqual(lastSecond.code, shown.code)
        XCTAssertEqual(lastSecond.codeSecondsRemaining, 1)
        XCTAssertEqual(lastSecond.screenSecondsRemaining, 60 - (left - 1))

        // Expired: the code is gone from the screen (and from memory); nothing to send.
        w.clock.advance(1)
        let expiredState = await w.send(.tick)
        let expired = try codeScreen(expiredState)
        XCTAssertNil(expired.code)
        XCTAssertEqual(expired.codeSecondsRemaining, 0)
        XCTAssertEqual(expired.notice, .codeExpired)
        XCTAssertEqual(expired.screenSecondsRemaining, 60 - left)
        let unchanged = await w.send(.submitCode)
        XCTAssertEqual(unchanged, expiredState)

        // A minute after it opened, the screen closes itself.
        w.clock.advance(60 - left - 1)
        let beforeClosingState = await w.send(.tick)
        XCTAssertEqual(try codeScreen(beforeClosingState).screenSecondsRemaining, 1)
        w.clock.advance(1)
        let closed = await w.send(.tick)
        XCTAssertEqual(closed.screen, .home)
        XCTAssertEqual(closed.notice, .screenClosed)
        let stillHome = await w.send(.tick)
        XCTAssertEqual(stillHome, closed, "the countdown only runs on the code screen")
    }

    func testAnInvalidTransferIsRefusedAndScreensClose() async throws {
        let registered = try await w.register()
        let invalid = await w.send(.requestTransfer(Fixture.transfer(0)))
        XCTAssertEqual(invalid.screen, .home)
        XCTAssertEqual(invalid.notice?.kind, .invalidTransaction)

        let confirm = await w.send(.requestTransfer(Fixture.transfer(50_000)))
        XCTAssertEqual(confirm.screen, .confirmTransfer)
        let cancelled = await w.send(.close)
        XCTAssertEqual(cancelled, .home(credential: registered, notice: nil))

        _ = try await w.loginCode()
        let closed = await w.send(.close)
        XCTAssertEqual(closed, .home(credential: registered, notice: nil))

        // Events that do not apply to the home screen change nothing.
        let ignored: [FlowEvent] = [
            .submitCode, .tick, .confirmTransfer, .enterPassword(Fixture.password), .startReRegistration,
            .backToEnrollment, .close, .choosePassword(password: Fixture.password, confirmation: Fixture.password),
        ]
        for event in ignored {
            let state = await w.send(event)
            XCTAssertEqual(state, closed, "\(event)")
        }
    }

    func testARelaunchReturnsToTheHomeScreen() async throws {
        let registered = try await w.register()
        w.relaunch()
        let relaunched = await w.flow.state
        XCTAssertEqual(relaunched, .starting)
        let started = await w.send(.start)
        XCTAssertEqual(started, .home(credential: registered, notice: nil))
    }

    // MARK: - Wrong passwords, lock, device mismatch

    func testWrongPasswordsShowTheAttemptsLeftThenLockAndReRegistrationStartsOver() async throws {
        let first = try await w.register()
        let prompt = await w.send(.requestLoginCode)
        XCTAssertEqual(prompt.screen, .passwordEntry)
        for left in stride(from: UInt32(4), through: 1, by: -1) {
            let state = await w.send(.enterPassword(Fixture.wrongPassword))
            XCTAssertEqual(state, .passwordEntry(purpose: .login, notice: .wrongPassword(attemptsRemaining: left)))
        }
        let locked = await w.send(.enterPassword(Fixture.wrongPassword))
        XCTAssertEqual(locked, .reRegistrationRequired(.locked))
        XCTAssertEqual(try w.credentials().map { $0.status }, [.locked])

        // The lock is stored: a relaunch shows it again.
        w.relaunch()
        let relaunched = await w.send(.start)
        XCTAssertEqual(relaunched, .reRegistrationRequired(.locked))

        // Re-registration: a new code from the bank; the new credential replaces the locked one.
        let enrollment = await w.send(.startReRegistration)
        XCTAssertEqual(enrollment, .enrollment(phoneNumber: Fixture.phoneE164, notice: nil))
        let second = try await w.register(password: Fixture.otherPassword)
        XCTAssertNotEqual(second.serialNumber, first.serialNumber)
        XCTAssertEqual(try w.credentials().map { $0.serialNumber }, [second.serialNumber])
        _ = try await w.loginCode(password: Fixture.otherPassword)
        let activated = await w.send(.submitCode)
        XCTAssertEqual(activated.notice, .activated)
    }

    func testAReinstalledAppHasANewDeviceIdAndMustRegisterAgain() async throws {
        let first = try await w.register()
        // Deleted and installed again: the Keychain kept the credential and the phone
        // number, but identifierForVendor changed.
        w.relaunch(deviceId: Fixture.reinstalledDeviceId)
        let started = await w.send(.start)
        XCTAssertEqual(started, .reRegistrationRequired(.deviceMismatch))

        let enrollment = await w.send(.startReRegistration)
        XCTAssertEqual(enrollment, .enrollment(phoneNumber: Fixture.phoneE164, notice: nil))
        let second = try await w.register()
        XCTAssertNotEqual(second.serialNumber, first.serialNumber)
        _ = try await w.loginCode()
        let activated = await w.send(.submitCode)
        XCTAssertEqual(activated.notice, .activated)
    }

    func testAnotherPhoneNumberIsADeviceMismatchAndCostsNoAttempt() async throws {
        try await w.register()
        let prompt = await w.send(.requestLoginCode)
        XCTAssertEqual(prompt.screen, .passwordEntry)
        // The number the app keeps changed (say, a new SIM typed in): the credential is
        // bound to the old one.
        try w.profile.write(key: OtpFlow.phoneNumberKey, value: Data(Fixture.otherPhoneE164.utf8))
        let state = await w.send(.enterPassword(Fixture.password))
        XCTAssertEqual(state, .reRegistrationRequired(.deviceMismatch))
        XCTAssertEqual(try w.credentials(phoneNumber: Fixture.phone).map { $0.attemptsRemaining }, [5])
    }

    // MARK: - Formatting

    func testAmountsAreFormattedInTheCurrencysUnits() {
        XCTAssertEqual(formatAmount(minorUnits: 1_500_000, currency: "KRW"), "KRW 1,500,000")
        XCTAssertEqual(formatAmount(minorUnits: 999, currency: "KRW"), "KRW 999")
        XCTAssertEqual(formatAmount(minorUnits: 1_000, currency: "KRW"), "KRW 1,000")
        XCTAssertEqual(formatAmount(minorUnits: 1_250, currency: "USD"), "USD 12.50")
        XCTAssertEqual(formatAmount(minorUnits: 5, currency: "USD"), "USD 0.05")
        XCTAssertEqual(formatAmount(minorUnits: 123_456_789, currency: "EUR"), "EUR 1,234,567.89")
    }
}
