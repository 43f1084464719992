import DigitalOTP
import Foundation
import XCTest

/// verify() returns the step or counter that matched, or nil.
final class VerifyTests: XCTestCase {
    let time: UInt64 = 1_111_111_109  // RFC 6238 vector time
    let step: UInt64 = 1_111_111_109 / 30

    func rfcTotp(t0: UInt64 = 0) throws -> Totp {
        try Totp(secret: try Keys.rfcSecret(), algorithm: .sha1, digits: 6, periodSeconds: 30, t0: t0)
    }

    func rfcHotp() throws -> Hotp {
        try Hotp(secret: try Keys.rfcSecret(), algorithm: .sha1, digits: 6)
    }

    func testTotpWindowOfOneReturnsTheMatchingStep() throws {
        let totp = try rfcTotp()
        for matched in [step - 1, step, step + 1] {
            let code = totp.codeForStep(step: matched)
            XCTAssertEqual(
                try totp.verify(code: code, unixTime: time, stepsBehind: 1, stepsAhead: 1),
                matched
            )
        }
    }

    func testTotpOutsideTheWindowIsNil() throws {
        let totp = try rfcTotp()
        for other in [step - 3, step - 2, step + 2, step + 3] {
            let code = totp.codeForStep(step: other)
            XCTAssertNil(try totp.verify(code: code, unixTime: time, stepsBehind: 1, stepsAhead: 1))
        }
    }

    func testTotpWindowSidesAreIndependent() throws {
        let totp = try rfcTotp()
        let earlier = totp.codeForStep(step: step - 2)
        let later = totp.codeForStep(step: step + 2)
        XCTAssertEqual(try totp.verify(code: earlier, unixTime: time, stepsBehind: 2, stepsAhead: 0), step - 2)
        XCTAssertNil(try totp.verify(code: later, unixTime: time, stepsBehind: 2, stepsAhead: 0))
        XCTAssertEqual(try totp.verify(code: later, unixTime: time, stepsBehind: 0, stepsAhead: 2), step + 2)
        XCTAssertNil(try totp.verify(code: earlier, unixTime: time, stepsBehind: 0, stepsAhead: 2))
    }

    func testTotpZeroWindowAcceptsOnlyTheCurrentStep() throws {
        let totp = try rfcTotp()
        let current = try totp.codeAt(unixTime: time).code
        XCTAssertEqual(try totp.verify(code: current, unixTime: time, stepsBehind: 0, stepsAhead: 0), step)
        let previous = totp.codeForStep(step: step - 1)
        XCTAssertNil(try totp.verify(code: previous, unixTime: time, stepsBehind: 0, stepsAhead: 0))
        let next = totp.codeForStep(step: step + 1)
        XCTAssertNil(try totp.verify(code: next, unixTime: time, stepsBehind: 0, stepsAhead: 0))
    }

    func testTotpMaximumWindowIsAccepted() throws {
        let totp = try rfcTotp()
        let code = totp.codeForStep(step: step - 100)
        XCTAssertEqual(
            try totp.verify(code: code, unixTime: time, stepsBehind: 100, stepsAhead: 100),
            step - 100
        )
    }

    func testTotpStepBoundariesAndT0() throws {
        let totp = try rfcTotp(t0: 1000)
        let first = try totp.codeAt(unixTime: 1000)
        XCTAssertEqual(first.step, 0)
        XCTAssertEqual(first.validFrom, 1000)
        XCTAssertEqual(first.validUntil, 1030)
        XCTAssertEqual(first.secondsRemaining, 30)
        let last = try totp.codeAt(unixTime: 1029)
        XCTAssertEqual(last.step, 0)
        XCTAssertEqual(last.secondsRemaining, 1)
        XCTAssertEqual(try totp.codeAt(unixTime: 1030).step, 1)
        XCTAssertEqual(try totp.verify(code: first.code, unixTime: 1029, stepsBehind: 0, stepsAhead: 0), 0)
        XCTAssertEqual(totp.algorithm(), .sha1)
        XCTAssertEqual(totp.digits(), 6)
        XCTAssertEqual(totp.periodSeconds(), 30)
    }

    func testTotpAndHotpDefaults() throws {
        // Totp: 6 digits, 30-second period, T0 = 0; verify: one step each side.
        let secret = try Keys.rfcSecret()
        let totp = try Totp(secret: secret, algorithm: .sha1)
        XCTAssertEqual(totp.digits(), 6)
        XCTAssertEqual(totp.periodSeconds(), 30)
        let explicit = try Totp(secret: secret, algorithm: .sha1, digits: 6, periodSeconds: 30, t0: 0)
        XCTAssertEqual(try totp.codeAt(unixTime: time), try explicit.codeAt(unixTime: time))
        XCTAssertEqual(try totp.verify(code: totp.codeForStep(step: step - 1), unixTime: time), step - 1)
        XCTAssertEqual(try totp.verify(code: totp.codeForStep(step: step + 1), unixTime: time), step + 1)
        XCTAssertNil(try totp.verify(code: totp.codeForStep(step: step + 2), unixTime: time))
        let hotp = try Hotp(secret: secret, algorithm: .sha1)
        XCTAssertEqual(hotp.digits(), 6)
        XCTAssertEqual(hotp.generate(counter: 0), "755224")
    }

    func testTotpCodeNowIsConsistent() throws {
        let totp = try rfcTotp()
        let now = try totp.codeNow()
        XCTAssertEqual(now.code.count, 6)
        XCTAssertTrue(now.code.allSatisfy { $0.isASCII && $0.isNumber })
        XCTAssertGreaterThan(now.secondsRemaining, 0)
        XCTAssertLessThanOrEqual(now.secondsRemaining, 30)
        XCTAssertEqual(now.validUntil - now.validFrom, 30)
        XCTAssertEqual(totp.codeForStep(step: now.step), now.code)
    }

    func testHotpVerifyReturnsTheMatchingCounter() throws {
        let hotp = try rfcHotp()
        let code5 = hotp.generate(counter: 5)
        XCTAssertEqual(try hotp.verify(code: code5, counter: 5, behind: 0, ahead: 0), 5)
        XCTAssertEqual(try hotp.verify(code: code5, counter: 3, behind: 0, ahead: 2), 5)
        XCTAssertNil(try hotp.verify(code: code5, counter: 3, behind: 0, ahead: 1))
        XCTAssertEqual(try hotp.verify(code: code5, counter: 7, behind: 2, ahead: 0), 5)
        XCTAssertNil(try hotp.verify(code: code5, counter: 7, behind: 1, ahead: 0))
        XCTAssertEqual(try hotp.verify(code: code5, counter: 6, behind: 1, ahead: 1), 5)
        // RFC 4226 vector 9, found by looking ahead from counter 0.
        XCTAssertEqual(try hotp.verify(code: "520489", counter: 0, behind: 0, ahead: 9), 9)
        XCTAssertNil(try hotp.verify(code: "520489", counter: 0, behind: 0, ahead: 8))
    }

    func testHotpWindowDoesNotWrapBelowZero() throws {
        let hotp = try rfcHotp()
        XCTAssertEqual(try hotp.verify(code: "755224", counter: 0, behind: 100, ahead: 0), 0)
        XCTAssertNil(try hotp.verify(code: "287082", counter: 0, behind: 100, ahead: 0))
    }

    func testHotpAccessors() throws {
        let hotp = try Hotp(secret: try Keys.rfcSecret(), algorithm: .sha256, digits: 8)
        XCTAssertEqual(hotp.algorithm(), .sha256)
        XCTAssertEqual(hotp.digits(), 8)
        XCTAssertEqual(hotp.generate(counter: 0).count, 8)
    }

    func testOcraCounterWindow() throws {
        let ocra = try Ocra(suite: "OCRA-1:HOTP-SHA512-8:C-QN08", key: try OtpSecret.fromHex(text: Keys.sha512Hex))
        // RFC 6287 Appendix C: counter 3, question 33333333 -> 25341727.
        XCTAssertEqual(try ocra.generate(input: OcraInput(question: "33333333", counter: 3)), "25341727")
        let fromOne = OcraInput(question: "33333333", counter: 1)
        XCTAssertEqual(try ocra.verify(response: "25341727", input: fromOne, behind: 0, ahead: 2), 3)
        XCTAssertNil(try ocra.verify(response: "25341727", input: fromOne, behind: 0, ahead: 1))
    }

    func testOcraTimestampWindow() throws {
        let ocra = try Ocra(suite: "OCRA-1:HOTP-SHA512-8:QN08-T1M", key: try OtpSecret.fromHex(text: Keys.sha512Hex))
        // RFC 6287 Appendix C: T = 0x132d0b6 minutes -> 95209754 for question 00000000.
        let t: UInt64 = 0x132D0B6
        XCTAssertEqual(ocra.timeStepsAt(unixTime: 1_206_446_790), t)
        XCTAssertEqual(try ocra.generate(input: OcraInput(question: "00000000", timeSteps: t)), "95209754")
        let oneLater = OcraInput(question: "00000000", timeSteps: t + 1)
        let oneEarlier = OcraInput(question: "00000000", timeSteps: t - 1)
        XCTAssertEqual(try ocra.verify(response: "95209754", input: oneLater, behind: 1, ahead: 0), t)
        XCTAssertNil(try ocra.verify(response: "95209754", input: oneLater, behind: 0, ahead: 1))
        XCTAssertEqual(try ocra.verify(response: "95209754", input: oneEarlier, behind: 0, ahead: 1), t)
    }

    func testOcraWithoutCounterOrTimestampVerifiesToZero() throws {
        let ocra = try Ocra(suite: "OCRA-1:HOTP-SHA1-6:QN08", key: try Keys.rfcSecret())
        XCTAssertNil(ocra.timeStepsAt(unixTime: 1_206_446_790))
        let input = OcraInput(question: "00000000")
        XCTAssertEqual(try ocra.verify(response: "237653", input: input, behind: 0, ahead: 0), 0)
        XCTAssertNil(try ocra.verify(response: "243178", input: input, behind: 0, ahead: 0))
    }

    func testTotpVerifyAcceptsTheWholePeriodOfAStep() throws {
        let totp = try rfcTotp()
        // 999_999_990 is a multiple of 30: the step starts there.
        let code = try totp.codeAt(unixTime: 1_000_000_010)
        XCTAssertEqual(code.validFrom, 999_999_990)
        XCTAssertEqual(code.validUntil, 1_000_000_020)
        XCTAssertEqual(code.secondsRemaining, 10)
        for t in code.validFrom..<code.validUntil {
            XCTAssertEqual(try totp.verify(code: code.code, unixTime: t, stepsBehind: 0, stepsAhead: 0), code.step, "at \(t)")
            let at = try totp.codeAt(unixTime: t)
            XCTAssertEqual(at.code, code.code, "at \(t)")
            XCTAssertEqual(at.step, code.step, "at \(t)")
            XCTAssertEqual(at.secondsRemaining, code.validUntil - t, "at \(t)")
        }
        XCTAssertNil(try totp.verify(code: code.code, unixTime: code.validUntil + 30, stepsBehind: 0, stepsAhead: 0))
    }

    func testTotpCodeNowAgreesWithCodeAtOfTheSystemClock() throws {
        let totp = try rfcTotp()
        let before = UInt64(Date().timeIntervalSince1970)
        let now = try totp.codeNow()
        let after = UInt64(Date().timeIntervalSince1970)
        let steps = try totp.timeStep(unixTime: before)...totp.timeStep(unixTime: after)
        XCTAssertTrue(steps.contains(now.step), "step \(now.step) of codeNow is outside the system clock's \(steps)")
        XCTAssertEqual(totp.codeForStep(step: now.step), now.code)
        XCTAssertEqual(now.code.count, 6)
    }

    func testHotpVerifyAtTheEndsOfTheCounterRangeDoesNotWrap() throws {
        let hotp = try Hotp(secret: try Keys.rfcSecret(), algorithm: .sha512, digits: 10)
        let max = UInt64.max
        let code = hotp.generate(counter: max)
        XCTAssertEqual(code.count, 10)
        XCTAssertEqual(try hotp.verify(code: code, counter: max, behind: 2, ahead: 2), max)
        XCTAssertEqual(try hotp.verify(code: code, counter: max - 1, behind: 0, ahead: 1), max)
        XCTAssertEqual(try hotp.verify(code: hotp.generate(counter: 0), counter: 0, behind: 3, ahead: 0), 0)
        XCTAssertNil(try hotp.verify(code: hotp.generate(counter: 0), counter: max, behind: 0, ahead: 100))
    }

    func testCodesDependOnTheSecret() throws {
        let a = try OtpSecret.generate()
        let b = try OtpSecret.generate()
        XCTAssertNotEqual(a, b)
        let ha = try Hotp(secret: a, algorithm: .sha1, digits: 10)
        let hb = try Hotp(secret: b, algorithm: .sha1, digits: 10)
        let differing = (UInt64(0)..<20).filter { ha.generate(counter: $0) != hb.generate(counter: $0) }.count
        XCTAssertGreaterThanOrEqual(differing, 19, "codes of two random secrets mostly differ")
    }
}
