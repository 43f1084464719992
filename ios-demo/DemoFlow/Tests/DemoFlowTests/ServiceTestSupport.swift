import DemoFlow
import DemoKeychain
import DemoServiceBank
import DigitalOTP
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Helpers for ServiceBankTests: the service's address and keys from the environment
// (scripts/with-issuer-service.sh exports them; never written in a test), the bank's
// service desk over the staff key (customers, registration codes, the device inquiry), a
// BankApi that can be sent to an address where nothing listens, `ServiceWorld` (one
// phone with the demo's flow over `ServiceBankApi`, on the real clock: the service has
// its own), and `CannedHTTPServer`, which answers every request alike (a 503, a 429, a
// body that is not a verdict) for what the real service does not do on demand.

/// The throwaway service of scripts/with-issuer-service.sh, from the environment.
struct ServiceEnvironment {
    /// DIGITAL_OTP_SERVICE_URL, e.g. `http://127.0.0.1:40123`.
    let url: URL
    /// DIGITAL_OTP_SERVICE_INSTITUTION (`demo-bank`).
    let institution: String
    /// DIGITAL_OTP_CHANNEL_KEY: role channel (registration, unlock, verification).
    let channelKey: String
    /// DIGITAL_OTP_STAFF_KEY: role staff (customers, registration codes, inquiries).
    let staffKey: String

    /// Why the tests cannot run: a variable missing. A failure, never a skip.
    struct Missing: Error, CustomStringConvertible, LocalizedError {
        let variable: String
        var description: String {
            "\(variable) is not set: these tests need a running issuer service; run them as "
                + "`scripts/with-issuer-service.sh swift test` (or scripts/test-swift.sh, which does)"
        }
        var errorDescription: String? { description }
    }

    /// The environment's service, or `Missing` for the first variable not set.
    static func require() throws -> ServiceEnvironment {
        let environment = ProcessInfo.processInfo.environment
        func value(_ name: String) throws -> String {
            guard let value = environment[name], !value.isEmpty else {
                throw Missing(variable: name)
            }
            return value
        }
        let text = try value("DIGITAL_OTP_SERVICE_URL")
        guard let url = URL(string: text), url.scheme == "http" || url.scheme == "https" else {
            throw Missing(variable: "DIGITAL_OTP_SERVICE_URL (an http(s) URL)")
        }
        return ServiceEnvironment(
            url: url,
            institution: try value("DIGITAL_OTP_SERVICE_INSTITUTION"),
            channelKey: try value("DIGITAL_OTP_CHANNEL_KEY"),
            staffKey: try value("DIGITAL_OTP_STAFF_KEY")
        )
    }
}

/// A customer the desk registered: a fresh id and phone number per test, so that tests
/// share one service without meeting.
struct ServiceCustomer {
    /// The bank's customer id (what its session knows).
    let id: String
    /// The phone number as typed, `010-1234-5678`.
    let phone: String
    /// The same in E.164, `+821012345678`.
    let phoneE164: String
}

/// The bank's service desk over the staff key (role staff): what a branch or the bank's
/// website does before the app is involved, and the inquiry its staff would see.
/// For the tests only: a staff key is a server credential like the channel key.
final class ServiceDesk {
    private let connection: ServiceConnection
    private let institution: String

    init(_ environment: ServiceEnvironment) {
        connection = ServiceConnection(baseURL: environment.url, apiKey: environment.staffKey, timeout: 30)
        institution = environment.institution
    }

    private var institutionPath: String { "/v1/institutions/" + ServiceConnection.pathSegment(institution) }

    private static let actor = ["X-Dotp-Actor": "demo-tests"]

    /// Sends a desk call and checks its status; the body of the answer.
    private func call(_ method: String, _ path: String, _ body: [String: String]?, expect status: Int) async throws -> Data {
        let encoded = try body.map { try JSONSerialization.data(withJSONObject: $0) }
        let reply = try await connection.send(method, institutionPath + path, body: encoded, headers: ServiceDesk.actor)
        guard reply.status == status else {
            throw ServiceRefusal(reply: reply)
        }
        return reply.body
    }

    /// `POST /v1/institutions/{i}/customers`: a new customer with a random id and Korean
    /// mobile number.
    func newCustomer() async throws -> ServiceCustomer {
        let digits = (0..<8).map { _ in String(Int.random(in: 0...9)) }.joined()
        let phone = "010-" + digits.prefix(4) + "-" + digits.suffix(4)
        let id = "swift-" + UUID().uuidString.lowercased()
        _ = try await call("POST", "/customers", ["customer": id, "name": "Demo Customer", "phone": phone], expect: 201)
        return ServiceCustomer(id: id, phone: phone, phoneE164: "+8210" + digits)
    }

    /// `POST …/customers/{c}/registration-codes` after the bank's own identity check
    /// (`verification_reference`): the app registration code, `1234-5678-9012`.
    func issueRegistrationCode(for customer: ServiceCustomer) async throws -> String {
        let body = try await call(
            "POST", "/customers/" + ServiceConnection.pathSegment(customer.id) + "/registration-codes",
            ["verification_reference": "kyc-1"], expect: 201
        )
        return try JSONDecoder().decode(CodeBody.self, from: body).registrationCode
    }

    /// `GET …/devices/DOTP/{serial}`: the device inquiry.
    func device(_ serialNumber: String) async throws -> DeviceView {
        let path = "/devices/" + ServiceConnection.pathSegment(mobileVendorCode()) + "/" + ServiceConnection.pathSegment(serialNumber)
        return try JSONDecoder().decode(DeviceView.self, from: try await call("GET", path, nil, expect: 200))
    }

    private struct CodeBody: Decodable {
        let registrationCode: String
        enum CodingKeys: String, CodingKey { case registrationCode = "registration_code" }
    }
}

/// What the device inquiry says (docs/openapi.yaml, `Device`; the fields the tests read).
struct DeviceView: Decodable {
    /// `active`, `locked`, `lost`, `stolen`, `cancelled`.
    let state: String
    /// Consecutive wrong codes, counted by the bank.
    let errorCount: Int
    /// App password evaluations left before the lock, counted by the bank.
    let appPasswordAttemptsLeft: Int?
    /// The device's registrations, oldest first.
    let registrations: [RegistrationView]

    struct RegistrationView: Decodable {
        let institution: String
        let customer: String
        /// `pending`, `active`, `cancelled`, `revoked`.
        let state: String
    }

    enum CodingKeys: String, CodingKey {
        case state
        case errorCount = "error_count"
        case appPasswordAttemptsLeft = "app_password_attempts_left"
        case registrations
    }
}

/// A `BankApi` that sends each call to the service, or (for the calls taken offline) to an
/// address where nothing listens: a real transport failure, not a thrown stand-in.
final class ReroutableBank: BankApi, @unchecked Sendable {
    /// Port 1 on loopback: nothing listens there (binding it needs root, and no service
    /// uses it), so a connection is refused at once.
    static let nowhere = URL(string: "http://127.0.0.1:1")!

    let live: ServiceBankApi
    private let dead: ServiceBankApi
    private let lock = NSLock()
    private var offlineCalls: Set<BankCall> = []
    private var callCounts: [BankCall: Int] = [:]

    init(_ live: ServiceBankApi, channelKey: String) {
        self.live = live
        dead = ServiceBankApi(
            baseURL: ReroutableBank.nowhere, institutionId: live.institutionId, channelKey: channelKey,
            customerId: live.customerId, timeout: 30
        )
    }

    /// While true, every call goes nowhere.
    var unreachable: Bool {
        get { lock.withLock { offlineCalls == Set(BankCall.allCases) } }
        set { lock.withLock { offlineCalls = newValue ? Set(BankCall.allCases) : [] } }
    }

    /// Takes only `calls` offline.
    func setOffline(_ calls: Set<BankCall>) {
        lock.withLock { offlineCalls = calls }
    }

    /// How many calls of `call` were made (reachable or not).
    func calls(_ call: BankCall) -> Int {
        lock.withLock { callCounts[call, default: 0] }
    }

    private func route(_ call: BankCall) -> ServiceBankApi {
        lock.withLock {
            callCounts[call, default: 0] += 1
            return offlineCalls.contains(call) ? dead : live
        }
    }

    func register(request: Data) async throws -> Data {
        try await route(.register).register(request: request)
    }

    func confirmRegistration(confirmation: Data) async throws -> Data {
        try await route(.confirmRegistration).confirmRegistration(confirmation: confirmation)
    }

    func unlock(request: Data) async throws -> Data {
        try await route(.unlock).unlock(request: request)
    }

    func verifyLogin(institutionId: String, serialNumber: String, code: String) async throws -> Bool {
        try await route(.verify).verifyLogin(institutionId: institutionId, serialNumber: serialNumber, code: code)
    }

    func verifyTransfer(institutionId: String, serialNumber: String, code: String, transaction: Transaction) async throws -> Bool {
        try await route(.verify).verifyTransfer(
            institutionId: institutionId, serialNumber: serialNumber, code: code, transaction: transaction
        )
    }
}

/// The app on one phone (in-memory Keychain stores, a `FakeEnclave`) and the bank's
/// service, for one new customer of the desk. The clock is the real one (`DeviceClock`):
/// the service verifies codes and unlock times against its own.
final class ServiceWorld {
    let environment: ServiceEnvironment
    let desk: ServiceDesk
    let customer: ServiceCustomer
    let clock = DeviceClock()
    let store = MemoryStore()
    let profile = MemoryStore()
    let keyHandles = MemoryStore()
    let enclave = FakeEnclave()
    let keys: HardwareDeviceKeys
    /// The flow's bank: the service, or nowhere for the calls taken offline.
    let bank: ReroutableBank
    let flow: OtpFlow

    /// A new customer at the desk and a fresh phone, its flow over `ServiceBankApi`
    /// (channel key, the customer's id as the bank's session), or, with `channelKey`, over
    /// another key.
    init(_ environment: ServiceEnvironment, channelKey: String? = nil) async throws {
        self.environment = environment
        desk = ServiceDesk(environment)
        customer = try await desk.newCustomer()
        keys = HardwareDeviceKeys(hardware: enclave, handles: keyHandles, attester: nil)
        let key = channelKey ?? environment.channelKey
        let live = ServiceBankApi(
            baseURL: environment.url, institutionId: environment.institution, channelKey: key, customerId: customer.id,
            timeout: 30
        )
        bank = ReroutableBank(live, channelKey: key)
        flow = OtpFlow(
            otp: DigitalOtp.withClock(store: store, keys: keys, clock: clock),
            bank: bank,
            clock: clock,
            profile: profile,
            config: FlowConfig(institutionId: environment.institution, deviceId: Fixture.deviceId, codeScreenSeconds: 60)
        )
    }

    /// The service itself, as the flow's bank sees it when reachable.
    var service: ServiceBankApi { bank.live }

    /// What no message on screen may contain: the passwords, the phone number, the device
    /// id, and the API keys.
    private var secrets: [String] {
        [Fixture.password, Fixture.otherPassword, Fixture.wrongPassword, customer.phone, customer.phoneE164,
         Fixture.deviceId, environment.channelKey, environment.staffKey]
    }

    /// Sends `event`; checks that no message on screen reveals a secret.
    @discardableResult
    func send(_ event: FlowEvent, file: StaticString = #filePath, line: UInt = #line) async -> FlowState {
        let state = await flow.send(event)
        if let message = state.notice?.message {
            for secret in secrets {
                XCTAssertFalse(message.contains(secret), "the message reveals a secret: \(message)", file: file, line: line)
            }
        }
        if case .bankUnavailable(let reason) = state.notice {
            for secret in secrets {
                XCTAssertFalse(reason.contains(secret), "the reason reveals a secret: \(reason)", file: file, line: line)
            }
        }
        return state
    }

    /// The SDK's view of the stores.
    func credentials() throws -> [CredentialInfo] {
        let app = DigitalOtp.withClock(store: store, keys: keys, clock: clock)
        return try app.credentials(device: try DeviceInfo(phoneNumber: customer.phone, deviceId: Fixture.deviceId))
    }

    /// Start, a code from the desk, enrollment, password setup: the home screen of a new,
    /// pending credential.
    @discardableResult
    func register(file: StaticString = #filePath, line: UInt = #line) async throws -> CredentialInfo {
        if case .starting = await flow.state {
            await send(.start, file: file, line: line)
        }
        let code = try await desk.issueRegistrationCode(for: customer)
        let setup = await send(.submitEnrollment(registrationCode: code, phoneNumber: customer.phone), file: file, line: line)
        XCTAssertEqual(setup, .passwordSetup(notice: nil), file: file, line: line)
        let home = await send(.choosePassword(password: Fixture.password, confirmation: Fixture.password), file: file, line: line)
        let credential = try homeCredential(home, file: file, line: line)
        XCTAssertEqual(home.notice, .registered, file: file, line: line)
        XCTAssertEqual(credential.status, .pending, file: file, line: line)
        return credential
    }

    /// From home: a login code with `password`; the code screen.
    func loginCode(password: String = Fixture.password, file: StaticString = #filePath, line: UInt = #line) async throws -> CodeScreen {
        let prompt = await send(.requestLoginCode, file: file, line: line)
        XCTAssertEqual(prompt, .passwordEntry(purpose: .login, notice: nil), file: file, line: line)
        let shown = await send(.enterPassword(password), file: file, line: line)
        return try codeScreen(shown, file: file, line: line)
    }

    /// Register, then activate with a first login code: the active credential.
    func registerAndActivate(file: StaticString = #filePath, line: UInt = #line) async throws -> CredentialInfo {
        try await register(file: file, line: line)
        _ = try await loginCode(file: file, line: line)
        let activated = await send(.submitCode, file: file, line: line)
        XCTAssertEqual(activated.notice, .activated, file: file, line: line)
        let credential = try homeCredential(activated, file: file, line: line)
        XCTAssertEqual(credential.status, .active, file: file, line: line)
        return credential
    }
}

// MARK: - A server that answers every request alike

/// An HTTP/1.1 server on a free loopback port that answers every request with the same
/// status, headers and body, and counts the requests it read: what the real service
/// answers only when it fails (5xx) or is flooded (429). POSIX sockets, one thread.
final class CannedHTTPServer: @unchecked Sendable {
    /// `http://127.0.0.1:PORT`.
    let url: URL
    private let listener: Int32
    private let response: Data
    private let lock = NSLock()
    private var requestCount = 0

    struct SocketFailure: Error, CustomStringConvertible {
        let call: String
        var description: String { "\(call) failed (errno \(errno))" }
    }

    init(status: Int, reason: String, headers: [String: String] = [:], body: String) throws {
        #if os(Linux)
        let stream = Int32(SOCK_STREAM.rawValue)
        #else
        let stream = SOCK_STREAM
        #endif
        let fd = socket(AF_INET, stream, 0)
        guard fd >= 0 else { throw SocketFailure(call: "socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let size = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, size) }
        }
        var length = size
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard bound == 0, listen(fd, 16) == 0, named == 0 else {
            close(fd)
            throw SocketFailure(call: "bind/listen")
        }
        listener = fd
        url = URL(string: "http://127.0.0.1:\(UInt16(bigEndian: address.sin_port))")!
        var head = "HTTP/1.1 \(status) \(reason)\r\nContent-Type: application/json\r\n"
        for (name, value) in headers {
            head += "\(name): \(value)\r\n"
        }
        let bodyData = Data(body.utf8)
        head += "Content-Length: \(bodyData.count)\r\nConnection: close\r\n\r\n"
        response = Data(head.utf8) + bodyData
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    /// Requests read and answered.
    var requests: Int { lock.withLock { requestCount } }

    /// Stops listening (the thread's `accept` fails and it ends).
    func stop() {
        #if os(Linux)
        shutdown(listener, Int32(SHUT_RDWR))
        #else
        shutdown(listener, SHUT_RDWR)
        #endif
        close(listener)
    }

    private func serve() {
        while true {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            readRequest(connection)
            lock.withLock { requestCount += 1 }
            response.withUnsafeBytes { bytes in
                var sent = 0
                while sent < bytes.count {
                    let n = send(connection, bytes.baseAddress! + sent, bytes.count - sent, 0)
                    if n <= 0 { break }
                    sent += n
                }
            }
            close(connection)
        }
    }

    /// Reads the head and a body of Content-Length bytes, so that closing does not reset
    /// a request still being sent.
    private func readRequest(_ connection: Int32) {
        var received = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        let separator = Data("\r\n\r\n".utf8)
        var expected: Int?
        while true {
            if expected == nil, let end = received.range(of: separator) {
                let head = String(decoding: received[..<end.lowerBound], as: UTF8.self).lowercased()
                let length = head.split(separator: "\r\n")
                    .first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                expected = end.upperBound + length
            }
            if let expected, received.count >= expected { return }
            let n = recv(connection, &buffer, buffer.count, 0)
            if n <= 0 { return }
            received.append(contentsOf: buffer[0..<n])
        }
    }
}
