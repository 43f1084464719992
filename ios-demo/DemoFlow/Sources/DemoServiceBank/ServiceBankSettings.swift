import Foundation

// =====================================================================================
//  DEMO ONLY: which bank the demo app runs against. The channel key is a SERVER
//  credential (see ServiceBankApi.swift): a throwaway key of a local service only.
// =====================================================================================

/// DEMO ONLY: the issuer service the demo app talks to instead of its in-app fake bank,
/// from four values given at build or launch time (`AppModel`; ios-demo/README.md): for
/// each, the environment variable (an Xcode scheme's Run → Environment) if it is set and
/// not blank, else the Info.plist key (`project.yml` fills those from build settings).
///
/// All four given: `.service`. None: `.preview`, the fake bank, for trying the screens.
/// Some, or a URL that is not `http`/`https` with a host: `.preview` too, its reason
/// saying what is missing or wrong, so that the screens show it. No key appears in
/// `description` or in a reason.
public struct ServiceBankSettings: Sendable, CustomStringConvertible {
    /// The service's base URL (`dotp issuer serve`), e.g. `http://127.0.0.1:8470`.
    public let baseURL: URL
    /// The institution id (the service's path, the flow's `FlowConfig`).
    public let institutionId: String
    /// The customer of the demo's "session": every code is submitted as theirs.
    public let customerId: String
    private let channelKey: String

    /// One of the four values.
    public enum Name: String, CaseIterable, Sendable {
        case serviceURL = "DigitalOTPServiceURL"
        case institution = "DigitalOTPInstitution"
        case customer = "DigitalOTPCustomer"
        case channelKey = "DigitalOTPChannelKey"

        /// Its Info.plist key.
        public var infoPlistKey: String { rawValue }

        /// Its environment variable (the first, second and fourth as
        /// scripts/with-issuer-service.sh exports them).
        public var environmentVariable: String {
            switch self {
            case .serviceURL: return "DIGITAL_OTP_SERVICE_URL"
            case .institution: return "DIGITAL_OTP_SERVICE_INSTITUTION"
            case .customer: return "DIGITAL_OTP_CUSTOMER"
            case .channelKey: return "DIGITAL_OTP_CHANNEL_KEY"
            }
        }
    }

    /// The demo app's bank.
    public enum Choice: Sendable {
        /// The issuer service, with these settings.
        case service(ServiceBankSettings)
        /// No (usable) service: the fake bank in the app, and why.
        case preview(reason: String)
    }

    /// The choice for the values `value` gives (nil or blank: not given; values are trimmed).
    public static func choose(_ value: (Name) -> String?) -> Choice {
        var values: [Name: String] = [:]
        for name in Name.allCases {
            let text = (value(name) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            if !text.isEmpty {
                values[name] = text
            }
        }
        if values.isEmpty {
            return .preview(reason: "no issuer service configured")
        }
        let missing = Name.allCases.filter { values[$0] == nil }
        if !missing.isEmpty {
            let names = missing.map { "\($0.infoPlistKey) (\($0.environmentVariable))" }.joined(separator: ", ")
            return .preview(reason: "service settings incomplete, missing \(names)")
        }
        guard let text = values[.serviceURL], let institution = values[.institution],
              let customer = values[.customer], let key = values[.channelKey] else {
            return .preview(reason: "service settings incomplete")
        }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty else {
            return .preview(reason: "service settings invalid: the service URL must be http:// or https:// with a host")
        }
        return .service(ServiceBankSettings(baseURL: url, institutionId: institution, customerId: customer, channelKey: key))
    }

    /// The choice for the process's `environment` first, then `infoDictionary`
    /// (`Bundle.main.infoDictionary`; an unset build setting leaves an empty string there).
    public static func choose(environment: [String: String], infoDictionary: [String: Any]?) -> Choice {
        choose { name in
            if let fromEnvironment = environment[name.environmentVariable],
               !fromEnvironment.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                return fromEnvironment
            }
            return infoDictionary?[name.infoPlistKey] as? String
        }
    }

    /// The `BankApi` over the service, submitting every code as `customerId`'s.
    public func bankApi() -> ServiceBankApi {
        ServiceBankApi(baseURL: baseURL, institutionId: institutionId, channelKey: channelKey, customerId: customerId)
    }

    /// The URL, institution and customer: never the key.
    public var description: String {
        "ServiceBankSettings(\(baseURL.absoluteString), \(institutionId), \(customerId))"
    }
}
