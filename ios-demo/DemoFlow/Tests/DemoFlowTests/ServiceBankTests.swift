import DemoFakeBank
import DemoFlow
import DemoKeychain
import DemoServiceBank
import DigitalOTP
import Foundation
import XCTest

/// The demo app's screens driven event by event as in OtpFlowTests, but against the real
/// issuer service over a socket (`dotp issuer serve`, started by
/// scripts/with-issuer-service.sh): the flow's bank is `ServiceBankApi` with the channel
/// key, and each test's customer and registration code come from the service desk with
/// the staff key. The address and the keys come from the environment
/// (DIGITAL_OTP_SERVICE_URL, DIGITAL_OTP_SERVICE_INSTITUTION, DIGITAL_OTP_CHANNEL_KEY,
/// DIGITAL_OTP_STAFF_KEY); without them every test fails, saying so.
///
/// The clock is the real one (the service has its own), so no test moves time: each
/// makes at most one login code. Every test has its own customer and phone number.
final class ServiceBankTests: XCTestCase {
    private var environment: ServiceEnvironment!

    override func tearDown() {
        environment = nil
        super.tearDown()
    }

    /// The service from the environment and a new customer's phone. Each test starts with
    /// it rather than a set-up: corelibs XCTest reports an error thrown by a set-up as a
    /// failure and a skip, and without the service's variables the test must fail, saying
    /// which is missing.
    private func world() async throws -> ServiceWorld {
        environment = try ServiceEnvironment.require()
        return try await ServiceWorld(environment)
    }

    // MARK: - Registration and the first code

    /// A registration code from the staff API registers the phone over the two round
    /// trips: the bank holds a pending registration for its customer, five password
    /// attempts, no wrong code.
    func testRegistrationWithACodeFromTheStaffApi() async throws {
        let w = try await world()
        let registered = try await w.register()
        XCTAssertEqual(registered.institutionId, environment.institution)
        XCTAssertEqual(registered.attemptsRemaining, 5)
        XCTAssertEqual(w.bank.calls(.register), 1)
        XCTAssertEqual(w.bank.calls(.confirmRegistration), 1)

        let device = try await w.desk.device(registered.serialNumber)
        XCTAssertEqual(device.state, "active")
        XCTAssertEqual(device.errorCount, 0)
        XCTAssertEqual(device.appPasswordAttemptsLeft, 5)
        let registration = try XCTUnwrap(device.registrations.last)
        XCTAssertEqual(registration.institution, environment.institution)
        XCTAssertEqual(registration.customer, w.customer.id, "registered to the desk's customer")
        XCTAssertEqual(registration.state, "pending", "until a first code is accepted")
    }

    /// A registration code is single-use at the service too: after "forgot password" the
    /// same code goes to the bank again and is refused at the response.
    func testAUsedRegistrationCodeIsRefusedByTheService() async throws {
        let w = try await world()
        await w.send(.start)
        let code = try await w.desk.issueRegistrationCode(for: w.customer)
        await w.send(.submitEnrollment(registrationCode: code, phoneNumber: w.customer.phone))
        let home = await w.send(.choosePassword(password: Fixture.password, confirmation: Fixture.password))
        XCTAssertEqual(home.notice, .registered)

        let reset = await w.send(.forgotPassword)
        XCTAssertEqual(reset, .enrollment(phoneNumber: w.customer.phoneE164, notice: .reset))
        let setup = await w.send(.submitEnrollment(registrationCode: code, phoneNumber: w.customer.phone))
        XCTAssertEqual(setup, .passwordSetup(notice: nil))
        let refused = await w.send(.choosePassword(password: Fixture.password, confirmation: Fixture.password))
        XCTAssertEqual(refused.screen, .enrollment)
        XCTAssertEqual(refused.notice?.kind, .registrationRejected)
        XCTAssertEqual(w.bank.calls(.register), 2, "the used code reached the bank")
        XCTAssertEqual(w.bank.calls(.confirmRegistration), 1, "and was refused at its response")
        XCTAssertEqual(try w.credentials(), [])
    }

    /// The first login code the service accepts activates the credential, at the bank
    /// and on the phone.
    func testTheFirstLoginCodeIsAcceptedAndActivates() async throws {
        let w = try await world()
        let registered = try await w.register()
        let login = try await w.loginCode()
        XCTAssertEqual(login.purpose, .login)
        XCTAssertEqual(login.serialNumber, registered.serialNumber)
        let code = try XCTUnwrap(login.code)
        XCTAssertTrue(matchesWhole(code, "[0-9]{6}"), "a 6-digit login code")
        XCTAssertEqual(w.bank.calls(.unlock), 1)

        let activated = await w.send(.submitCode)
        XCTAssertEqual(activated.notice, .activated)
        XCTAssertEqual(try homeCredential(activated).status, .active)
        XCTAssertEqual(w.bank.calls(.verify), 1)
        let device = try await w.desk.device(registered.serialNumber)
        XCTAssertEqual(device.registrations.last?.state, "active")
        XCTAssertEqual(device.errorCount, 0)
    }

    /// The same login code sent again (a replay) is rejected, and not counted as a wrong
    /// code: a double submission must not lock the customer out.
    func testAReplayedLoginCodeIsRejectedWithoutCounting() async throws {
        let w = try await world()
        try await w.register()
        let login = try await w.loginCode()
        let code = try XCTUnwrap(login.code)
        let accepted = await w.send(.submitCode)
        XCTAssertEqual(accepted.notice, .activated)

        let replayed = try await w.service.verifyLogin(
            institutionId: environment.institution, serialNumber: login.serialNumber, code: code
        )
        XCTAssertFalse(replayed, "the service refuses a code already used")
        let device = try await w.desk.device(login.serialNumber)
        XCTAssertEqual(device.errorCount, 0, "a replay is not a wrong code")
        XCTAssertEqual(device.state, "active")
    }

    // MARK: - A transfer

    /// A transfer's code is rejected for another amount (a wrong code: counted) and
    /// accepted for exactly the transfer confirmed (the count cleared).
    func testATransferCodeIsAcceptedForItsTransactionAndRejectedForAnAlteredAmount() async throws {
        let w = try await world()
        let credential = try await w.registerAndActivate()
        let transfer = Fixture.transfer(1_500_000)
        let confirmState = await w.send(.requestTransfer(transfer))
        let confirm = try confirmation(confirmState)
        XCTAssertEqual(confirm.summary, "Transfer KRW 1,500,000\nPayee: 홍길동\nAccount: 110123456789")
        let prompt = await w.send(.confirmTransfer)
        XCTAssertEqual(prompt, .passwordEntry(purpose: .transfer(confirm), notice: nil))
        let shownState = await w.send(.enterPassword(Fixture.password))
        let shown = try codeScreen(shownState)
        XCTAssertEqual(shown.purpose, .transfer(confirm))
        let transferCode = try XCTUnwrap(shown.code)
        XCTAssertTrue(matchesWhole(transferCode, "[0-9]{8}"), "an 8-digit transaction code")

        let altered = try await w.service.verifyTransfer(
            institutionId: credential.institutionId,
            serialNumber: credential.serialNumber,
            code: transferCode,
            transaction: Fixture.transfer(1_500_001)
        )
        XCTAssertFalse(altered, "refused for KRW 1,500,001")
        let counted = try await w.desk.device(credential.serialNumber)
        XCTAssertEqual(counted.errorCount, 1, "the bank counted a wrong code")

        let accepted = await w.send(.submitCode)
        XCTAssertEqual(accepted.notice, .transferAccepted)
        let cleared = try await w.desk.device(credential.serialNumber)
        XCTAssertEqual(cleared.errorCount, 0, "an accepted code clears the count")
    }

    // MARK: - The app password

    /// A wrong app password is counted by the bank (four attempts left, on the phone and in
    /// the service's inquiry); the right one then gets a code, whose acceptance confirms
    /// the password and gives the five attempts back.
    func testAWrongAppPasswordIsCountedByTheBank() async throws {
        let w = try await world()
        let registered = try await w.register()
        await w.send(.requestLoginCode)
        let wrong = await w.send(.enterPassword(Fixture.wrongPassword))
        XCTAssertEqual(wrong, .passwordEntry(purpose: .login, notice: .wrongPassword(attemptsRemaining: 4)))
        let counted = try await w.desk.device(registered.serialNumber)
        XCTAssertEqual(counted.appPasswordAttemptsLeft, 4, "the bank's count")
        XCTAssertEqual(try w.credentials().first?.attemptsRemaining, 4)

        let shownState = await w.send(.enterPassword(Fixture.password))
        XCTAssertNotNil(try codeScreen(shownState).code)
        let activated = await w.send(.submitCode)
        XCTAssertEqual(activated.notice, .activated)
        let confirmed = try await w.desk.device(registered.serialNumber)
        XCTAssertEqual(confirmed.appPasswordAttemptsLeft, 5, "an accepted code confirms the password")
        XCTAssertEqual(w.bank.calls(.unlock), 2)
    }

    // MARK: - The bank unreachable

    /// The registration's confirmation cannot reach the bank (connection refused): the
    /// flow waits on "finishing registration" with the confirmation kept, and sending it
    /// again once the bank is back completes the registration of the same request.
    func testAnUnreachableBankDuringRegistrationKeepsTheConfirmationToSendAgain() async throws {
        let w = try await world()
        await w.send(.start)
        let code = try await w.desk.issueRegistrationCode(for: w.customer)
        await w.send(.submitEnrollment(registrationCode: code, phoneNumber: w.customer.phone))
        w.bank.setOffline([.confirmRegistration])
        let waiting = await w.send(.choosePassword(password: Fixture.password, confirmation: Fixture.password))
        XCTAssertEqual(waiting.screen, .finishingRegistration)
        XCTAssertEqual(waiting.notice?.kind, .bankUnavailable)
        if case .bankUnavailable(let reason) = waiting.notice {
            XCTAssertTrue(reason.contains("cannot be reached"), reason)
        }
        XCTAssertEqual(try w.credentials().map { $0.status }, [.registering], "stored, waiting for the outcome")
        let stillWaiting = await w.send(.retryRegistration)
        XCTAssertEqual(stillWaiting.screen, .finishingRegistration)

        w.bank.setOffline([])
        let home = await w.send(.retryRegistration)
        XCTAssertEqual(home.notice, .registered)
        let credential = try homeCredential(home)
        XCTAssertEqual(credential.status, .pending)
        XCTAssertEqual(w.bank.calls(.register), 1, "one request: the kept confirmation was sent again")
        XCTAssertEqual(w.bank.calls(.confirmRegistration), 3)
        let device = try await w.desk.device(credential.serialNumber)
        XCTAssertEqual(device.registrations.last?.customer, w.customer.id)
    }

    /// Unreachable during a code: the password screen stays (no guess was counted at the
    /// bank), then the code screen keeps its code while it cannot be sent; once the bank
    /// is back the same code is accepted.
    func testAnUnreachableBankDuringACodeCountsNothingAndKeepsTheScreen() async throws {
        let w = try await world()
        let registered = try await w.register()
        w.bank.unreachable = true
        await w.send(.requestLoginCode)
        let offline = await w.send(.enterPassword(Fixture.password))
        XCTAssertEqual(offline.screen, .passwordEntry)
        XCTAssertEqual(offline.notice?.kind, .bankUnavailable)
        if case .passwordEntry(let purpose, _) = offline {
            XCTAssertEqual(purpose, .login)
        }
        w.bank.unreachable = false
        let untouched = try await w.desk.device(registered.serialNumber)
        XCTAssertEqual(untouched.appPasswordAttemptsLeft, 5, "nothing reached the bank, nothing was counted")

        let shownState = await w.send(.enterPassword(Fixture.password))
        let shown = try codeScreen(shownState)
        w.bank.unreachable = true
        let notSentState = await w.send(.submitCode)
        let notSent = try codeScreen(notSentState)
        XCTAssertEqual(notSent.code, shown.code, "the code stays on screen")
        XCTAssertEqual(notSent.notice?.kind, .bankUnavailable)
        w.bank.unreachable = false
        let activated = await w.send(.submitCode)
        XCTAssertEqual(activated.notice, .activated)
        XCTAssertEqual(w.bank.calls(.verify), 2)
    }

    // MARK: - A key the service refuses

    /// A key the service refuses for the channel (here the staff key: role staff may not
    /// call the app channel) is answered, not unreachable: the flow keeps the password
    /// screen to try again (every failure of the bank is "bank unavailable" there), and its
    /// reason is the service's refusal, 403 forbidden, never the key.
    func testAKeyTheServiceRefusesIsReportedAsItsRefusal() async throws {
        let w = try await world()
        let staffRelay = try await ServiceWorld(environment, channelKey: environment.staffKey)
        await staffRelay.send(.start)
        let code = try await staffRelay.desk.issueRegistrationCode(for: staffRelay.customer)
        await staffRelay.send(.submitEnrollment(registrationCode: code, phoneNumber: staffRelay.customer.phone))
        let refused = await staffRelay.send(.choosePassword(password: Fixture.password, confirmation: Fixture.password))
        XCTAssertEqual(refused.screen, .passwordSetup)
        guard case .bankUnavailable(let reason) = refused.notice else {
            return XCTFail("expected the bank's failure on the password screen, got \(String(describing: refused.notice))")
        }
        XCTAssertTrue(reason.hasPrefix("the bank refused the request (403 forbidden: "), reason)
        XCTAssertFalse(reason.contains("cannot be reached"), reason)
        XCTAssertEqual(try staffRelay.credentials(), [], "nothing registered")

        // The same code still registers through the channel key: the refused call did nothing.
        let setup = await w.send(.start)
        XCTAssertEqual(setup.screen, .enrollment)
        let ownCode = try await w.desk.issueRegistrationCode(for: w.customer)
        await w.send(.submitEnrollment(registrationCode: ownCode, phoneNumber: w.customer.phone))
        let home = await w.send(.choosePassword(password: Fixture.password, confirmation: Fixture.password))
        XCTAssertEqual(home.notice, .registered)
    }
}

/// What `ServiceBankApi` makes of the answers the real service gives only when it fails
/// or is flooded: a 5xx and a 429 are "bank unavailable" (`BankApiError`, the flow keeps
/// its screen to try again), and so is a 200 that is not a verdict. Against
/// `CannedHTTPServer`, a socket on loopback; no issuer service needed.
final class ServiceBankAnswerTests: XCTestCase {
    private var server: CannedHTTPServer?

    override func tearDown() {
        server?.stop()
        server = nil
        super.tearDown()
    }

    private func bank(_ server: CannedHTTPServer) -> ServiceBankApi {
        self.server = server
        return ServiceBankApi(
            baseURL: server.url, institutionId: "demo-bank", channelKey: "dotp_test_not-a-real-key",
            customerId: "customer-1", timeout: 30
        )
    }

    /// Throws what `body` throws, or fails when it returns.
    private func thrown<T>(_ body: () async throws -> T, file: StaticString = #filePath, line: UInt = #line) async -> Error? {
        do {
            let value = try await body()
            XCTFail("expected an error, got \(value)", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    /// A 503 (the service's database does not answer): `BankApiError` naming the status.
    func testA5xxAnswerIsBankUnavailable() async throws {
        let bank = bank(try CannedHTTPServer(
            status: 503, reason: "Service Unavailable",
            body: #"{"error":"unavailable","message":"the issuer cannot serve now; try again"}"#
        ))
        let error = await thrown { try await bank.unlock(request: Data("{}".utf8)) }
        XCTAssertEqual(error as? BankApiError, BankApiError(reason: "the bank cannot serve now (503 unavailable)"))
        let verifying = await thrown { try await bank.verifyLogin(institutionId: "demo-bank", serialNumber: "S", code: "123456") }
        XCTAssertTrue(verifying is BankApiError, "\(String(describing: verifying))")
        XCTAssertEqual(server?.requests, 2, "both reached the server")
    }

    /// A 500 through the flow: the registration stays on the password screen with
    /// "bank unavailable", nothing stored, and may be tried again.
    func testA500DuringRegistrationKeepsThePasswordScreen() async throws {
        let bank = bank(try CannedHTTPServer(
            status: 500, reason: "Internal Server Error", body: #"{"error":"internal","message":"internal error"}"#
        ))
        let store = MemoryStore()
        let profile = MemoryStore()
        let keys = HardwareDeviceKeys(hardware: FakeEnclave(), handles: MemoryStore(), attester: nil)
        let clock = DeviceClock()
        let flow = OtpFlow(
            otp: DigitalOtp.withClock(store: store, keys: keys, clock: clock),
            bank: bank, clock: clock, profile: profile,
            config: FlowConfig(institutionId: "demo-bank", deviceId: Fixture.deviceId)
        )
        await flow.send(.start)
        // A well-formed code (the check digit holds); the server never looks at it.
        let code = try FakeBankApi.inMemory().issueRegistrationCode(phoneNumber: Fixture.phone)
        await flow.send(.submitEnrollment(registrationCode: code, phoneNumber: Fixture.phone))
        let state = await flow.send(.choosePassword(password: Fixture.password, confirmation: Fixture.password))
        XCTAssertEqual(state, .passwordSetup(notice: .bankUnavailable(reason: "the bank cannot serve now (500 internal)")))
        XCTAssertEqual(store.keys(), [], "nothing stored")
        XCTAssertEqual(server?.requests, 1)
    }

    /// A 429 (past a rate limit): `BankApiError` with the service's `Retry-After`.
    func testA429IsBankUnavailableWithItsRetryAfter() async throws {
        let bank = bank(try CannedHTTPServer(
            status: 429, reason: "Too Many Requests", headers: ["Retry-After": "7"],
            body: #"{"error":"rate_limited","message":"too many requests; try again in 7 s"}"#
        ))
        let error = await thrown { try await bank.register(request: Data("{}".utf8)) }
        XCTAssertEqual(error as? BankApiError, BankApiError(reason: "the bank is busy (429 rate_limited; try again in 7 s)"))
    }

    /// A 4xx other than 429 is the service's refusal, with its code and sentence.
    func testA4xxIsTheServicesRefusal() async throws {
        let bank = bank(try CannedHTTPServer(
            status: 401, reason: "Unauthorized",
            body: #"{"error":"unauthorized","message":"an API key is needed: Authorization: Bearer dotp_…"}"#
        ))
        let error = await thrown { try await bank.confirmRegistration(confirmation: Data("{}".utf8)) }
        XCTAssertEqual(
            error as? ServiceRefusal,
            ServiceRefusal(status: 401, code: "unauthorized", message: "an API key is needed: Authorization: Bearer dotp_…")
        )
    }

    /// A redirect is not followed (it would carry the key to another address): the 3xx is
    /// the service's refusal, and the other address hears nothing.
    func testARedirectIsNotFollowed() async throws {
        let elsewhere = try CannedHTTPServer(status: 200, reason: "OK", body: #"{"verdict":"accepted"}"#)
        defer { elsewhere.stop() }
        let bank = bank(try CannedHTTPServer(
            status: 307, reason: "Temporary Redirect",
            headers: ["Location": elsewhere.url.absoluteString + "/v1/institutions/demo-bank/customers/customer-1/login-verifications"],
            body: "{}"
        ))
        let error = await thrown { try await bank.verifyLogin(institutionId: "demo-bank", serialNumber: "S", code: "123456") }
        XCTAssertEqual((error as? ServiceRefusal)?.status, 307, "\(String(describing: error))")
        XCTAssertEqual(server?.requests, 1)
        XCTAssertEqual(elsewhere.requests, 0, "the key went nowhere else")
    }

    /// A 200 whose body is not a verdict: `BankApiError`, never a verdict guessed.
    func testAnAnswerThatIsNotAVerdictIsBankUnavailable() async throws {
        let bank = bank(try CannedHTTPServer(status: 200, reason: "OK", body: #"{"verdict":"maybe"}"#))
        let error = await thrown {
            try await bank.verifyTransfer(
                institutionId: "demo-bank", serialNumber: "S", code: "12345678", transaction: Fixture.transfer(1_000)
            )
        }
        XCTAssertEqual(error as? BankApiError, BankApiError(reason: "the bank's answer is not a verdict"))
    }
}
