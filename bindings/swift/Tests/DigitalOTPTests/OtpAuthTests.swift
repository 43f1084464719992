import DigitalOTP
import Foundation
import XCTest

/// otpauth:// Key URIs: parsing, the issuer rules, and format/parse round trips.
final class OtpAuthTests: XCTestCase {
    let googleExample = "otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example"

    func testParseTheKeyUriFormatExample() throws {
        let uri = try OtpAuthUri.parse(uri: googleExample)
        XCTAssertEqual(
            uri.parameters(),
            OtpAuthParameters(
                otpType: .totp,
                issuer: "Example",
                account: "alice@google.com",
                algorithm: .sha1,
                digits: 6,
                periodSeconds: 30,
                counter: nil
            )
        )
        XCTAssertEqual(uri.secret().toBase32(), Keys.exampleBase32)
        XCTAssertEqual(uri.secret(), try OtpSecret.fromBase32(text: Keys.exampleBase32))
        let expected = try Totp(
            secret: try OtpSecret.fromBase32(text: Keys.exampleBase32),
            algorithm: .sha1, digits: 6, periodSeconds: 30, t0: 0
        )
        XCTAssertEqual(try uri.totp().codeAt(unixTime: 1_700_000_000), try expected.codeAt(unixTime: 1_700_000_000))
    }

    func testIssuerParameterWinsOverLabelPrefix() throws {
        let uri = try OtpAuthUri.parse(uri: "otpauth://totp/Label:alice?secret=\(Keys.exampleBase32)&issuer=Other")
        XCTAssertEqual(uri.parameters().issuer, "Other")
        XCTAssertEqual(uri.parameters().account, "alice")
    }

    func testLabelPrefixIsTheIssuerWithoutParameter() throws {
        let uri = try OtpAuthUri.parse(uri: "otpauth://totp/Label:alice?secret=\(Keys.exampleBase32)")
        XCTAssertEqual(uri.parameters().issuer, "Label")
        XCTAssertEqual(uri.parameters().account, "alice")
    }

    func testNoIssuerAtAll() throws {
        let uri = try OtpAuthUri.parse(uri: "otpauth://totp/alice?secret=\(Keys.exampleBase32)")
        XCTAssertNil(uri.parameters().issuer)
        XCTAssertEqual(uri.parameters().account, "alice")
    }

    func testParseAllParametersOfAnHotpUri() throws {
        let uri = try OtpAuthUri.parse(
            uri: "otpauth://hotp/ACME%20Co:john.doe%40email.com?secret=\(Keys.exampleBase32)"
                + "&issuer=ACME%20Co&algorithm=SHA256&digits=8&counter=42"
        )
        XCTAssertEqual(
            uri.parameters(),
            OtpAuthParameters(
                otpType: .hotp,
                issuer: "ACME Co",
                account: "john.doe@email.com",
                algorithm: .sha256,
                digits: 8,
                periodSeconds: nil,
                counter: 42
            )
        )
        let hotp = try uri.hotp()
        XCTAssertEqual(hotp.algorithm(), .sha256)
        XCTAssertEqual(hotp.digits(), 8)
    }

    func testRoundTripWithANonAsciiIssuer() throws {
        let secret = try OtpSecret.generate()
        let uri = try OtpAuthUri.newTotp(
            issuer: "한국은행", account: "홍길동@example.com", secret: secret,
            algorithm: .sha256, digits: 8, periodSeconds: 60
        )
        let text = uri.toUriString()
        XCTAssertTrue(text.hasPrefix("otpauth://totp/"))
        XCTAssertTrue(text.allSatisfy { $0.isASCII }, "percent-encoded UTF-8 expected: \(text)")
        XCTAssertTrue(text.contains("%ED%95%9C%EA%B5%AD%EC%9D%80%ED%96%89"))  // 한국은행
        let parsed = try OtpAuthUri.parse(uri: text)
        let expected = OtpAuthParameters(
            otpType: .totp,
            issuer: "한국은행",
            account: "홍길동@example.com",
            algorithm: .sha256,
            digits: 8,
            periodSeconds: 60,
            counter: nil
        )
        XCTAssertEqual(uri.parameters(), expected)
        XCTAssertEqual(parsed.parameters(), expected)
        XCTAssertEqual(parsed.secret(), secret)
        XCTAssertEqual(parsed.toUriString(), text)
        XCTAssertEqual(try parsed.totp().codeAt(unixTime: 1_234_567_890), try uri.totp().codeAt(unixTime: 1_234_567_890))
    }

    func testHotpRoundTrip() throws {
        let secret = try OtpSecret.fromBase32(text: Keys.exampleBase32)
        let issuers: [String?] = [nil, "Bank", "Société Générale"]
        let bigCounter: UInt64 = 1 << 63
        for issuer in issuers {
            let uri = try OtpAuthUri.newHotp(
                issuer: issuer, account: "bob", secret: secret,
                algorithm: .sha512, digits: 7, counter: bigCounter
            )
            let parsed = try OtpAuthUri.parse(uri: uri.toUriString())
            XCTAssertEqual(parsed.parameters(), uri.parameters())
            XCTAssertEqual(parsed.parameters().counter, bigCounter)
            XCTAssertEqual(parsed.parameters().issuer, issuer)
            XCTAssertEqual(parsed.secret(), secret)
            let direct = try Hotp(secret: secret, algorithm: .sha512, digits: 7)
            XCTAssertEqual(try parsed.hotp().generate(counter: 5), direct.generate(counter: 5))
        }
    }

    func testUriValuesDoNotPrintTheSecret() throws {
        let uri = try OtpAuthUri.parse(uri: googleExample)
        XCTAssertFalse(String(describing: uri.parameters()).contains(Keys.exampleBase32))
        XCTAssertFalse(String(reflecting: uri.parameters()).contains(Keys.exampleBase32))
        XCTAssertFalse(String(describing: uri.secret()).contains(Keys.exampleBase32))
    }
}
