import DigitalOTP
import Foundation
import XCTest

/// OCRA (RFC 6287): PIN handling, verification windows, session data, invalid suites and
/// inputs, malformed responses. Mirrors the Kotlin OcraTest (suite parsing and redaction
/// are in SecretAndSuiteTests, the RFC vectors in VectorTests).
final class OcraTests: XCTestCase {
    /// RFC 6287's 32- and 64-byte keys: "1234567890" repeated, as hex.
    let key32Hex = Keys.sha256Hex
    let key64Hex = Keys.sha512Hex
    /// SHA-1 of the RFC 6287 PIN "1234".
    let pin1234Sha1 = Data(hexString: "7110eda4d09e062aa5e4a390b0a572ac0d2c0220")

    func testPinAndPinHashGiveTheSameResponse() throws {
        let ocra = try Ocra(suite: "OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1", key: try OtpSecret.fromHex(text: key32Hex))
        let pin = OcraPin.plain(pin: "1234")
        let hashed = OcraPin.hashed(hash: pin1234Sha1)
        for counter in UInt64(0)...9 {
            let input = OcraInput(question: "12345678", counter: counter)
            let withPin = try ocra.generate(input: input, pin: pin)
            let withHash = try ocra.generate(input: input, pin: hashed)
            XCTAssertEqual(withPin, withHash, "counter \(counter)")
            // Either form verifies the other's response.
            XCTAssertEqual(try ocra.verify(response: withPin, input: input, behind: 0, ahead: 0, pin: hashed), counter)
            XCTAssertEqual(try ocra.verify(response: withHash, input: input, behind: 0, ahead: 0, pin: pin), counter)
        }
        // RFC 6287 Appendix C, counter 0.
        let first = OcraInput(question: "12345678", counter: 0)
        XCTAssertEqual(try ocra.generate(input: first, pin: hashed), "65347737")
        XCTAssertEqual(try ocra.verify(response: "65347737", input: first, behind: 0, ahead: 0, pin: hashed), 0)
        XCTAssertEqual(try ocra.verify(response: "65347737", input: first, behind: 0, ahead: 0, pin: pin), 0)
        // Another PIN gives another response, and does not verify the right one.
        let other = OcraPin.plain(pin: "1235")
        XCTAssertNotEqual(try ocra.generate(input: first, pin: other), "65347737")
        XCTAssertNil(try ocra.verify(response: "65347737", input: first, behind: 0, ahead: 0, pin: other))
    }

    func testVerifyMovesTheTimestampWithinTheWindow() throws {
        let ocra = try Ocra(suite: "OCRA-1:HOTP-SHA512-8:QN08-T1M", key: try OtpSecret.fromHex(text: key64Hex))
        let t: UInt64 = 0x132D0B6
        // RFC 6287 Appendix C: question 00000000 at T = 132d0b6 gives 95209754.
        XCTAssertEqual(try ocra.generate(input: OcraInput(question: "00000000", timeSteps: t)), "95209754")
        let at = { (steps: UInt64) in OcraInput(question: "00000000", timeSteps: steps) }
        XCTAssertEqual(try ocra.verify(response: "95209754", input: at(t), behind: 0, ahead: 0), t)
        // The server's clock is one step ahead or behind the client's.
        XCTAssertEqual(try ocra.verify(response: "95209754", input: at(t + 1), behind: 1, ahead: 1), t)
        XCTAssertEqual(try ocra.verify(response: "95209754", input: at(t - 1), behind: 1, ahead: 1), t)
        XCTAssertNil(try ocra.verify(response: "95209754", input: at(t + 2), behind: 1, ahead: 1))
        XCTAssertNil(try ocra.verify(response: "95209754", input: at(t - 2), behind: 1, ahead: 1))
        XCTAssertNil(try ocra.verify(response: "95209754", input: at(t + 1), behind: 0, ahead: 0))
        XCTAssertEqual(try ocra.verify(response: "95209754", input: at(t + 5), behind: 5, ahead: 0), t)
        XCTAssertNil(try ocra.verify(response: "95209754", input: at(t + 5), behind: 0, ahead: 5))
        // Another question does not match.
        XCTAssertNil(try ocra.verify(response: "95209754", input: OcraInput(question: "11111111", timeSteps: t), behind: 3, ahead: 3))
    }

    func testVerifyMovesTheCounterWithinTheWindowWhenThereIsNoTimestamp() throws {
        let ocra = try Ocra(suite: "OCRA-1:HOTP-SHA512-8:C-QN08", key: try OtpSecret.fromHex(text: key64Hex))
        let response = try ocra.generate(input: OcraInput(question: "00000000", counter: 7))
        XCTAssertEqual(try ocra.verify(response: response, input: OcraInput(question: "00000000", counter: 6), behind: 0, ahead: 1), 7)
        XCTAssertNil(try ocra.verify(response: response, input: OcraInput(question: "00000000", counter: 6), behind: 1, ahead: 0))
    }

    func testSessionDataEntersTheResponse() throws {
        let ocra = try Ocra(suite: "OCRA-1:HOTP-SHA256-6:QA08-S004", key: try OtpSecret.fromHex(text: key32Hex))
        let a = try ocra.generate(input: OcraInput(question: "CHAL1234", session: Data([1, 2, 3, 4])))
        let b = try ocra.generate(input: OcraInput(question: "CHAL1234", session: Data([1, 2, 3, 5])))
        XCTAssertEqual(a.count, 6)
        XCTAssertNotEqual(a, b)
        XCTAssertEqual(
            try ocra.verify(response: a, input: OcraInput(question: "CHAL1234", session: Data([1, 2, 3, 4])), behind: 0, ahead: 0),
            0
        )
        XCTAssertNil(try ocra.verify(response: a, input: OcraInput(question: "CHAL1234", session: Data([1, 2, 3, 5])), behind: 0, ahead: 0))
    }

    /// Invalid suites, each with a part of the text the reason must name.
    func testInvalidSuitesAreInvalidOcraSuiteNamingThePart() throws {
        let cases: [(suite: String, part: String)] = [
            ("OCRA-2:HOTP-SHA1-6:QN08", "OCRA-2"),
            ("ocra-1:HOTP-SHA1-6:QN08", "ocra-1"),
            ("OCRA-1:HOTP-MD5-6:QN08", "HOTP-MD5-6"),
            ("OCRA-1:TOTP-SHA1-6:QN08", "TOTP-SHA1-6"),
            ("OCRA-1:HOTP-SHA1-3:QN08", "'3'"),
            ("OCRA-1:HOTP-SHA1-11:QN08", "'11'"),
            ("OCRA-1:HOTP-SHA1-0:QN08", "'0'"),
            ("OCRA-1:HOTP-SHA1-6:QX08", "QX08"),
            ("OCRA-1:HOTP-SHA1-6:QN03", "QN03"),
            ("OCRA-1:HOTP-SHA1-6:QN65", "QN65"),
            ("OCRA-1:HOTP-SHA1-6:C", "question"),
            ("OCRA-1:HOTP-SHA1-6:C-PSHA1", "question"),
            ("OCRA-1:HOTP-SHA1-6:QN08-PMD5", "PMD5"),
            ("OCRA-1:HOTP-SHA1-6:QN08-S000", "S000"),
            ("OCRA-1:HOTP-SHA1-6:QN08-S513", "S513"),
            ("OCRA-1:HOTP-SHA1-6:QN08-T60M", "T60M"),
            ("OCRA-1:HOTP-SHA1-6:QN08-T49H", "T49H"),
            ("OCRA-1:HOTP-SHA1-6:QN08-T1D", "T1D"),
            ("OCRA-1:HOTP-SHA1-6:QN08-T1M-PSHA1", "PSHA1"),
            ("OCRA-1:HOTP-SHA1-6:QN08-PSHA1-PSHA1", "PSHA1"),
            ("OCRA-1:HOTP-SHA1-6:QN08-X", "'X'"),
            ("OCRA-1:HOTP-SHA1-6", "three parts"),
            ("OCRA-1:HOTP-SHA1-6:QN08:C", "three parts"),
            ("", "three parts"),
        ]
        XCTAssertEqual(cases.count, 24)
        for c in cases {
            assertOtpError(try parseOcraSuite(suite: c.suite), .invalidOcraSuite, reasonContains: c.part)
            assertOtpError(
                try Ocra(suite: c.suite, key: try Keys.rfcSecret()),
                .invalidOcraSuite, hiding: [Keys.sha1Hex]
            )
        }
    }

    /// Inputs that do not match the suite: missing or extra parts, bad questions. Each is
    /// refused by generate and by verify, and no message shows the PIN, the question or the key.
    func testInputsThatDoNotMatchTheSuiteAreInvalidOcraInput() throws {
        let q = OcraInput(question: "12345678")
        let sha1Pin = pin1234Sha1
        let cases: [(name: String, suite: String, input: OcraInput, pin: OcraPin?)] = [
            ("counter missing", "OCRA-1:HOTP-SHA1-6:C-QN08", q, nil),
            ("counter not allowed", "OCRA-1:HOTP-SHA1-6:QN08", OcraInput(question: "12345678", counter: 1), nil),
            ("PIN missing", "OCRA-1:HOTP-SHA256-8:QN08-PSHA1", q, nil),
            ("PIN missing (with a counter)", "OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1", OcraInput(question: "12345678", counter: 1), nil),
            ("PIN not allowed", "OCRA-1:HOTP-SHA1-6:QN08", q, OcraPin.plain(pin: "987654")),
            ("PIN hash not allowed", "OCRA-1:HOTP-SHA1-6:QN08", q, OcraPin.hashed(hash: sha1Pin)),
            ("PIN hash of the wrong length", "OCRA-1:HOTP-SHA256-8:QN08-PSHA256", q, OcraPin.hashed(hash: sha1Pin)),
            ("PIN hash too short", "OCRA-1:HOTP-SHA256-8:QN08-PSHA1", q, OcraPin.hashed(hash: sha1Pin.prefix(5))),
            ("empty PIN hash", "OCRA-1:HOTP-SHA256-8:QN08-PSHA1", q, OcraPin.hashed(hash: Data())),
            ("timestamp missing", "OCRA-1:HOTP-SHA512-8:QN08-T1M", q, nil),
            ("timestamp not allowed", "OCRA-1:HOTP-SHA1-6:QN08", OcraInput(question: "12345678", timeSteps: 5), nil),
            ("session missing", "OCRA-1:HOTP-SHA1-6:QN08-S064", q, nil),
            ("session of the wrong length", "OCRA-1:HOTP-SHA1-6:QN08-S064", OcraInput(question: "12345678", session: Data(count: 63)), nil),
            ("session not allowed", "OCRA-1:HOTP-SHA1-6:QN08", OcraInput(question: "12345678", session: Data(count: 4)), nil),
            ("numeric question with letters", "OCRA-1:HOTP-SHA1-6:QN08", OcraInput(question: "1234ABCD"), nil),
            ("hex question with non-hex letters", "OCRA-1:HOTP-SHA1-6:QH08", OcraInput(question: "1234WXYZ"), nil),
            ("alphanumeric question with punctuation", "OCRA-1:HOTP-SHA1-6:QA08", OcraInput(question: "CHAL-123"), nil),
            ("empty question", "OCRA-1:HOTP-SHA1-6:QA08", OcraInput(question: ""), nil),
            ("question over 128 bytes", "OCRA-1:HOTP-SHA1-6:QA64", OcraInput(question: String(repeating: "A", count: 129)), nil),
        ]
        XCTAssertEqual(cases.count, 19)
        let hidden = ["987654", "1234", key64Hex]
        for c in cases {
            let ocra = try Ocra(suite: c.suite, key: try OtpSecret.fromHex(text: key64Hex))
            let digits = Int(ocra.suite().digits)
            let response = "123456" + String(repeating: "0", count: max(0, digits - 6))
            XCTAssertEqual(response.count, digits, c.name)
            XCTAssertNotNil(
                assertOtpError(try ocra.generate(input: c.input, pin: c.pin), .invalidOcraInput, hiding: hidden),
                "generate: \(c.name)"
            )
            XCTAssertNotNil(
                assertOtpError(
                    try ocra.verify(response: response, input: c.input, behind: 1, ahead: 1, pin: c.pin),
                    .invalidOcraInput, hiding: hidden
                ),
                "verify: \(c.name)"
            )
        }
    }

    func testAPinHashOfTheRightLengthIsAccepted() throws {
        // Not the right PIN, but a valid input: the response is just another one.
        let ocra = try Ocra(suite: "OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1", key: try OtpSecret.fromHex(text: key32Hex))
        let zeros = OcraPin.hashed(hash: Data(count: 20))
        let input = OcraInput(question: "12345678", counter: 0)
        let response = try ocra.generate(input: input, pin: zeros)
        XCTAssertEqual(response.count, 8)
        XCTAssertNotEqual(response, "65347737")
        XCTAssertEqual(try ocra.verify(response: response, input: input, behind: 0, ahead: 0, pin: zeros), 0)
    }

    func testMalformedOcraResponsesAreMalformedCode() throws {
        let ocra = try Ocra(suite: "OCRA-1:HOTP-SHA256-8:QA08", key: try OtpSecret.fromHex(text: key32Hex))
        let input = OcraInput(question: "CLI22220SRV11110")
        for bad in ["1234567", "123456789", "1234567a"] {
            assertOtpError(try ocra.verify(response: bad, input: input, behind: 0, ahead: 0), .malformedCode, hiding: [bad])
        }
    }
}
