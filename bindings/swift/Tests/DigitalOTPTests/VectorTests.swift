import DigitalOTP
import Foundation
import XCTest

/// The RFC vectors: RFC 4226 Appendix D, RFC 6238 Appendix B, RFC 6287 Appendix C.
final class VectorTests: XCTestCase {
    func testVectorCounts() throws {
        XCTAssertEqual(try Vectors.hotp().count, 10)
        XCTAssertEqual(try Vectors.totp().count, 18)
        XCTAssertEqual(try Vectors.ocra().count, 70)
    }

    func testHotpVectors() throws {
        let vectors = try Vectors.hotp()
        XCTAssertEqual(vectors.count, 10)
        for (index, v) in vectors.enumerated() {
            let hotp = try Hotp(
                secret: try OtpSecret.fromHex(text: v.keyHex),
                algorithm: try hashAlgorithmFromName(name: v.algorithm),
                digits: v.digits
            )
            XCTAssertEqual(hotp.algorithm(), try hashAlgorithmFromName(name: v.algorithm), "HOTP vector \(index)")
            XCTAssertEqual(hotp.digits(), v.digits, "HOTP vector \(index)")
            XCTAssertEqual(hotp.generate(counter: v.counter), v.code, "HOTP vector \(index)")
            XCTAssertEqual(
                try hotp.verify(code: v.code, counter: v.counter, behind: 0, ahead: 0),
                v.counter,
                "HOTP vector \(index)"
            )
        }
    }

    func testTotpVectors() throws {
        let vectors = try Vectors.totp()
        XCTAssertEqual(vectors.count, 18)
        for (index, v) in vectors.enumerated() {
            let totp = try Totp(
                secret: try OtpSecret.fromHex(text: v.keyHex),
                algorithm: try hashAlgorithmFromName(name: v.algorithm),
                digits: v.digits,
                periodSeconds: v.period,
                t0: v.t0
            )
            let step = (v.time - v.t0) / v.period
            let code = try totp.codeAt(unixTime: v.time)
            let label = "TOTP vector \(index) (\(v.algorithm), t=\(v.time))"
            XCTAssertEqual(code.code, v.code, label)
            XCTAssertEqual(code.step, step, label)
            XCTAssertLessThanOrEqual(code.validFrom, v.time, label)
            XCTAssertGreaterThan(code.validUntil, v.time, label)
            XCTAssertEqual(code.validUntil - code.validFrom, v.period, label)
            XCTAssertEqual(code.validFrom, v.t0 + step * v.period, label)
            XCTAssertEqual(code.secondsRemaining, code.validUntil - v.time, label)
            XCTAssertEqual(try totp.timeStep(unixTime: v.time), step, label)
            XCTAssertEqual(totp.codeForStep(step: step), v.code, label)
            XCTAssertEqual(
                try totp.verify(code: v.code, unixTime: v.time, stepsBehind: 0, stepsAhead: 0),
                step,
                label
            )
        }
    }

    func testOcraVectors() throws {
        let vectors = try Vectors.ocra()
        XCTAssertEqual(vectors.count, 70)
        for (index, v) in vectors.enumerated() {
            let ocra = try Ocra(suite: v.suite, key: try OtpSecret.fromHex(text: v.keyHex))
            let label = "OCRA vector \(index) (\(v.suite), \(v.question))"
            let pin = v.ocraPin
            XCTAssertEqual(ocra.suite().suite, v.suite, label)
            XCTAssertEqual(try ocra.generate(input: v.input, pin: pin), v.response, label)
            // verify reports the timestamp (suites with T), else the counter (C), else 0.
            let expected: UInt64 = v.timeSteps ?? v.counter ?? 0
            XCTAssertEqual(
                try ocra.verify(response: v.response, input: v.input, behind: 0, ahead: 0, pin: pin),
                expected,
                label
            )
            if pin == nil {
                // Without a PIN the argument can be left out.
                XCTAssertEqual(try ocra.generate(input: v.input), v.response, label)
            }
        }
    }

    func testOcraPinAndPinHashGiveTheSameResponse() throws {
        // SHA-1 of the RFC 6287 PIN "1234" (all PIN suites of Appendix C use PSHA1).
        let pinSha1 = Data(hexString: "7110eda4d09e062aa5e4a390b0a572ac0d2c0220")
        let pinVectors = try Vectors.ocra().filter { $0.pin != nil }
        XCTAssertEqual(pinVectors.count, 20)
        for v in pinVectors {
            XCTAssertEqual(v.pin, "1234")
            let ocra = try Ocra(suite: v.suite, key: try OtpSecret.fromHex(text: v.keyHex))
            XCTAssertEqual(ocra.suite().pinHash, .sha1)
            let plain = OcraPin.plain(pin: "1234")
            let hashed = OcraPin.hashed(hash: pinSha1)
            XCTAssertEqual(try ocra.generate(input: v.input, pin: plain), v.response)
            XCTAssertEqual(try ocra.generate(input: v.input, pin: hashed), v.response)
            let expected: UInt64 = v.timeSteps ?? v.counter ?? 0
            XCTAssertEqual(try ocra.verify(response: v.response, input: v.input, behind: 0, ahead: 0, pin: hashed), expected)
            // Another PIN gives another response.
            XCTAssertNotEqual(try ocra.generate(input: v.input, pin: OcraPin.plain(pin: "1235")), v.response)
        }
    }

    func testOcraPinVectorsWithoutThePinAreRefused() throws {
        let pinVectors = try Vectors.ocra().filter { $0.pin != nil }
        XCTAssertEqual(pinVectors.count, 20)
        for v in pinVectors {
            let ocra = try Ocra(suite: v.suite, key: try OtpSecret.fromHex(text: v.keyHex))
            assertOtpError(try ocra.generate(input: v.input), .invalidOcraInput, reasonContains: "PIN")
            assertOtpError(try ocra.generate(input: v.input, pin: nil), .invalidOcraInput, reasonContains: "PIN")
            assertOtpError(
                try ocra.verify(response: v.response, input: v.input, behind: 0, ahead: 0),
                .invalidOcraInput, reasonContains: "PIN"
            )
        }
    }
}
