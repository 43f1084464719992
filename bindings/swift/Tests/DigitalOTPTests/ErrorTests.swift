import DigitalOTP
import Foundation
import XCTest

/// Bad input is refused with a typed OtpError whose reason names the fault and
/// never contains the secret, the PIN or the code.
final class ErrorTests: XCTestCase {
    func rfcTotp(t0: UInt64 = 0) throws -> Totp {
        try Totp(secret: try Keys.rfcSecret(), algorithm: .sha1, digits: 6, periodSeconds: 30, t0: t0)
    }

    func rfcHotp() throws -> Hotp {
        try Hotp(secret: try Keys.rfcSecret(), algorithm: .sha1, digits: 6)
    }

    func makeOcra(_ suite: String, keyHex: String = Keys.sha256Hex) throws -> Ocra {
        try Ocra(suite: suite, key: try OtpSecret.fromHex(text: keyHex))
    }

    func testSecrets() throws {
        assertOtpError(try OtpSecret.fromHex(text: "313233343536373839"), .invalidSecret, reasonContains: "80 bits")
        assertOtpError(try OtpSecret.fromBase32(text: "JBSWY3DP"), .invalidSecret, reasonContains: "80 bits")
        assertOtpError(try OtpSecret.fromBytes(bytes: Data(repeating: 1, count: 9)), .invalidSecret, reasonContains: "80 bits")
        assertOtpError(try OtpSecret.fromBytes(bytes: Data()), .invalidSecret, reasonContains: "empty")
        assertOtpError(try OtpSecret.generateWithLength(byteLength: 19), .invalidSecret, reasonContains: "20 bytes")
        assertOtpError(try OtpSecret.fromBase32(text: "JBSWY3DPEHPK3PX1"), .invalidSecret, reasonContains: "base32")
        assertOtpError(try OtpSecret.fromBase32(text: "JBSWY3DP!HPK3PXP"), .invalidSecret, reasonContains: "base32")
        assertOtpError(try OtpSecret.fromHex(text: String(repeating: "zz", count: 12)), .invalidSecret, reasonContains: "hexadecimal")
        assertOtpError(try OtpSecret.fromHex(text: Keys.sha1Hex + "0"), .invalidSecret, reasonContains: "hexadecimal")
    }

    func testParameters() throws {
        let secret = try Keys.rfcSecret()
        assertOtpError(try Totp(secret: secret, algorithm: .sha1, digits: 5, periodSeconds: 30, t0: 0), .invalidParameter, reasonContains: "digits")
        assertOtpError(try Totp(secret: secret, algorithm: .sha1, digits: 11, periodSeconds: 30, t0: 0), .invalidParameter, reasonContains: "digits")
        assertOtpError(try Hotp(secret: secret, algorithm: .sha1, digits: 5), .invalidParameter, reasonContains: "digits")
        assertOtpError(try Hotp(secret: secret, algorithm: .sha1, digits: 11), .invalidParameter, reasonContains: "digits")
        assertOtpError(try Totp(secret: secret, algorithm: .sha1, digits: 6, periodSeconds: 0, t0: 0), .invalidParameter, reasonContains: "period")
        assertOtpError(try Totp(secret: secret, algorithm: .sha1, digits: 6, periodSeconds: 3601, t0: 0), .invalidParameter, reasonContains: "period")
        assertOtpError(try hashAlgorithmFromName(name: "MD5"), .invalidParameter, reasonContains: "algorithm")
    }

    func testWindowsOver100() throws {
        let totp = try rfcTotp()
        assertOtpError(try totp.verify(code: "123456", unixTime: 1000, stepsBehind: 101, stepsAhead: 0), .invalidParameter, reasonContains: "window")
        assertOtpError(try totp.verify(code: "123456", unixTime: 1000, stepsBehind: 0, stepsAhead: 101), .invalidParameter, reasonContains: "window")
        assertOtpError(try rfcHotp().verify(code: "123456", counter: 0, behind: 0, ahead: 101), .invalidParameter, reasonContains: "window")
        let ocra = try makeOcra("OCRA-1:HOTP-SHA1-6:QN08", keyHex: Keys.sha1Hex)
        assertOtpError(
            try ocra.verify(response: "237653", input: OcraInput(question: "00000000"), behind: 101, ahead: 0),
            .invalidParameter, reasonContains: "window"
        )
    }

    func testTimeBeforeT0() throws {
        let totp = try rfcTotp(t0: 100)
        assertOtpError(try totp.codeAt(unixTime: 99), .invalidParameter, reasonContains: "T0")
        assertOtpError(try totp.timeStep(unixTime: 99), .invalidParameter, reasonContains: "T0")
        assertOtpError(try totp.verify(code: "123456", unixTime: 99, stepsBehind: 1, stepsAhead: 1), .invalidParameter, reasonContains: "T0")
    }

    func testMalformedCodes() throws {
        let totp = try rfcTotp()
        for code in ["12345", "1234567", "12a456", "", "12 456", "+12345", "１２３４５６", "٠١٢٣٤٥"] {
            assertOtpError(
                try totp.verify(code: code, unixTime: 1000, stepsBehind: 1, stepsAhead: 1),
                .malformedCode, reasonContains: "6 decimal digits"
            )
        }
        assertOtpError(try rfcHotp().verify(code: "755 224", counter: 0, behind: 0, ahead: 0), .malformedCode, reasonContains: "6 decimal digits")
        let ocra = try makeOcra("OCRA-1:HOTP-SHA1-6:QN08", keyHex: Keys.sha1Hex)
        assertOtpError(
            try ocra.verify(response: "23765", input: OcraInput(question: "00000000"), behind: 0, ahead: 0),
            .malformedCode, reasonContains: "digits"
        )
    }

    func testInvalidOcraSuites() throws {
        let cases: [(suite: String, fragment: String)] = [
            ("OCRA-2:HOTP-SHA1-6:QN08", "OCRA-2"),
            ("OCRA-1:HOTP-MD5-6:QN08", "HOTP-MD5-6"),
            ("OCRA-1:TOTP-SHA1-6:QN08", "TOTP-SHA1-6"),
            ("OCRA-1:HOTP-SHA1-3:QN08", "digits"),
            ("OCRA-1:HOTP-SHA1-11:QN08", "digits"),
            ("OCRA-1:HOTP-SHA1-6:QX08", "QX08"),
            ("OCRA-1:HOTP-SHA1-6:QN65", "QN65"),
            ("OCRA-1:HOTP-SHA1-6:QN08-PMD5", "PMD5"),
            ("OCRA-1:HOTP-SHA1-6:QN08-S999", "S999"),
            ("OCRA-1:HOTP-SHA1-6:QN08-T9Z", "T9Z"),
            ("OCRA-1:HOTP-SHA1-6:QN08-Z", "'Z'"),
            ("OCRA-1:HOTP-SHA1-6", "three parts"),
            ("", "three parts"),
        ]
        for c in cases {
            assertOtpError(try parseOcraSuite(suite: c.suite), .invalidOcraSuite, reasonContains: c.fragment)
            assertOtpError(try Ocra(suite: c.suite, key: try Keys.rfcSecret()), .invalidOcraSuite, reasonContains: c.fragment)
        }
    }

    func testOcraInputsThatDoNotMatchTheSuite() throws {
        let counterPin = try makeOcra("OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1")
        let pin = OcraPin.plain(pin: "1234")
        assertOtpError(
            try counterPin.generate(input: OcraInput(question: "12345678"), pin: pin),
            .invalidOcraInput, reasonContains: "counter"
        )
        assertOtpError(try counterPin.generate(input: OcraInput(question: "12345678", counter: 1)), .invalidOcraInput, reasonContains: "PIN")
        assertOtpError(
            try counterPin.generate(input: OcraInput(question: "12345678", counter: 1), pin: nil),
            .invalidOcraInput, reasonContains: "PIN"
        )
        assertOtpError(
            try counterPin.verify(response: "12345678", input: OcraInput(question: "12345678", counter: 1), behind: 0, ahead: 0),
            .invalidOcraInput, reasonContains: "PIN"
        )
        assertOtpError(
            try counterPin.generate(input: OcraInput(question: "12345678", counter: 1), pin: OcraPin.hashed(hash: Data(count: 19))),
            .invalidOcraInput, reasonContains: "20 bytes"
        )
        assertOtpError(
            try counterPin.verify(
                response: "12345678", input: OcraInput(question: "12345678", counter: 1), behind: 0, ahead: 0,
                pin: OcraPin.hashed(hash: Data(count: 21))
            ),
            .invalidOcraInput, reasonContains: "20 bytes"
        )
        // A hash of the right length is a valid input (just not the right PIN).
        XCTAssertNoThrow(try counterPin.generate(input: OcraInput(question: "12345678", counter: 1), pin: OcraPin.hashed(hash: Data(count: 20))))
        let sha256Pin = try makeOcra("OCRA-1:HOTP-SHA256-8:C-QN08-PSHA256")
        assertOtpError(
            try sha256Pin.generate(input: OcraInput(question: "12345678", counter: 1), pin: OcraPin.hashed(hash: Data(count: 20))),
            .invalidOcraInput, reasonContains: "32 bytes"
        )
        let noPin = try makeOcra("OCRA-1:HOTP-SHA1-6:QN08", keyHex: Keys.sha1Hex)
        assertOtpError(try noPin.generate(input: OcraInput(question: "00000000"), pin: pin), .invalidOcraInput, reasonContains: "PIN")
        assertOtpError(
            try noPin.generate(input: OcraInput(question: "00000000"), pin: OcraPin.hashed(hash: Data(count: 20))),
            .invalidOcraInput, reasonContains: "PIN"
        )
        let timed = try makeOcra("OCRA-1:HOTP-SHA512-8:QN08-T1M", keyHex: Keys.sha512Hex)
        assertOtpError(try timed.generate(input: OcraInput(question: "00000000")), .invalidOcraInput, reasonContains: "timestamp")
        let pinOnly = try makeOcra("OCRA-1:HOTP-SHA256-8:QN08-PSHA1")
        assertOtpError(
            try pinOnly.generate(input: OcraInput(question: "00000000", timeSteps: 5), pin: pin),
            .invalidOcraInput, reasonContains: "timestamp"
        )
        let session = try makeOcra("OCRA-1:HOTP-SHA1-6:QN08-S064", keyHex: Keys.sha1Hex)
        assertOtpError(try session.generate(input: OcraInput(question: "00000000")), .invalidOcraInput, reasonContains: "session")
        assertOtpError(
            try session.generate(input: OcraInput(question: "00000000", session: Data(count: 63))),
            .invalidOcraInput, reasonContains: "64 bytes"
        )
        let numeric = try makeOcra("OCRA-1:HOTP-SHA1-6:QN08", keyHex: Keys.sha1Hex)
        assertOtpError(try numeric.generate(input: OcraInput(question: "1234567a")), .invalidOcraInput, reasonContains: "decimal digits")
    }

    func testMalformedOtpauthUris() throws {
        let s = Keys.exampleBase32
        let cases: [(uri: String, fragment: String)] = [
            ("https://totp/Example:alice?secret=\(s)", "otpauth://"),
            ("otpauth://xotp/Example:alice?secret=\(s)", "totp or hotp"),
            ("otpauth://totp/Example:alice?issuer=Example", "secret"),
            ("otpauth://hotp/Example:alice?secret=\(s)", "counter"),
            ("otpauth://totp/Ex%ZZample:alice?secret=\(s)", "percent-encoding"),
            ("otpauth://totp/Example:alice?secret=\(s)&issuer=%E2%82", "percent-encoding"),
            ("otpauth://totp/Example:alice?secret=\(s)&digits=5", "digits"),
            ("otpauth://totp/Example:alice?secret=\(s)&period=0", "period"),
            ("otpauth://totp/Example:alice?secret=\(s)&algorithm=MD5", "algorithm"),
            ("otpauth://totp/Example:alice?secret=JBSWY3DP", "80 bits"),
            ("otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PX1", "base32"),
        ]
        for c in cases {
            assertOtpError(try OtpAuthUri.parse(uri: c.uri), .invalidUri, reasonContains: c.fragment)
        }
        // Building a URI from fields: a bad field is a bad parameter, not a malformed URI.
        let secret = try Keys.rfcSecret()
        assertOtpError(
            try OtpAuthUri.newTotp(issuer: "Ex:ample", account: "alice", secret: secret, algorithm: .sha1, digits: 6, periodSeconds: 30),
            .invalidParameter, reasonContains: "issuer"
        )
        assertOtpError(
            try OtpAuthUri.newTotp(issuer: nil, account: "", secret: secret, algorithm: .sha1, digits: 6, periodSeconds: 30),
            .invalidParameter, reasonContains: "account"
        )
        assertOtpError(
            try OtpAuthUri.newTotp(issuer: nil, account: "alice", secret: secret, algorithm: .sha1, digits: 5, periodSeconds: 30),
            .invalidParameter, reasonContains: "digits"
        )
        assertOtpError(
            try OtpAuthUri.newTotp(issuer: nil, account: "alice", secret: secret, algorithm: .sha1, digits: 6, periodSeconds: 0),
            .invalidParameter, reasonContains: "period"
        )
        assertOtpError(
            try OtpAuthUri.newHotp(issuer: nil, account: "alice", secret: secret, algorithm: .sha1, digits: 11, counter: 0),
            .invalidParameter, reasonContains: "digits"
        )
        let totpUri = try OtpAuthUri.parse(uri: "otpauth://totp/Example:alice?secret=\(s)")
        assertOtpError(try totpUri.hotp(), .invalidParameter, reasonContains: "totp")
        let hotpUri = try OtpAuthUri.parse(uri: "otpauth://hotp/Example:alice?secret=\(s)&counter=1")
        assertOtpError(try hotpUri.totp(), .invalidParameter, reasonContains: "hotp")
    }

    func testErrorsAreEquatableAndDescribed() throws {
        let first = assertOtpError(try OtpSecret.fromHex(text: "00"), .invalidSecret, reasonContains: "80 bits")
        let second = assertOtpError(try OtpSecret.fromHex(text: "00"), .invalidSecret, reasonContains: "80 bits")
        XCTAssertNotNil(first)
        XCTAssertEqual(first, second)
        XCTAssertNotEqual(first, OtpError.RandomSourceFailed)
        XCTAssertTrue((first?.localizedDescription ?? "").contains("80 bits"))
    }

    /// Secrets (and a PIN and a code) that must never show up in an error.
    func testErrorMessagesNeverContainTheSecret() throws {
        let long = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        let cases: [(secret: String, call: (String) throws -> Void)] = [
            ("JBSWY3DPEHPK3PX1", { s in _ = try OtpSecret.fromBase32(text: s) }),
            ("KRSXG5CT", { s in _ = try OtpSecret.fromBase32(text: s) }),
            ("3132333435363738393031323334353637383930zz", { s in _ = try OtpSecret.fromHex(text: s) }),
            ("deadbeefcafebabe01", { s in _ = try OtpSecret.fromHex(text: s) }),
            (long, { s in _ = try OtpAuthUri.parse(uri: "otpauth://totp/Bank:alice?secret=\(s)&digits=5") }),
            (long, { s in _ = try OtpAuthUri.parse(uri: "otpauth://totp/Bank:alice?secret=\(s)&period=99999") }),
            ("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1", { s in _ = try OtpAuthUri.parse(uri: "otpauth://totp/Bank:alice?secret=\(s)") }),
            ("GEZDGNBV", { s in _ = try OtpAuthUri.parse(uri: "otpauth://totp/Bank:alice?secret=\(s)") }),
            (long, { s in _ = try OtpAuthUri.parse(uri: "otpauth://hotp/Bank:alice?secret=\(s)") }),
            (long, { s in
                _ = try Totp(secret: try OtpSecret.fromBase32(text: s), algorithm: .sha1, digits: 5, periodSeconds: 30, t0: 0)
            }),
            ("98765432", { pin in
                let ocra = try Ocra(suite: "OCRA-1:HOTP-SHA1-6:QN08", key: try Keys.rfcSecret())
                _ = try ocra.generate(input: OcraInput(question: "00000000"), pin: OcraPin.plain(pin: pin))
            }),
            ("98765432", { pin in
                let ocra = try Ocra(suite: "OCRA-1:HOTP-SHA256-8:QN08-PSHA1", key: try OtpSecret.fromHex(text: Keys.sha256Hex))
                _ = try ocra.generate(input: OcraInput(question: "00000000", counter: 1), pin: OcraPin.plain(pin: pin))
            }),
            ("9876543298765432", { hashHex in
                let ocra = try Ocra(suite: "OCRA-1:HOTP-SHA256-8:QN08-PSHA1", key: try OtpSecret.fromHex(text: Keys.sha256Hex))
                _ = try ocra.generate(input: OcraInput(question: "00000000"), pin: OcraPin.hashed(hash: Data(hexString: hashHex)))
            }),
            ("9876543", { code in
                let totp = try Totp(secret: try Keys.rfcSecret(), algorithm: .sha1, digits: 6, periodSeconds: 30, t0: 0)
                _ = try totp.verify(code: code, unixTime: 1000, stepsBehind: 1, stepsAhead: 1)
            }),
        ]
        for (index, c) in cases.enumerated() {
            XCTAssertThrowsError(try c.call(c.secret), "case \(index)") { error in
                guard let otpError = error as? OtpError else {
                    XCTFail("case \(index): expected OtpError, got \(error)")
                    return
                }
                let texts = [
                    otpError.reasonText,
                    String(describing: otpError),
                    String(reflecting: otpError),
                    otpError.localizedDescription,
                ]
                for text in texts {
                    XCTAssertFalse(text.lowercased().contains(c.secret.lowercased()), "case \(index): \(text)")
                    XCTAssertFalse(text.lowercased().contains(String(c.secret.prefix(8)).lowercased()), "case \(index): \(text)")
                }
            }
        }
    }

    // MARK: - The Kotlin ErrorsTest's cases

    func testMalformedOrShortSecretsAreInvalidSecret() throws {
        let cases: [(name: String, call: () throws -> OtpSecret)] = [
            // 40 and 72 bits: under the 80-bit minimum.
            ("base32 of 40 bits", { try OtpSecret.fromBase32(text: "JBSWY3DP") }),
            ("base32 of 72 bits", { try OtpSecret.fromBase32(text: "JBSWY3DPEHPK3PI") }),
            ("hex of 72 bits", { try OtpSecret.fromHex(text: "313233343536373839") }),
            ("bytes of 72 bits", { try OtpSecret.fromBytes(bytes: Data(repeating: 0x5A, count: 9)) }),
            ("empty base32", { try OtpSecret.fromBase32(text: "") }),
            ("empty hex", { try OtpSecret.fromHex(text: "") }),
            ("empty bytes", { try OtpSecret.fromBytes(bytes: Data()) }),
            ("base32 with 1, 8, 0 and 9", { try OtpSecret.fromBase32(text: "JBSWY3DPEHPK3P18") }),
            ("base32 with punctuation", { try OtpSecret.fromBase32(text: "JBSWY3DP!EHPK3PXP") }),
            ("base32 with padding in the middle", { try OtpSecret.fromBase32(text: "JBSWY3DP==EHPK3PXP") }),
            ("base32 of impossible length", { try OtpSecret.fromBase32(text: "JBSWY3DPEHPK3PXPA") }),
            ("hex with non-hex letters", { try OtpSecret.fromHex(text: "31323334353637383930zz") }),
            ("hex of odd length", { try OtpSecret.fromHex(text: "31323334353637383930313") }),
            ("generated secret under 160 bits", { try OtpSecret.generateWithLength(byteLength: 19) }),
            ("generated secret over 1024 bytes", { try OtpSecret.generateWithLength(byteLength: 1025) }),
        ]
        XCTAssertEqual(cases.count, 15)
        for c in cases {
            XCTAssertNotNil(
                assertOtpError(try c.call(), .invalidSecret, hiding: ["JBSWY3DP", "EHPK3P", "3132333435", "zz"]),
                c.name
            )
        }
    }

    func testSecretErrorMessagesNeverEchoTheText() throws {
        let secretText = "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U-X"
        assertOtpError(
            try OtpSecret.fromBase32(text: secretText), .invalidSecret,
            reasonContains: "base32", hiding: [secretText, "MFRGGZDF", "OBYXE43U"]
        )
        let hex = "00112233445566778899aabbccddeeffgg"
        assertOtpError(try OtpSecret.fromHex(text: hex), .invalidSecret, hiding: [hex, "00112233", "ccddeeff"])
    }

    func testDigitsOutside6To10AreInvalidParameter() throws {
        let secret = try Keys.rfcSecret()
        for digits: UInt8 in [0, 5, 11, 255] {
            XCTAssertNotNil(
                assertOtpError(
                    try Hotp(secret: secret, algorithm: .sha1, digits: digits), .invalidParameter,
                    reasonContains: "digits", hiding: [Keys.sha1Hex, Keys.sha1Base32]
                ),
                "Hotp digits \(digits)"
            )
            XCTAssertNotNil(
                assertOtpError(
                    try Totp(secret: secret, algorithm: .sha256, digits: digits, periodSeconds: 30, t0: 0), .invalidParameter,
                    hiding: [Keys.sha1Hex, Keys.sha1Base32]
                ),
                "Totp digits \(digits)"
            )
        }
        // The ends of the range are accepted.
        XCTAssertEqual(try Hotp(secret: secret, algorithm: .sha1, digits: 6).digits(), 6)
        XCTAssertEqual(try Totp(secret: secret, algorithm: .sha1, digits: 10).digits(), 10)
    }

    func testPeriodOutside1To3600IsInvalidParameter() throws {
        let secret = try Keys.rfcSecret()
        for period: UInt64 in [0, 3601, UInt64(Int64.max), UInt64.max] {
            XCTAssertNotNil(
                assertOtpError(
                    try Totp(secret: secret, algorithm: .sha1, digits: 6, periodSeconds: period, t0: 0), .invalidParameter,
                    reasonContains: "period", hiding: [Keys.sha1Hex]
                ),
                "period \(period)"
            )
        }
        XCTAssertEqual(try Totp(secret: secret, algorithm: .sha1, digits: 6, periodSeconds: 1, t0: 0).periodSeconds(), 1)
        XCTAssertEqual(try Totp(secret: secret, algorithm: .sha1, digits: 6, periodSeconds: 3600, t0: 0).periodSeconds(), 3600)
    }

    func testWindowWiderThan100IsInvalidParameter() throws {
        let secret = try Keys.rfcSecret()
        let totp = try Totp(secret: secret, algorithm: .sha1, digits: 6, periodSeconds: 30, t0: 0)
        let code = try totp.codeAt(unixTime: 59).code
        XCTAssertEqual(try totp.verify(code: code, unixTime: 59, stepsBehind: 100, stepsAhead: 100), 1)
        assertOtpError(try totp.verify(code: code, unixTime: 59, stepsBehind: 101, stepsAhead: 0), .invalidParameter, hiding: [code])
        assertOtpError(try totp.verify(code: code, unixTime: 59, stepsBehind: 0, stepsAhead: 101), .invalidParameter, hiding: [code])
        assertOtpError(try totp.verify(code: code, unixTime: 59, stepsBehind: UInt32.max, stepsAhead: 0), .invalidParameter, hiding: [code])
        let hotp = try Hotp(secret: secret, algorithm: .sha1, digits: 6)
        assertOtpError(try hotp.verify(code: "755224", counter: 0, behind: 101, ahead: 1), .invalidParameter, hiding: ["755224"])
        assertOtpError(try hotp.verify(code: "755224", counter: 0, behind: 1, ahead: 101), .invalidParameter, hiding: ["755224"])
        let ocra = try Ocra(suite: "OCRA-1:HOTP-SHA1-6:C-QN08", key: secret)
        let input = OcraInput(question: "12345678", counter: 0)
        let response = try ocra.generate(input: input)
        assertOtpError(try ocra.verify(response: response, input: input, behind: 101, ahead: 0), .invalidParameter, hiding: [response])
        XCTAssertEqual(try ocra.verify(response: response, input: input, behind: 100, ahead: 100), 0)
    }

    func testMalformedCodesOfTheKotlinSuiteAreMalformedCode() throws {
        let secret = try Keys.rfcSecret()
        let hotp = try Hotp(secret: secret, algorithm: .sha1, digits: 6)
        let totp = try Totp(secret: secret, algorithm: .sha1, digits: 6, periodSeconds: 30, t0: 0)
        for code in ["12345a", "12345", "1234567", "", " 755224", "755224 ", "-75522", "７５５２２４", "75522.", "0x7552"] {
            let trimmed = code.trimmingCharacters(in: .whitespaces)
            let hidden = trimmed.isEmpty ? [] : [trimmed]
            XCTAssertNotNil(
                assertOtpError(try hotp.verify(code: code, counter: 0, behind: 1, ahead: 1), .malformedCode, reasonContains: "6", hiding: hidden),
                "Hotp code \"\(code)\""
            )
            XCTAssertNotNil(
                assertOtpError(
                    try totp.verify(code: code, unixTime: 59, stepsBehind: 1, stepsAhead: 1), .malformedCode, hiding: hidden
                ),
                "Totp code \"\(code)\""
            )
        }
    }

    func testACodeOfAnotherLengthIsMalformedCodeEvenIfItIsARealCode() throws {
        let hotp = try Hotp(secret: try Keys.rfcSecret(), algorithm: .sha1, digits: 8)
        // "84755224" is the 8-digit HOTP for counter 0; a 6-digit suffix is malformed.
        XCTAssertEqual(hotp.generate(counter: 0), "84755224")
        assertOtpError(try hotp.verify(code: "755224", counter: 0, behind: 0, ahead: 0), .malformedCode, hiding: ["755224"])
    }

    func testTimeBeforeT0IsInvalidParameterAndAT0InTheFutureRefusesCodeNow() throws {
        let secret = try Keys.rfcSecret()
        let totp = try Totp(secret: secret, algorithm: .sha1, digits: 6, periodSeconds: 30, t0: 1_000)
        assertOtpError(try totp.codeAt(unixTime: 999), .invalidParameter, reasonContains: "T0")
        assertOtpError(try totp.timeStep(unixTime: 0), .invalidParameter)
        let code = totp.codeForStep(step: 0)
        assertOtpError(try totp.verify(code: code, unixTime: 999, stepsBehind: 1, stepsAhead: 1), .invalidParameter, hiding: [code])
        XCTAssertEqual(try totp.verify(code: code, unixTime: 1_000, stepsBehind: 0, stepsAhead: 0), 0)
        // A T0 in the future: codeNow is refused too.
        let future = try Totp(secret: secret, algorithm: .sha1, digits: 6, periodSeconds: 30, t0: UInt64.max)
        assertOtpError(try future.codeNow(), .invalidParameter)
    }

    func testTimesBeyondTheRangeOf64BitStepsAreInvalidParameter() throws {
        let totp = try Totp(secret: try Keys.rfcSecret(), algorithm: .sha1, digits: 6, periodSeconds: 1, t0: 0)
        assertOtpError(try totp.codeAt(unixTime: UInt64.max), .invalidParameter)
    }

    func testUnknownHashNamesAreInvalidParameter() throws {
        for name in ["MD5", "SHA3", "SHA-384", "", "SHA 1"] {
            XCTAssertNotNil(assertOtpError(try hashAlgorithmFromName(name: name), .invalidParameter), "\"\(name)\"")
        }
    }

    func testATotpUriRefusesHotpAndAnHotpUriRefusesTotpWithoutShowingTheSecret() throws {
        let totpUri = try OtpAuthUri.parse(uri: "otpauth://totp/A:b?secret=\(Keys.sha1Base32)")
        assertOtpError(try totpUri.hotp(), .invalidParameter, hiding: [Keys.sha1Base32])
        let hotpUri = try OtpAuthUri.parse(uri: "otpauth://hotp/A:b?secret=\(Keys.sha1Base32)&counter=1")
        assertOtpError(try hotpUri.totp(), .invalidParameter, hiding: [Keys.sha1Base32])
    }
}
