import Foundation
import XCTest
import DigitalOTP

// MARK: - RFC test vectors (tests/vectors/*.json at the repository root)

struct VectorFile<Vector: Decodable>: Decodable {
    let vectors: [Vector]
}

struct HotpVector: Decodable {
    let algorithm: String
    let keyHex: String
    let counter: UInt64
    let digits: UInt8
    let code: String
}

struct TotpVector: Decodable {
    let algorithm: String
    let keyHex: String
    let time: UInt64
    let period: UInt64
    let t0: UInt64
    let digits: UInt8
    let code: String
}

struct OcraVector: Decodable {
    let suite: String
    let keyHex: String
    let question: String
    let counter: UInt64?
    let pin: String?
    let timeSteps: UInt64?
    let response: String

    /// The inputs other than the PIN (which is never part of `OcraInput`).
    var input: OcraInput {
        OcraInput(question: question, counter: counter, timeSteps: timeSteps)
    }

    /// The vector's PIN as the separate `pin:` argument, or nil if its suite has none.
    var ocraPin: OcraPin? {
        pin.map { OcraPin.plain(pin: $0) }
    }
}

enum Vectors {
    /// `<repo>/tests/vectors`, found from this file's path:
    /// `<repo>/bindings/swift/Tests/DigitalOTPTests/Support.swift`.
    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // DigitalOTPTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // swift
        .deletingLastPathComponent()  // bindings
        .deletingLastPathComponent()  // repository root
        .appendingPathComponent("tests")
        .appendingPathComponent("vectors")

    static func load<Vector: Decodable>(_ name: String, as type: Vector.Type) throws -> [Vector] {
        let url = directory.appendingPathComponent(name + ".json")
        let data = try Data(contentsOf: url)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(VectorFile<Vector>.self, from: data).vectors
    }

    static func hotp() throws -> [HotpVector] { try load("hotp", as: HotpVector.self) }
    static func totp() throws -> [TotpVector] { try load("totp", as: TotpVector.self) }
    static func ocra() throws -> [OcraVector] { try load("ocra", as: OcraVector.self) }
}

// MARK: - Keys

enum Keys {
    /// RFC 4226 / 6238 / 6287 test keys: "1234567890" repeated to the hash size.
    static let sha1Hex = "3132333435363738393031323334353637383930"
    static let sha256Hex = sha1Hex + "313233343536373839303132"
    static let sha512Hex = sha1Hex + sha1Hex + sha1Hex + "31323334"
    /// The SHA-1 key in base32.
    static let sha1Base32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    /// Google Authenticator's example secret.
    static let exampleBase32 = "JBSWY3DPEHPK3PXP"

    static func rfcSecret() throws -> OtpSecret {
        try OtpSecret.fromHex(text: sha1Hex)
    }
}

extension Data {
    /// Decodes an even number of hex digits (test helper; traps on bad input).
    init(hexString: String) {
        var bytes: [UInt8] = []
        var index = hexString.startIndex
        while index < hexString.endIndex {
            let next = hexString.index(index, offsetBy: 2)
            bytes.append(UInt8(hexString[index..<next], radix: 16)!)
            index = next
        }
        self.init(bytes)
    }
}

// MARK: - Typed errors

enum OtpErrorKind: String {
    case invalidSecret
    case invalidParameter
    case malformedCode
    case invalidOcraSuite
    case invalidOcraInput
    case invalidUri
    case randomSourceFailed
    /// A variant added to OtpError after these tests were written.
    case other
}

extension OtpError {
    var kind: OtpErrorKind {
        switch self {
        case .InvalidSecret: return .invalidSecret
        case .InvalidParameter: return .invalidParameter
        case .MalformedCode: return .malformedCode
        case .InvalidOcraSuite: return .invalidOcraSuite
        case .InvalidOcraInput: return .invalidOcraInput
        case .InvalidUri: return .invalidUri
        case .RandomSourceFailed: return .randomSourceFailed
        @unknown default: return .other
        }
    }

    var reasonText: String {
        switch self {
        case .InvalidSecret(let reason),
             .InvalidParameter(let reason),
             .MalformedCode(let reason),
             .InvalidOcraSuite(let reason),
             .InvalidOcraInput(let reason),
             .InvalidUri(let reason):
            return reason
        case .RandomSourceFailed:
            return ""
        @unknown default:
            return String(describing: self)
        }
    }
}

/// Asserts that `expression` throws an `OtpError` of `kind`, that its reason is not blank
/// (for the variants that have one) and contains `fragment` if one is given, and that
/// none of its descriptions or its reason contains any of `hiding` (ignoring case): the
/// secrets, codes and PINs given to the call. Returns the error (nil if the assertion
/// failed). The Swift twin of the Kotlin suite's `assertOtpError` / `assertReasonMentions`.
@discardableResult
func assertOtpError<T>(
    _ expression: @autoclosure () throws -> T,
    _ kind: OtpErrorKind,
    reasonContains fragment: String? = nil,
    hiding secrets: [String] = [],
    file: StaticString = #filePath,
    line: UInt = #line
) -> OtpError? {
    var caught: OtpError?
    XCTAssertThrowsError(try expression(), file: file, line: line) { error in
        guard let otpError = error as? OtpError else {
            XCTFail("expected OtpError.\(kind), got \(error)", file: file, line: line)
            return
        }
        XCTAssertEqual(otpError.kind, kind, "\(otpError)", file: file, line: line)
        let reason = otpError.reasonText
        if otpError.kind != .randomSourceFailed {
            XCTAssertFalse(
                reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty,
                "\(otpError.kind) has a blank reason", file: file, line: line
            )
        }
        if let fragment {
            XCTAssertTrue(
                reason.contains(fragment),
                "reason \"\(reason)\" does not contain \"\(fragment)\"",
                file: file, line: line
            )
        }
        let texts = [reason, String(describing: otpError), String(reflecting: otpError), otpError.localizedDescription]
        for secret in secrets where !secret.isEmpty {
            for text in texts {
                XCTAssertFalse(
                    text.lowercased().contains(secret.lowercased()),
                    "\(otpError.kind) reveals \"\(secret)\": \(text)",
                    file: file, line: line
                )
            }
        }
        caught = otpError
    }
    return caught
}

/// The repository root, found from this file's path:
/// `<repo>/bindings/swift/Tests/DigitalOTPTests/Support.swift`.
let repositoryRoot: URL = Vectors.directory
    .deletingLastPathComponent()  // tests
    .deletingLastPathComponent()  // repository root
