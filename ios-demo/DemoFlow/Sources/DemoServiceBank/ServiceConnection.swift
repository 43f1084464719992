import DemoFlow
import Foundation
#if canImport(FoundationNetworking)
// On Linux URLSession lives in FoundationNetworking (swift-corelibs-foundation, over libcurl).
import FoundationNetworking
#endif

// =====================================================================================
//  DEMO ONLY: the HTTP of the issuer service (`dotp issuer serve`, docs/openapi.yaml),
//  with one API key. An API key is a SERVER credential: see ServiceBankApi.swift.
// =====================================================================================

/// What the issuer service answered: the status and the body, as they are.
public struct ServiceReply: Sendable {
    /// The HTTP status.
    public let status: Int
    /// The body (JSON: the SDK's message, a verdict, or the service's `Error`).
    public let body: Data

    /// A reply of `status` with `body`.
    public init(status: Int, body: Data) {
        self.status = status
        self.body = body
    }

    /// The `error` code of an `Error` body (`unauthorized`, `unknown_customer`, …), if it is one.
    public var errorCode: String? { errorBody?.error }

    /// The `message` of an `Error` body (a sentence; never a code, secret or personal data).
    public var errorMessage: String? { errorBody?.message }

    private struct ErrorBody: Decodable {
        let error: String
        let message: String
    }

    private var errorBody: ErrorBody? { try? JSONDecoder().decode(ErrorBody.self, from: body) }
}

/// A refusal by the issuer service that trying again will not change: a 4xx status other
/// than 429 (an API key that is not valid or may not do this, an unknown customer, a
/// malformed request). Its description names the status and the service's code, so that
/// it is not mistaken for a bank that could not be reached.
public struct ServiceRefusal: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// The HTTP status.
    public let status: Int
    /// The service's stable error code (`unauthorized`, `forbidden`, `unknown_customer`, …),
    /// or `http_<status>` when the body was not the service's `Error`.
    public let code: String
    /// The service's sentence.
    public let message: String

    /// A refusal with `status`, `code` and `message`.
    public init(status: Int, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    /// `reply`'s refusal, from its `Error` body when it has one.
    public init(reply: ServiceReply) {
        self.init(
            status: reply.status,
            code: reply.errorCode ?? "http_\(reply.status)",
            message: reply.errorMessage ?? HTTPURLResponse.localizedString(forStatusCode: reply.status)
        )
    }

    /// What the flow shows: the status, the code and the service's sentence.
    public var description: String { "the bank refused the request (\(status) \(code): \(message))" }

    /// The same as `description`.
    public var errorDescription: String? { description }
}

/// One API key's calls to the issuer service at `baseURL` (plain HTTP on loopback for
/// the demo; HTTPS anywhere else). JSON in, the status and the body out.
///
/// It does not decide what a status means, except that a call which never got an answer
/// (no connection, a timeout, a broken transfer), a 5xx answer and a 429 (rate limited)
/// throw `BankApiError`: the bank could not serve now, nothing was done, try again.
///
/// DEMO ONLY: whoever holds the key can make every call its role allows for every
/// customer of the institution. It belongs on the bank's servers (see `ServiceBankApi`).
public final class ServiceConnection: Sendable {
    /// The service's base URL, e.g. `http://127.0.0.1:8470` (a path prefix is kept).
    public let baseURL: URL
    /// How long one call may take, in seconds (connection included) before it counts as
    /// unreachable.
    public let timeout: TimeInterval
    private let apiKey: String
    private let session: URLSession

    /// Calls to `baseURL` authenticated by `apiKey` (`dotp_<id>_<secret>`, sent as
    /// `Authorization: Bearer …`), each given `timeout` seconds, over an ephemeral session
    /// of its own: no cookies, no cache, and no redirect followed (the service never
    /// redirects, and a redirect followed would carry the key elsewhere: a 3xx is returned
    /// as it is).
    public init(baseURL: URL, apiKey: String, timeout: TimeInterval = 30) {
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.timeout = timeout
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        session = URLSession(configuration: configuration, delegate: NoRedirects(), delegateQueue: nil)
    }

    deinit {
        // A session keeps its delegate until invalidated.
        session.finishTasksAndInvalidate()
    }

    /// `segment` for a URL path: every character but `A-Z a-z 0-9 . _ - ~` percent-encoded.
    public static func pathSegment(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: unreserved) ?? segment
    }

    /// RFC 3986's unreserved characters.
    private static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-~"
    )

    /// Sends `method path` (`path` starts with `/`, its segments already encoded by
    /// `pathSegment`) with `body` as `application/json`, and returns the reply, whatever its
    /// status below 500 other than 429. Throws `BankApiError` when the service could not
    /// be reached or could not serve (5xx, 429).
    public func send(_ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:]) async throws -> ServiceReply {
        var base = baseURL.absoluteString
        while base.hasSuffix("/") {
            base.removeLast()
        }
        guard let url = URL(string: base + path) else {
            throw BankApiError(reason: "the bank's address is not a URL")
        }
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.httpMethod = method
        request.setValue("Bearer " + apiKey, forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        for (name, value) in headers {
            request.setValue(value, forHTTPHeaderField: name)
        }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch {
            // No answer: refused, timed out, reset. The reason names the failure, never the key.
            throw BankApiError(reason: "the bank cannot be reached (\(ServiceConnection.describe(error)))")
        }
        guard let http = response as? HTTPURLResponse else {
            throw BankApiError(reason: "the bank's answer is not HTTP")
        }
        let reply = ServiceReply(status: http.statusCode, body: data)
        if http.statusCode >= 500 {
            throw BankApiError(reason: "the bank cannot serve now (\(http.statusCode)\(reply.errorCode.map { " " + $0 } ?? ""))")
        }
        if http.statusCode == 429 {
            let wait = http.value(forHTTPHeaderField: "Retry-After").map { "; try again in \($0) s" } ?? ""
            throw BankApiError(reason: "the bank is busy (429 rate_limited\(wait))")
        }
        return reply
    }

    /// A short description of a transport failure: the URL error's code and text.
    private static func describe(_ error: Error) -> String {
        if let urlError = error as? URLError {
            return "URLError \(urlError.code.rawValue): \(urlError.localizedDescription)"
        }
        return error.localizedDescription
    }
}

/// Refuses every redirect: the task completes with the 3xx answer itself.
private final class NoRedirects: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(
        _ session: URLSession,
        task: URLSessionTask,
        willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest,
        completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}
