import DigitalOTP
import Foundation
import XCTest

/// Every error reads as its Rust sentence (issue 15, item 14): interpolation,
/// `String(describing:)`, `String(reflecting:)` and `localizedDescription`, fields included.
/// UniFFI gives the errors a `description` from the Rust `Display` but not the
/// `CustomStringConvertible` conformance; the project's uniffi-bindgen adds it
/// (src/bin/uniffi-bindgen/swift.rs). Without it these print the case name (`Locked`).
final class ErrorTextTests: XCTestCase {
    private func assertReads(_ error: Error, _ sentence: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual("\(error)", sentence, "interpolation", file: file, line: line)
        XCTAssertEqual(String(describing: error), sentence, "String(describing:)", file: file, line: line)
        XCTAssertEqual(String(reflecting: error), sentence, "String(reflecting:)", file: file, line: line)
        XCTAssertEqual(error.localizedDescription, sentence, "localizedDescription", file: file, line: line)
    }

    func testCasesWithoutFieldsReadAsTheirSentence() {
        assertReads(DigitalOtpError.Locked, "the OTP is locked after 5 wrong passwords; register again")
        assertReads(
            DigitalOtpError.DeviceMismatch,
            "this OTP was registered on another phone number or device; register again on this one")
        assertReads(IssuerError.UnknownInstitution, "unknown institution")
    }

    func testFieldsArePartOfTheSentence() {
        assertReads(
            DigitalOtpError.WrongPassword(attemptsRemaining: 1),
            "wrong password; 1 attempt remains before the OTP is locked")
        assertReads(HostError.Failed(reason: "disk full"), "disk full")
        assertReads(IssuerError.WrongVerificationCode(attemptsRemaining: 2), "the verification code is wrong; 2 attempts remain")
    }

    func testAnErrorRaisedByTheLibraryReadsAsASentence() {
        XCTAssertThrowsError(try OtpSecret.fromHex(text: "313233343536373839")) { error in
            XCTAssertTrue("\(error)".hasPrefix("invalid secret: "), "\(error)")
            XCTAssertTrue(error.localizedDescription.hasPrefix("invalid secret: "), error.localizedDescription)
        }
    }
}
