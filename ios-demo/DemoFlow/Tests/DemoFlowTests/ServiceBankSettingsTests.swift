import DemoServiceBank
import Foundation
import XCTest

/// `ServiceBankSettings.choose`: the demo app's service or preview, from the environment
/// and the Info.plist. Needs no service.
final class ServiceBankSettingsTests: XCTestCase {
    private let key = "dotp_" + String(repeating: "c", count: 16) + "_" + String(repeating: "d", count: 64)

    private var plist: [String: Any] {
        [
            "DigitalOTPServiceURL": " http://127.0.0.1:8470 ",
            "DigitalOTPInstitution": "demo-bank",
            "DigitalOTPCustomer": "12345",
            "DigitalOTPChannelKey": key,
        ]
    }

    private func reason(_ choice: ServiceBankSettings.Choice, file: StaticString = #filePath, line: UInt = #line) -> String? {
        if case .preview(let reason) = choice {
            return reason
        }
        XCTFail("expected the preview", file: file, line: line)
        return nil
    }

    func testAllFourValuesChooseTheServiceWithoutShowingTheKey() throws {
        guard case .service(let settings) = ServiceBankSettings.choose(environment: [:], infoDictionary: plist) else {
            return XCTFail("expected the service")
        }
        XCTAssertEqual(settings.baseURL.absoluteString, "http://127.0.0.1:8470")
        XCTAssertEqual(settings.institutionId, "demo-bank")
        XCTAssertEqual(settings.customerId, "12345")
        XCTAssertEqual(settings.description, "ServiceBankSettings(http://127.0.0.1:8470, demo-bank, 12345)")
        let api = settings.bankApi()
        XCTAssertEqual(api.institutionId, "demo-bank")
        XCTAssertEqual(api.customerId, "12345")
        XCTAssertFalse("\(settings)".contains(String(repeating: "c", count: 16)))
    }

    func testTheEnvironmentComesFirstAndABlankOneIsNotGiven() throws {
        let environment = ["DIGITAL_OTP_SERVICE_URL": "https://otp.example", "DIGITAL_OTP_CUSTOMER": "  "]
        guard case .service(let settings) = ServiceBankSettings.choose(environment: environment, infoDictionary: plist) else {
            return XCTFail("expected the service")
        }
        XCTAssertEqual(settings.baseURL.absoluteString, "https://otp.example")
        XCTAssertEqual(settings.customerId, "12345")
    }

    func testNothingOrEmptyBuildSettingsChooseThePreview() {
        XCTAssertEqual(reason(ServiceBankSettings.choose(environment: [:], infoDictionary: nil)), "no issuer service configured")
        let unset: [String: Any] = ["DigitalOTPServiceURL": "", "DigitalOTPInstitution": "", "DigitalOTPCustomer": "", "DigitalOTPChannelKey": ""]
        XCTAssertEqual(reason(ServiceBankSettings.choose(environment: [:], infoDictionary: unset)), "no issuer service configured")
    }

    func testSomeValuesChooseThePreviewNamingTheMissingOnes() {
        var partial = plist
        partial["DigitalOTPCustomer"] = nil
        partial["DigitalOTPChannelKey"] = ""
        XCTAssertEqual(
            reason(ServiceBankSettings.choose(environment: [:], infoDictionary: partial)),
            "service settings incomplete, missing DigitalOTPCustomer (DIGITAL_OTP_CUSTOMER), DigitalOTPChannelKey (DIGITAL_OTP_CHANNEL_KEY)"
        )
    }

    func testAURLThatIsNotHttpWithAHostChoosesThePreviewWithoutTheKey() {
        for url in ["127.0.0.1:8470", "ftp://127.0.0.1", "http://", "not a url"] {
            var bad = plist
            bad["DigitalOTPServiceURL"] = url
            let text = reason(ServiceBankSettings.choose(environment: [:], infoDictionary: bad))
            XCTAssertEqual(text, "service settings invalid: the service URL must be http:// or https:// with a host", url)
            XCTAssertFalse(text?.contains(String(repeating: "c", count: 16)) ?? false)
        }
    }
}
