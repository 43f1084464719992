import DigitalOTP
import Foundation
import XCTest

/// OtpSecret generation, decoding and redaction; OcraPin redaction; OCRA suite information;
/// hash names.
final class SecretAndSuiteTests: XCTestCase {
    func testGenerateIs160BitsAndRedacted() throws {
        let secret = try OtpSecret.generate()
        XCTAssertEqual(secret.byteLength(), 20)
        let encoded = secret.toBase32()
        XCTAssertEqual(encoded.count, 32)
        XCTAssertTrue(matchesWhole(encoded, "[A-Z2-7]{32}"), "unpadded upper-case base32: \(encoded)")
        XCTAssertEqual(secret.description, "<redacted secret>")
        for text in [String(describing: secret), String(reflecting: secret), "\(secret)"] {
            XCTAssertFalse(text.contains(encoded))
            XCTAssertFalse(text.contains(String(encoded.prefix(8))))
        }
        XCTAssertEqual(try OtpSecret.fromBase32(text: encoded), secret)
        XCTAssertNotEqual(try OtpSecret.generate(), secret)
    }

    func testOcraPinIsRedactedAndNotPartOfOcraInput() throws {
        let hashHex = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
        let pins = [OcraPin.plain(pin: "98765432"), OcraPin.hashed(hash: Data(hexString: hashHex))]
        for pin in pins {
            XCTAssertEqual(pin.description, "<redacted PIN>")
            for text in [String(describing: pin), String(reflecting: pin), "\(pin)"] {
                XCTAssertFalse(text.contains("98765432"), text)
                XCTAssertFalse(text.lowercased().contains(String(hashHex.prefix(8))), text)
            }
        }
        // OcraInput has no PIN field any more, so its string form cannot show one.
        let input = OcraInput(question: "12345678", counter: 1, timeSteps: 5)
        for text in [String(describing: input), String(reflecting: input), "\(input)"] {
            XCTAssertFalse(text.lowercased().contains("pin"), text)
            XCTAssertTrue(text.contains("12345678"), text)
        }
        let labels = Mirror(reflecting: input).children.compactMap { $0.label }
        XCTAssertEqual(labels, ["question", "counter", "session", "timeSteps"])
        // The PIN goes beside the input: RFC 6287 Appendix C, counter 0.
        let ocra = try Ocra(suite: "OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1", key: try OtpSecret.fromHex(text: Keys.sha256Hex))
        XCTAssertEqual(
            try ocra.generate(input: OcraInput(question: "12345678", counter: 0), pin: OcraPin.plain(pin: "1234")),
            "65347737"
        )
    }

    func testGenerateWithLength() throws {
        XCTAssertEqual(try OtpSecret.generateWithLength(byteLength: 32).byteLength(), 32)
        XCTAssertEqual(try OtpSecret.generateWithLength(byteLength: 64).byteLength(), 64)
    }

    func testDecodersAgreeAndEquality() throws {
        let fromHex = try OtpSecret.fromHex(text: Keys.sha1Hex)
        let fromUpperHex = try OtpSecret.fromHex(text: Keys.sha1Hex.uppercased())
        let fromBytes = try OtpSecret.fromBytes(bytes: Data("12345678901234567890".utf8))
        let fromBase32 = try OtpSecret.fromBase32(text: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
        XCTAssertEqual(fromHex, fromUpperHex)
        XCTAssertEqual(fromHex, fromBytes)
        XCTAssertEqual(fromHex, fromBase32)
        XCTAssertEqual(fromHex.byteLength(), 20)
        XCTAssertNotEqual(fromHex, try OtpSecret.fromHex(text: Keys.sha256Hex))
    }

    func testBase32ToleratesCaseSpacesHyphensAndPadding() throws {
        for text in ["jbswy3dpehpk3pxp", "JBSW Y3DP EHPK 3PXP", "JBSW-Y3DP-EHPK-3PXP"] {
            let secret = try OtpSecret.fromBase32(text: text)
            XCTAssertEqual(secret.toBase32(), Keys.exampleBase32, text)
            XCTAssertEqual(secret.byteLength(), 10, text)
        }
        // 12 bytes 01...0c: 20 base32 characters and 4 padding characters.
        let padded = "AEBAGBAFAYDQQCIKBMGA===="
        let secret = try OtpSecret.fromBase32(text: padded)
        XCTAssertEqual(secret, try OtpSecret.fromBytes(bytes: Data((1...12).map { UInt8($0) })))
        XCTAssertEqual(secret.toBase32(), "AEBAGBAFAYDQQCIKBMGA")
    }

    func testHashAlgorithmFromName() throws {
        let cases: [(name: String, expected: HashAlgorithm)] = [
            ("SHA1", .sha1), ("sha1", .sha1), ("SHA-256", .sha256), ("sha256", .sha256), ("Sha512", .sha512),
        ]
        for c in cases {
            XCTAssertEqual(try hashAlgorithmFromName(name: c.name), c.expected, c.name)
        }
    }

    func testOcraSuiteInfo() throws {
        let cases: [OcraSuiteInfo] = [
            OcraSuiteInfo(
                suite: "OCRA-1:HOTP-SHA1-6:QN08", algorithm: .sha1, digits: 6, usesCounter: false,
                questionFormat: .numeric, questionLength: 8, pinHash: nil, sessionLength: nil, timeStepSeconds: nil
            ),
            OcraSuiteInfo(
                suite: "OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1", algorithm: .sha256, digits: 8, usesCounter: true,
                questionFormat: .numeric, questionLength: 8, pinHash: .sha1, sessionLength: nil, timeStepSeconds: nil
            ),
            OcraSuiteInfo(
                suite: "OCRA-1:HOTP-SHA512-8:QA10-T1M", algorithm: .sha512, digits: 8, usesCounter: false,
                questionFormat: .alphanumeric, questionLength: 10, pinHash: nil, sessionLength: nil, timeStepSeconds: 60
            ),
            OcraSuiteInfo(
                suite: "OCRA-1:HOTP-SHA256-10:C-QH64-PSHA512-S512-T48H", algorithm: .sha256, digits: 10, usesCounter: true,
                questionFormat: .hex, questionLength: 64, pinHash: .sha512, sessionLength: 512, timeStepSeconds: 172_800  // 48 hours
            ),
            OcraSuiteInfo(
                suite: "OCRA-1:HOTP-SHA1-4:QA04-S001-T30S", algorithm: .sha1, digits: 4, usesCounter: false,
                questionFormat: .alphanumeric, questionLength: 4, pinHash: nil, sessionLength: 1, timeStepSeconds: 30
            ),
            // The Kotlin OcraTest's suites: every field, a minimal suite, a hex question with hours.
            OcraSuiteInfo(
                suite: "OCRA-1:HOTP-SHA512-8:C-QN08-PSHA256-S128-T30S", algorithm: .sha512, digits: 8, usesCounter: true,
                questionFormat: .numeric, questionLength: 8, pinHash: .sha256, sessionLength: 128, timeStepSeconds: 30
            ),
            OcraSuiteInfo(
                suite: "OCRA-1:HOTP-SHA1-6:QA64", algorithm: .sha1, digits: 6, usesCounter: false,
                questionFormat: .alphanumeric, questionLength: 64, pinHash: nil, sessionLength: nil, timeStepSeconds: nil
            ),
            OcraSuiteInfo(
                suite: "OCRA-1:HOTP-SHA256-10:QH40-T2H", algorithm: .sha256, digits: 10, usesCounter: false,
                questionFormat: .hex, questionLength: 40, pinHash: nil, sessionLength: nil, timeStepSeconds: 7_200
            ),
        ]
        for expected in cases {
            XCTAssertEqual(try parseOcraSuite(suite: expected.suite), expected)
            let ocra = try Ocra(suite: expected.suite, key: try OtpSecret.fromHex(text: Keys.sha256Hex))
            XCTAssertEqual(ocra.suite(), expected)
            let steps = ocra.timeStepsAt(unixTime: 1_206_446_790)
            if let stepSeconds = expected.timeStepSeconds {
                XCTAssertEqual(steps, 1_206_446_790 / stepSeconds, expected.suite)
            } else {
                XCTAssertNil(steps, expected.suite)
            }
        }
    }

    func testSecretsAreEqualByContentWhateverTheEncodingTheyCameFrom() throws {
        let hex = try OtpSecret.fromHex(text: Keys.sha1Hex)
        let others = [
            try OtpSecret.fromBase32(text: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
            try OtpSecret.fromBytes(bytes: Data("12345678901234567890".utf8)),
            // Lower case, spaces, hyphens and padding are tolerated.
            try OtpSecret.fromBase32(text: "gezd gnbv-gy3t qojq gezd gnbv gy3t qojq"),
            try OtpSecret.fromHex(text: Keys.sha1Hex.uppercased()),
        ]
        for other in others {
            XCTAssertEqual(hex, other)
            XCTAssertEqual(other, hex)
            // Hashable agrees with ==.
            XCTAssertEqual(hex.hashValue, other.hashValue)
        }
        XCTAssertEqual(hex, hex)
        XCTAssertEqual(Set(others + [hex]).count, 1)
        XCTAssertEqual(hex.toBase32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
        XCTAssertEqual(hex.byteLength(), 20)

        let padded = try OtpSecret.fromBase32(text: "GEZDGNBVGY3TQOJQGE======")
        XCTAssertEqual(padded, try OtpSecret.fromHex(text: "3132333435363738393031"))
        XCTAssertEqual(padded.toBase32(), "GEZDGNBVGY3TQOJQGE")

        XCTAssertNotEqual(hex, try OtpSecret.fromHex(text: "3132333435363738393031323334353637383931"))
        XCTAssertNotEqual(hex, try OtpSecret.fromHex(text: Keys.sha1Hex + "00"), "a longer secret")
        XCTAssertEqual(Set([hex, padded, try OtpSecret.fromHex(text: Keys.sha1Hex + "00")]).count, 3)
    }

    /// Kotlin closes the secret; in Swift it is freed when the last reference goes.
    func testObjectsStayUsableAfterTheSecretTheyWereBuiltFromIsFreed() throws {
        weak var released: OtpSecret?
        let totp: Totp = try {
            let secret = try OtpSecret.fromHex(text: Keys.sha1Hex)
            released = secret
            return try Totp(secret: secret, algorithm: .sha1, digits: 8, periodSeconds: 30, t0: 0)
        }()
        XCTAssertNil(released, "the secret object is freed")
        // RFC 6238 Appendix B, SHA-1 at T = 59.
        XCTAssertEqual(try totp.codeAt(unixTime: 59).code, "94287082")
    }

    /// On Linux the tests link `libdigital_otp.so` dynamically: the one loaded must be the
    /// library of this checkout (`target/debug`, or `DIGITALOTP_NATIVE_DIR`), not a stale
    /// copy elsewhere. On Apple platforms the library is linked statically.
    func testTheNativeLibraryIsTheOneBuiltInTarget() throws {
        #if os(Linux)
        XCTAssertEqual(try OtpSecret.fromHex(text: Keys.sha1Hex).byteLength(), 20)  // a call into the library
        let expectedDirectory = ProcessInfo.processInfo.environment["DIGITALOTP_NATIVE_DIR"]
            .map { URL(fileURLWithPath: $0) }
            ?? repositoryRoot.appendingPathComponent("target").appendingPathComponent("debug")
        // Read to the end: /proc files have no size, which String(contentsOfFile:) relies on.
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/self/maps"))
        defer { try? handle.close() }
        let maps = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
        let loaded = Set(maps.split(separator: "\n").compactMap { line -> String? in
            guard let slash = line.firstIndex(of: "/") else { return nil }
            let path = String(line[slash...])
            return path.hasSuffix("/libdigital_otp.so") ? path : nil
        })
        XCTAssertEqual(loaded.count, 1, "libdigital_otp.so mapped from: \(loaded)")
        let path = try XCTUnwrap(loaded.first)
        XCTAssertEqual(
            URL(fileURLWithPath: path).resolvingSymlinksInPath().deletingLastPathComponent().path,
            expectedDirectory.resolvingSymlinksInPath().path,
            "libdigital_otp.so loaded from \(path)"
        )
        #else
        throw XCTSkip("the Rust library is linked statically on this platform")
        #endif
    }
}
