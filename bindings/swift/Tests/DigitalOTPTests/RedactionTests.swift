import DigitalOTP
import XCTest

/// The records that carry a one-time code or a transaction's payee, account and memo print
/// redacted (Sources/DigitalOTP/Redaction.swift, issue 15, item 13): `description`,
/// `debugDescription`, string interpolation, `dump()` and `Mirror` show the serial number
/// and validity, or the amount and currency, and none of the secret values.
final class RedactionTests: XCTestCase {
    private let code = "493817"
    private let payeeName = "홍길동"
    private let payeeAccount = "110123456789"
    private let memo = "rent for March"
    private let summary = "Transfer KRW 1,500,000\nPayee: 홍길동\nAccount: 110123456789\nMemo: rent for March"
    private let serialNumber = "OTP-0001"

    /// Every text form of `value`: description, debugDescription, interpolation, dump().
    private func textForms<T>(_ value: T) -> [String: String] {
        var dumped = ""
        dump(value, to: &dumped)
        return [
            "String(describing:)": String(describing: value),
            "String(reflecting:)": String(reflecting: value),
            "interpolation": "\(value)",
            "dump": dumped,
            "in an array": "\([value])",
        ]
    }

    private func assertRedacted<T>(
        _ value: T, hides secrets: [String], shows facts: [String], fields: [String],
        file: StaticString = #filePath, line: UInt = #line
    ) {
        for (form, text) in textForms(value) {
            for secret in secrets {
                XCTAssertFalse(text.contains(secret), "\(form) shows a secret field", file: file, line: line)
            }
            for fact in facts {
                XCTAssertTrue(text.contains(fact), "\(form) of \(T.self) lacks \(fact): \(text)", file: file, line: line)
            }
        }
        let mirror = Mirror(reflecting: value)
        XCTAssertEqual(mirror.children.map { $0.label ?? "" }, fields, file: file, line: line)
        for child in mirror.children {
            let shown = String(reflecting: child.value)
            for secret in secrets {
                XCTAssertFalse(shown.contains(secret), "Mirror child \(child.label ?? "") shows a secret", file: file, line: line)
            }
        }
    }

    func testLoginCodeHidesTheCode() {
        let value = LoginCode(
            code: code, serialNumber: serialNumber, validFrom: 1_700_000_000, validUntil: 1_700_000_030,
            secondsRemaining: 12)
        assertRedacted(
            value, hides: [code], shows: [serialNumber, "1700000030"],
            fields: ["serialNumber", "validUntil", "secondsRemaining"])
        XCTAssertEqual(
            String(describing: value),
            "LoginCode(serialNumber: \"OTP-0001\", validUntil: 1700000030, secondsRemaining: 12, ..)")
        XCTAssertEqual(value.code, code, "the value itself is unchanged")
    }

    func testTransactionCodeHidesTheCodeAndTheSummary() {
        let value = TransactionCode(
            code: code, summary: summary, serialNumber: serialNumber, validFrom: 1_700_000_000,
            validUntil: 1_700_000_030, secondsRemaining: 12)
        assertRedacted(
            value, hides: [code, payeeName, payeeAccount, memo, "Payee"], shows: [serialNumber, "1700000030"],
            fields: ["serialNumber", "validUntil", "secondsRemaining"])
        XCTAssertEqual(
            String(reflecting: value),
            "TransactionCode(serialNumber: \"OTP-0001\", validUntil: 1700000030, secondsRemaining: 12, ..)")
        XCTAssertEqual(value.summary, summary, "the value itself is unchanged")
    }

    func testTransactionHidesThePayeeTheAccountAndTheMemo() {
        let value = Transaction(
            amountMinor: 1_500_000, currency: "KRW", payeeAccount: payeeAccount, payeeName: payeeName, memo: memo)
        assertRedacted(
            value, hides: [payeeName, payeeAccount, memo], shows: ["1500000", "KRW"],
            fields: ["amountMinor", "currency"])
        XCTAssertEqual(String(describing: value), "Transaction(amountMinor: 1500000, currency: \"KRW\", ..)")
        XCTAssertEqual(value.payeeAccount, payeeAccount, "the value itself is unchanged")
    }
}
