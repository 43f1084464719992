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
        XCTAssertEqual(uri.secret().byteLength(), 10)
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

    // MARK: - The Kotlin OtpAuthUriTest's cases

    func testIssuerAndAccountArePercentDecodedAndTheAccountTrimmed() throws {
        let withParameter = try OtpAuthUri.parse(uri: "otpauth://totp/Label%20Bank:alice?secret=\(Keys.exampleBase32)&issuer=Param%20Bank")
        XCTAssertEqual(withParameter.parameters().issuer, "Param Bank")
        XCTAssertEqual(withParameter.parameters().account, "alice")
        // Without the parameter the label prefix is the issuer; the space after the colon goes.
        let fromLabel = try OtpAuthUri.parse(uri: "otpauth://totp/Label%20Bank:%20alice?secret=\(Keys.exampleBase32)")
        XCTAssertEqual(fromLabel.parameters().issuer, "Label Bank")
        XCTAssertEqual(fromLabel.parameters().account, "alice")
    }

    func testParsesEveryParameterInAnyCaseIgnoringUnknownOnes() throws {
        let text = "OTPAUTH://HOTP/ACME:bob?SECRET=gezdgnbvgy3tqojqgezdgnbvgy3tqojq&algorithm=sha256&digits=8"
            + "&counter=42&image=https%3A%2F%2Fexample.com%2Flogo.png"
        let uri = try OtpAuthUri.parse(uri: text)
        let p = uri.parameters()
        XCTAssertEqual(p.otpType, .hotp)
        XCTAssertEqual(p.issuer, "ACME")
        XCTAssertEqual(p.account, "bob")
        XCTAssertEqual(p.algorithm, .sha256)
        XCTAssertEqual(p.digits, 8)
        XCTAssertEqual(p.counter, 42)
        XCTAssertNil(p.periodSeconds)
        XCTAssertEqual(uri.secret().toBase32(), Keys.sha1Base32)
    }

    func testNewTotpFormatsAUriThatParsesBackToTheSameFields() throws {
        let secret = try OtpSecret.generate()
        let uri = try OtpAuthUri.newTotp(
            issuer: "Digital Bank", account: "alice@example.com", secret: secret, algorithm: .sha256, digits: 8, periodSeconds: 60
        )
        let text = uri.toUriString()
        XCTAssertTrue(text.hasPrefix("otpauth://totp/"), text)
        XCTAssertTrue(text.contains("secret=\(secret.toBase32())"), "the URI carries the secret")
        let back = try OtpAuthUri.parse(uri: text)
        XCTAssertEqual(back.parameters(), uri.parameters())
        XCTAssertEqual(
            back.parameters(),
            OtpAuthParameters(
                otpType: .totp, issuer: "Digital Bank", account: "alice@example.com",
                algorithm: .sha256, digits: 8, periodSeconds: 60, counter: nil
            )
        )
        XCTAssertEqual(back.secret(), secret)
        XCTAssertEqual(back.toUriString(), text)
    }

    func testNewHotpFormatsAUriThatParsesBackToTheSameFields() throws {
        let secret = try Keys.rfcSecret()
        let uri = try OtpAuthUri.newHotp(issuer: nil, account: "bob", secret: secret, algorithm: .sha1, digits: 6, counter: 7)
        let back = try OtpAuthUri.parse(uri: uri.toUriString())
        XCTAssertEqual(
            back.parameters(),
            OtpAuthParameters(otpType: .hotp, issuer: nil, account: "bob", algorithm: .sha1, digits: 6, periodSeconds: nil, counter: 7)
        )
        // RFC 4226 Appendix D: counter 7 is 162583.
        let counter = try XCTUnwrap(back.parameters().counter)
        XCTAssertEqual(try back.hotp().generate(counter: counter), "162583")
    }

    func testANonAsciiIssuerAndAccountArePercentEncodedAndRoundTrip() throws {
        let secret = try OtpSecret.generate()
        let uri = try OtpAuthUri.newTotp(
            issuer: "한국은행", account: "홍길동 (개인)", secret: secret, algorithm: .sha1, digits: 6, periodSeconds: 30
        )
        let text = uri.toUriString()
        XCTAssertTrue(text.allSatisfy { $0.isASCII }, "the URI is ASCII: \(text)")
        XCTAssertFalse(text.contains(" "), text)
        XCTAssertTrue(text.contains("%ED%95%9C%EA%B5%AD%EC%9D%80%ED%96%89"), text)
        XCTAssertTrue(try XCTUnwrap(text.removingPercentEncoding).contains("한국은행:홍길동 (개인)"), text)
        let back = try OtpAuthUri.parse(uri: text)
        XCTAssertEqual(back.parameters().issuer, "한국은행")
        XCTAssertEqual(back.parameters().account, "홍길동 (개인)")
        XCTAssertEqual(back.parameters(), uri.parameters())
        XCTAssertEqual(back.secret(), secret)
    }

    func testTheUrisTotpGeneratesTheSameCodesAsATotpFromTheSameSecret() throws {
        let uri = try OtpAuthUri.parse(uri: googleExample)
        let expected = try Totp(
            secret: try OtpSecret.fromBase32(text: Keys.exampleBase32), algorithm: .sha1, digits: 6, periodSeconds: 30, t0: 0
        )
        let totp = try uri.totp()
        for t: UInt64 in [0, 59, 1_111_111_109, 1_234_567_890, 2_000_000_000] {
            XCTAssertEqual(try totp.codeAt(unixTime: t), try expected.codeAt(unixTime: t), "at \(t)")
        }
        let now = try totp.codeNow()
        XCTAssertEqual(expected.codeForStep(step: now.step), now.code)
        XCTAssertEqual(totp.algorithm(), .sha1)
        XCTAssertEqual(totp.digits(), 6)
        XCTAssertEqual(totp.periodSeconds(), 30)
    }

    func testConstructorsRefuseBadFieldsWithInvalidParameter() throws {
        let secret = try Keys.rfcSecret()
        let hidden = [Keys.sha1Base32]
        assertOtpError(
            try OtpAuthUri.newTotp(issuer: "Bank", account: "alice", secret: secret, algorithm: .sha1, digits: 5, periodSeconds: 30),
            .invalidParameter, hiding: hidden
        )
        assertOtpError(
            try OtpAuthUri.newTotp(issuer: "Bank", account: "alice", secret: secret, algorithm: .sha1, digits: 6, periodSeconds: 0),
            .invalidParameter, hiding: hidden
        )
        assertOtpError(
            try OtpAuthUri.newTotp(issuer: "Bank:Evil", account: "alice", secret: secret, algorithm: .sha1, digits: 6, periodSeconds: 30),
            .invalidParameter, hiding: hidden
        )
        assertOtpError(
            try OtpAuthUri.newHotp(issuer: "Bank", account: "  ", secret: secret, algorithm: .sha1, digits: 6, counter: 0),
            .invalidParameter, hiding: hidden
        )
    }

    /// Malformed URIs: each is InvalidUri, and no message holds the secret text it carries.
    func testMalformedUrisAreInvalidUriWithoutTheSecretInTheMessage() throws {
        let s = Keys.exampleBase32
        let cases: [(name: String, uri: String)] = [
            ("wrong scheme", "https://totp/Example:alice?secret=\(s)"),
            ("no scheme", "totp/Example:alice?secret=\(s)"),
            ("unknown type", "otpauth://motp/Example:alice?secret=\(s)"),
            ("missing secret", "otpauth://totp/Example:alice?issuer=Example"),
            ("empty secret", "otpauth://totp/Example:alice?secret="),
            ("secret not base32", "otpauth://totp/Example:alice?secret=\(s)1"),
            ("secret under 80 bits", "otpauth://totp/Example:alice?secret=JBSWY3DPEHPK"),
            ("repeated secret", "otpauth://totp/Example:alice?secret=\(s)&secret=\(s)"),
            ("hotp without counter", "otpauth://hotp/Example:alice?secret=\(s)"),
            ("hotp with a non-numeric counter", "otpauth://hotp/Example:alice?secret=\(s)&counter=x1"),
            ("hotp with a period", "otpauth://hotp/Example:alice?secret=\(s)&counter=1&period=30"),
            ("totp with a counter", "otpauth://totp/Example:alice?secret=\(s)&counter=1"),
            ("bad percent-encoding in the label", "otpauth://totp/Exa%zzmple:alice?secret=\(s)"),
            ("truncated percent-encoding", "otpauth://totp/Example:alice%4?secret=\(s)"),
            ("percent-encoded bytes that are not UTF-8", "otpauth://totp/Example:al%FFice?secret=\(s)"),
            ("bad percent-encoding in the query", "otpauth://totp/Example:alice?secret=\(s)&issuer=Ex%G1"),
            ("digits=5", "otpauth://totp/Example:alice?secret=\(s)&digits=5"),
            ("digits=11", "otpauth://totp/Example:alice?secret=\(s)&digits=11"),
            ("digits not a number", "otpauth://totp/Example:alice?secret=\(s)&digits=six"),
            ("period=0", "otpauth://totp/Example:alice?secret=\(s)&period=0"),
            ("unknown algorithm", "otpauth://totp/Example:alice?secret=\(s)&algorithm=MD5"),
            ("missing account", "otpauth://totp/Example:?secret=\(s)"),
            ("no label", "otpauth://totp?secret=\(s)"),
            ("issuer with a colon", "otpauth://totp/alice?secret=\(s)&issuer=A%3AB"),
            ("fragment", "otpauth://totp/Example:alice?secret=\(s)#frag"),
            ("longer than 4096 bytes", "otpauth://totp/Example:alice?secret=\(s)&image=" + String(repeating: "x", count: 4100)),
        ]
        XCTAssertEqual(cases.count, 26)
        for c in cases {
            XCTAssertNotNil(
                assertOtpError(try OtpAuthUri.parse(uri: c.uri), .invalidUri, hiding: [s, "JBSWY3DPEHPK", "EHPK3PXP"]),
                c.name
            )
        }
    }
}
