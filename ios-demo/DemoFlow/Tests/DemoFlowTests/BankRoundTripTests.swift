import DemoFakeBank
import DemoFlow
import DemoKeychain
import DigitalOTP
import Foundation
import XCTest

/// The demo's flow where it needs the bank: the registration's two round trips (a wrong
/// code found out at the response, an outcome that did not arrive), the unlock before
/// every code (the bank counts the wrong passwords, so a restored backup gives no extra
/// guess), a password change, the device key (kept as a handle in the Keychain, failing
/// the way a cancelled Face ID sheet does) and its attestation evidence reaching the bank.
/// Against the real SDK and the real issuer (`FakeBankApi` over `Issuer.inMemory`), with
/// `HardwareDeviceKeys` over `FakeEnclave`, a stand-in for the Secure Enclave.
final class BankRoundTripTests: XCTestCase {
    private var w: World!

    override func setUpWithError() throws {
        try super.setUpWithError()
        w = try World()
    }

    override func tearDown() {
        w = nil
        super.tearDown()
    }

    /// The bank's audit details of `action`, oldest first.
    private func details(_ action: String) throws -> [String] {
        try w.fakeBank.audit(action: action).reversed().map { $0.detail }
    }

    // MARK: - Registration

    /// A well-formed code the bank did not issue to this phone passes the check digit and
    /// goes to the bank, whose response fails the phone's key check: refused, nothing
    /// kept, and the right code still registers (a wrong guess is one of five).
    func testAWrongRegistrationCodeIsRefusedAtTheResponseAndTheRightOneStillRegisters() async throws {
        await w.send(.start)
        let right = try w.fakeBank.issueRegistrationCode(phoneNumber: Fixture.phone)
        // Another bank's code for the same number: right format and check digit.
        let wrong = try FakeBankApi.inMemory(clock: w.clock).issueRegistrationCode(phoneNumber: Fixture.phone)
        XCTAssertNotEqual(wrong, right)

        let setup = await w.send(.submitEnrollment(registrationCode: wrong, phoneNumber: Fixture.phone))
        XCTAssertEqual(setup, .passwordSetup(notice: nil), "the phone cannot tell a wrong code from the right one")
        let refused = await w.send(.choosePassword(password: Fixture.password, confirmation: Fixture.password))
        XCTAssertEqual(refused.screen, .enrollment)
        XCTAssertEqual(refused.notice?.kind, .registrationRejected)
        XCTAssertEqual(w.bank.registerCalls, 1)
        XCTAssertEqual(w.bank.calls(.confirmRegistration), 0)
        XCTAssertEqual(w.store.keys(), [], "nothing stored")
        XCTAssertEqual(w.keyHandles.keys(), [], "the attempt's device key is deleted")
        XCTAssertEqual(try details("register_mobile_otp"), ["registration attempt 1 of 5 answered"], "the bank counted a guess")

        await w.send(.submitEnrollment(registrationCode: right, phoneNumber: Fixture.phone))
        let home = await w.send(.choosePassword(password: Fixture.password, confirmation: Fixture.password))
        XCTAssertEqual(home.notice, .registered)
        XCTAssertEqual(try homeCredential(home).status, .pending)
        XCTAssertEqual(w.bank.calls(.confirmRegistration), 1)
    }

    /// The confirmation reached the bank, or not, but its outcome did not reach the app:
    /// the credential waits (`registering`, no code), the flow keeps the confirmation and
    /// sends it again; once the app has been closed, it cannot, and a new registration
    /// replaces the unfinished one.
    func testAnOutcomeThatDidNotArriveIsAskedForAgainOrTheRegistrationStartsOver() async throws {
        await w.send(.start)
        w.bank.setOffline([.confirmRegistration])
        await w.send(.submitEnrollment(registrationCode: try w.fakeBank.issueRegistrationCode(phoneNumber: Fixture.phone), phoneNumber: Fixture.phone))
        let waiting = await w.send(.choosePassword(password: Fixture.password, confirmation: Fixture.password))
        XCTAssertEqual(waiting, .finishingRegistration(notice: .bankUnavailable(reason: SwitchableBank.offline)))
        XCTAssertEqual(try w.credentials().map { $0.status }, [.registering], "stored at the response, not usable yet")
        let stillWaiting = await w.send(.retryRegistration)
        XCTAssertEqual(stillWaiting, waiting)
        w.bank.setOffline([])
        let home = await w.send(.retryRegistration)
        XCTAssertEqual(home.notice, .registered)
        let first = try homeCredential(home)
        XCTAssertEqual(first.status, .pending)
        XCTAssertEqual(w.bank.calls(.confirmRegistration), 3)
        XCTAssertEqual(w.bank.calls(.register), 1, "one request: the same confirmation was sent again")

        // Again, but the app is closed before the outcome arrives.
        w.relaunch()
        await w.send(.start)
        w.bank.setOffline([.confirmRegistration])
        await w.send(.forgotPassword)
        await w.send(.submitEnrollment(registrationCode: try w.fakeBank.issueRegistrationCode(phoneNumber: Fixture.phone), phoneNumber: Fixture.phone))
        let interrupted = await w.send(.choosePassword(password: Fixture.password, confirmation: Fixture.password))
        XCTAssertEqual(interrupted.screen, .finishingRegistration)
        w.bank.setOffline([])
        w.relaunch()
        let relaunched = await w.send(.start)
        XCTAssertEqual(relaunched, .reRegistrationRequired(.registrationIncomplete))
        let enrollment = await w.send(.startReRegistration)
        XCTAssertEqual(enrollment, .enrollment(phoneNumber: Fixture.phoneE164, notice: nil))
        let second = try await w.register()
        XCTAssertNotEqual(second.serialNumber, first.serialNumber)
        XCTAssertEqual(try w.credentials().map { $0.serialNumber }, [second.serialNumber], "the unfinished one is replaced")
        XCTAssertEqual(w.keyHandles.keys(prefix: HardwareDeviceKeys.handlePrefix).count, 1, "with its device key")
        _ = try await w.loginCode()
        let activated = await w.send(.submitCode)
        XCTAssertEqual(activated.notice, .activated)
    }

    /// The confirmation reached the bank, which registered, but its outcome was lost:
    /// sending the same confirmation again gets the same outcome (the bank answers an
    /// identical confirmation again while its attempt is valid), and the registration
    /// completes with the serial the bank made.
    func testAnOutcomeLostAfterTheBankRegisteredIsAnsweredAgain() async throws {
        await w.send(.start)
        w.bank.setAnswersLost([.confirmRegistration])
        await w.send(.submitEnrollment(registrationCode: try w.fakeBank.issueRegistrationCode(phoneNumber: Fixture.phone), phoneNumber: Fixture.phone))
        let waiting = await w.send(.choosePassword(password: Fixture.password, confirmation: Fixture.password))
        XCTAssertEqual(waiting.screen, .finishingRegistration)
        XCTAssertEqual(try details("register_mobile_otp").last?.hasSuffix("pending activation; device key not attested"), true)
        w.bank.setAnswersLost([])
        let registered = await w.send(.retryRegistration)
        XCTAssertEqual(registered.notice, .registered)
        XCTAssertEqual(try details("register_mobile_otp").last, "the same outcome sent again")
        let credentials = try w.credentials()
        XCTAssertEqual(credentials.map { $0.status }, [.pending])
        XCTAssertEqual(w.keyHandles.keys(prefix: HardwareDeviceKeys.handlePrefix).count, 1, "its device key kept")

        _ = try await w.loginCode()
        let activated = await w.send(.submitCode)
        XCTAssertEqual(activated.notice, .activated)
    }

    // MARK: - The bank counts the wrong passwords

    /// The attempts shown are the bank's: a backup of the whole phone (the SDK's Keychain
    /// items, the device key's handle, the profile) put back before every guess still
    /// counts down to the lock, and after it even the right password on the backup is
    /// refused.
    func testTheBankCountsTheWrongPasswordsAndARestoredBackupGivesNoExtraGuess() async throws {
        try await w.register()
        let backup = w.backup()
        for left in stride(from: UInt32(4), through: 1, by: -1) {
            w.relaunch()
            w.restore(backup)
            w.clock.advance(1)
            let home = await w.send(.start)
            XCTAssertEqual(try homeCredential(home).attemptsRemaining, 5, "the backup knows of no wrong password")
            await w.send(.requestLoginCode)
            let state = await w.send(.enterPassword(Fixture.wrongPassword))
            XCTAssertEqual(state, .passwordEntry(purpose: .login, notice: .wrongPassword(attemptsRemaining: left)))
        }
        XCTAssertEqual(w.bank.calls(.unlock), 4, "each guess went to the bank")
        w.relaunch()
        w.restore(backup)
        w.clock.advance(1)
        await w.send(.start)
        await w.send(.requestLoginCode)
        let locked = await w.send(.enterPassword(Fixture.wrongPassword))
        XCTAssertEqual(locked, .reRegistrationRequired(.locked))
        XCTAssertEqual(w.keyHandles.keys(), [], "the device key is destroyed")

        // The backup once more, with the right password: the bank refuses it.
        w.relaunch()
        w.restore(backup)
        w.clock.advance(1)
        await w.send(.start)
        await w.send(.requestLoginCode)
        let refused = await w.send(.enterPassword(Fixture.password))
        XCTAssertEqual(refused, .reRegistrationRequired(.locked))
        XCTAssertEqual(try w.credentials().map { $0.status }, [.locked])
        let unlocks = try details("unlock")
        XCTAssertEqual(unlocks.first, "evaluation 1; 4 wrong app passwords left", "\(unlocks)")
        XCTAssertTrue(unlocks.contains("app password locked after 5 unconfirmed evaluations"), "\(unlocks)")
    }

    /// A backup that repeats a request's time is refused by the bank without an
    /// evaluation (stale): the screen says to try again, and the retry is counted.
    func testARequestRepeatingAnOlderTimeIsRefusedAsStaleAndTheRetryIsCounted() async throws {
        try await w.register()
        let backup = w.backup()
        await w.send(.requestLoginCode)
        let first = await w.send(.enterPassword(Fixture.wrongPassword))
        XCTAssertEqual(first.notice, .wrongPassword(attemptsRemaining: 4))
        w.relaunch()
        w.restore(backup)
        await w.send(.start)
        await w.send(.requestLoginCode)
        let stale = await w.send(.enterPassword(Fixture.wrongPassword))
        XCTAssertEqual(stale, .passwordEntry(purpose: .login, notice: .clockOutOfSync))
        let retried = await w.send(.enterPassword(Fixture.wrongPassword))
        XCTAssertEqual(retried.notice, .wrongPassword(attemptsRemaining: 3))
        let shown = try codeScreen(await w.send(.enterPassword(Fixture.password)))
        XCTAssertNotNil(shown.code)
    }

    /// A bank that cannot be reached counts nothing: the same screen, and the next wrong
    /// password is the first.
    func testAnUnreachableBankAtTheUnlockCountsNoGuess() async throws {
        try await w.register()
        await w.send(.requestLoginCode)
        w.bank.setOffline([.unlock])
        let offline = await w.send(.enterPassword(Fixture.wrongPassword))
        XCTAssertEqual(offline, .passwordEntry(purpose: .login, notice: .bankUnavailable(reason: SwitchableBank.offline)))
        w.bank.setOffline([])
        let wrong = await w.send(.enterPassword(Fixture.wrongPassword))
        XCTAssertEqual(wrong.notice, .wrongPassword(attemptsRemaining: 4))
        XCTAssertEqual(try details("unlock").count, 1)
    }

    // MARK: - Password change

    /// One round trip: the bank evaluates both passwords, so a wrong current one costs
    /// two attempts; the new one must follow the policy (checked before anything is sent).
    func testChangingThePasswordAsksTheBankAndAWrongCurrentPasswordCostsTwoAttempts() async throws {
        let registered = try await w.register()
        let screen = await w.send(.requestPasswordChange)
        XCTAssertEqual(screen, .changePassword(notice: nil))
        let differ = await w.send(.changePassword(current: Fixture.password, new: Fixture.otherPassword, confirmation: Fixture.wrongPassword))
        XCTAssertEqual(differ, .changePassword(notice: .passwordsDiffer))
        let weak = await w.send(.changePassword(current: Fixture.password, new: "111111", confirmation: "111111"))
        XCTAssertEqual(weak.notice?.kind, .weakPassword)
        XCTAssertEqual(w.bank.calls(.unlock), 0, "nothing sent yet")

        let wrong = await w.send(.changePassword(current: Fixture.wrongPassword, new: Fixture.otherPassword, confirmation: Fixture.otherPassword))
        XCTAssertEqual(wrong, .changePassword(notice: .wrongPassword(attemptsRemaining: 3)))
        let changed = await w.send(.changePassword(current: Fixture.password, new: Fixture.otherPassword, confirmation: Fixture.otherPassword))
        XCTAssertEqual(changed.notice, .passwordChanged)
        let credential = try homeCredential(changed)
        XCTAssertEqual(credential.serialNumber, registered.serialNumber, "the same credential")
        XCTAssertEqual(credential.attemptsRemaining, 5, "a success resets the count")

        await w.send(.requestLoginCode)
        let old = await w.send(.enterPassword(Fixture.password))
        XCTAssertEqual(old.notice?.kind, .wrongPassword, "the old password no longer opens the seed")
        let shown = try codeScreen(await w.send(.enterPassword(Fixture.otherPassword)))
        XCTAssertNotNil(shown.code)
        let activated = await w.send(.submitCode)
        XCTAssertEqual(activated.notice, .activated, "same seed, new password")

        // The screen closes like the others.
        await w.send(.requestPasswordChange)
        let closed = await w.send(.close)
        XCTAssertEqual(closed.screen, .home)
    }

    /// With one attempt left the bank evaluates only the current password (a change could
    /// otherwise cost the last two guesses at once): the flow learns it was right and makes
    /// the change again, now with five attempts, all in one event.
    func testAChangeWithOneAttemptLeftIsMadeInTwoRoundTrips() async throws {
        try await w.register()
        await w.send(.requestLoginCode)
        for left in stride(from: UInt32(4), through: 1, by: -1) {
            let state = await w.send(.enterPassword(Fixture.wrongPassword))
            XCTAssertEqual(state.notice, .wrongPassword(attemptsRemaining: left))
        }
        await w.send(.close)
        await w.send(.requestPasswordChange)
        let unlocksBefore = w.bank.calls(.unlock)
        let changed = await w.send(.changePassword(current: Fixture.password, new: Fixture.otherPassword, confirmation: Fixture.otherPassword))
        XCTAssertEqual(changed.notice, .passwordChanged)
        XCTAssertEqual(try homeCredential(changed).attemptsRemaining, 5)
        XCTAssertEqual(w.bank.calls(.unlock) - unlocksBefore, 2, "the current password alone, then the change")
        let shown = try await w.loginCode(password: Fixture.otherPassword)
        XCTAssertNotNil(shown.code)
    }

    // MARK: - The device key

    /// The device key's handle is kept in its own Keychain store; the Secure Enclave
    /// signs the registration's confirmation and every unlock request; the handle goes with
    /// the credential (forgot password).
    func testTheDeviceKeySignsEveryRequestAndGoesWithTheCredential() async throws {
        try await w.register()
        XCTAssertEqual(w.enclave.keysCreated, 1)
        XCTAssertEqual(w.enclave.signatures, 1, "the registration's confirmation")
        let handles = w.keyHandles.keys()
        XCTAssertEqual(handles.count, 1)
        XCTAssertTrue(handles.allSatisfy { $0.hasPrefix(HardwareDeviceKeys.handlePrefix) }, "\(handles)")
        XCTAssertTrue(w.store.keys().allSatisfy { !$0.hasPrefix(HardwareDeviceKeys.handlePrefix) }, "not among the SDK's items")

        _ = try await w.loginCode()
        XCTAssertEqual(w.enclave.signatures, 2, "the unlock request")
        await w.send(.close)
        let reset = await w.send(.forgotPassword)
        XCTAssertEqual(reset.notice, .reset)
        XCTAssertEqual(w.keyHandles.keys(), [], "deleted with the credential")
    }

    /// A signature the Secure Enclave refuses (Face ID cancelled) means no request: the
    /// password screen says so, and the bank counted nothing.
    func testACancelledFaceIdSendsNothingToTheBank() async throws {
        try await w.register()
        await w.send(.requestLoginCode)
        w.enclave.failSigning = true
        let failed = await w.send(.enterPassword(Fixture.wrongPassword))
        XCTAssertEqual(failed.screen, .passwordEntry)
        XCTAssertEqual(failed.notice?.kind, .deviceKeyFailed)
        if case .deviceKeyFailed(let reason)? = failed.notice {
            XCTAssertTrue(reason.contains(FakeEnclave.cancelled), reason)
        }
        XCTAssertEqual(w.bank.calls(.unlock), 0)
        w.enclave.failSigning = false
        let wrong = await w.send(.enterPassword(Fixture.wrongPassword))
        XCTAssertEqual(wrong.notice, .wrongPassword(attemptsRemaining: 4), "the first guess the bank saw")
    }

    /// A phone reported lost at the bank gets no code (the bank will not unlock it); the
    /// customer is sent home with the reason.
    func testAPhoneReportedLostGetsNoCode() async throws {
        let registered = try await w.register()
        try w.fakeBank.issuer.reportAccident(
            actor: "branch", institutionId: registered.institutionId, vendorCode: mobileVendorCode(),
            serialNumber: registered.serialNumber, kind: .lost
        )
        await w.send(.requestLoginCode)
        let refused = await w.send(.enterPassword(Fixture.password))
        XCTAssertEqual(refused.screen, .home)
        XCTAssertEqual(refused.notice, .notUsable)
    }

    // MARK: - Attestation

    /// The attester's evidence goes with the request to the bank, which checks it under
    /// its policy: with `.require` (and, in the demo, no trust anchor) it is refused, as
    /// malformed App Attest evidence (not as missing evidence, which is what a device
    /// without attestation sends); with `.warn` the key is accepted, recorded as not
    /// attested. What was attested is the SDK's challenge and the new device key.
    func testAttestationEvidenceReachesTheBankWhichDecidesUnderItsPolicy() async throws {
        let attester = FakeAttester()
        w = try World(attester: attester)
        try w.fakeBank.setAttestation(.require)
        await w.send(.start)
        await w.send(.submitEnrollment(registrationCode: try w.fakeBank.issueRegistrationCode(phoneNumber: Fixture.phone), phoneNumber: Fixture.phone))
        let refused = await w.send(.choosePassword(password: Fixture.password, confirmation: Fixture.password))
        XCTAssertEqual(refused.screen, .enrollment)
        XCTAssertEqual(refused.notice?.kind, .registrationRejected)
        XCTAssertEqual(try details("register_mobile_otp"), ["device key not trusted: malformed attestation evidence: App Attest CBOR"])
        XCTAssertEqual(w.keyHandles.keys(), [], "the refused key is deleted")
        let asked = try XCTUnwrap(attester.requests.first)
        XCTAssertEqual(attester.requests.count, 1)
        XCTAssertEqual(asked.challenge.count, 32, "the SDK's registration challenge")
        XCTAssertEqual(asked.publicKey.count, 65)
        XCTAssertEqual(asked.publicKey.first, 0x04)

        // A device that cannot attest sends `.none`: refused as missing.
        let plain = try World()
        try plain.fakeBank.setAttestation(.require)
        await plain.send(.start)
        await plain.send(.submitEnrollment(registrationCode: try plain.fakeBank.issueRegistrationCode(phoneNumber: Fixture.phone), phoneNumber: Fixture.phone))
        let missing = await plain.send(.choosePassword(password: Fixture.password, confirmation: Fixture.password))
        XCTAssertEqual(missing.notice?.kind, .registrationRejected)
        XCTAssertEqual(
            try plain.fakeBank.audit(action: "register_mobile_otp").map { $0.detail },
            ["device key not trusted: no key attestation evidence"]
        )

        // Under `.warn` the attested phone registers; the bank records what it made of it.
        try w.fakeBank.setAttestation(.warn)
        let credential = try await w.register()
        XCTAssertEqual(credential.status, .pending)
        XCTAssertEqual(attester.requests.count, 2, "a new key, a new attestation")
        XCTAssertNotEqual(attester.requests[1].challenge, asked.challenge, "each request has its own challenge")
        let registered = try XCTUnwrap(try details("register_mobile_otp").last)
        XCTAssertTrue(registered.hasSuffix("pending activation; device key not attested"), registered)
    }
}
