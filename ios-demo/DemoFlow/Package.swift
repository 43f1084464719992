// swift-tools-version:6.0
// The demo app's logic, without UI: what `swift test` checks on a Mac.
//
//   DemoFlow      the screens' state machine (OtpFlow), the BankApi protocol the bank app
//                 implements, a DigitalOTP.Clock over the system time. Foundation only.
//   DemoFakeBank  FakeBankApi: a bank in the app's process over the SDK's Issuer.
//                 FOR THE DEMO ONLY; a real app talks to its bank's servers.
//   DemoServiceBank  ServiceBankApi: the BankApi over HTTP to the issuer service
//                 (`dotp issuer serve`) with the institution's channel key. DEMO ONLY: a
//                 stand-in for the bank's backend relay (an API key is a server credential,
//                 never shipped in an app). Foundation's URLSession (FoundationNetworking on Linux).
//   DemoKeychain  the iOS platform parts: KeychainStore (the SDK's SecureStore over the
//                 Keychain) and HardwareDeviceKeys (the SDK's DeviceKeys: the Secure
//                 Enclave, attested by App Attest; the Apple-only parts compile to nothing
//                 on Linux, where its tests use a stand-in for the hardware).
//
// It uses the SDK's Swift package by path (../../bindings/swift), whose XCFramework and
// generated Swift are built first (with the issuer, which DemoFakeBank needs):
//
//   macOS:  ios-demo/scripts/build-xcframework.sh --macos-only && (cd ios-demo/DemoFlow && swift test)
//   Linux:  scripts/test-swift.sh (there DemoKeychain is HardwareDeviceKeys only: no
//           Security, CryptoKit or DeviceCheck)
//
// Swift 6 language mode (complete concurrency checking) for every target.
//
// The Xcode app (ios-demo/project.yml) uses the products DemoFlow, DemoFakeBank,
// DemoServiceBank and DemoKeychain and the SDK's package directly; see ios-demo/README.md.

import PackageDescription

let package = Package(
    name: "DemoFlow",
    platforms: [.macOS(.v12), .iOS(.v15)],
    products: [
        .library(name: "DemoFlow", targets: ["DemoFlow"]),
        .library(name: "DemoFakeBank", targets: ["DemoFakeBank"]),
        .library(name: "DemoServiceBank", targets: ["DemoServiceBank"]),
        .library(name: "DemoKeychain", targets: ["DemoKeychain"]),
    ],
    dependencies: [
        // The SDK's Swift package (module DigitalOTP), completed by scripts/build-xcframework.sh.
        .package(name: "DigitalOTP", path: "../../bindings/swift"),
    ],
    targets: [
        .target(
            name: "DemoFlow",
            dependencies: [.product(name: "DigitalOTP", package: "DigitalOTP")],
            path: "Sources/DemoFlow"
        ),
        .target(
            name: "DemoFakeBank",
            dependencies: ["DemoFlow", .product(name: "DigitalOTP", package: "DigitalOTP")],
            path: "Sources/DemoFakeBank"
        ),
        .target(
            name: "DemoServiceBank",
            dependencies: ["DemoFlow", .product(name: "DigitalOTP", package: "DigitalOTP")],
            path: "Sources/DemoServiceBank"
        ),
        .target(
            name: "DemoKeychain",
            dependencies: [.product(name: "DigitalOTP", package: "DigitalOTP")],
            path: "Sources/DemoKeychain",
            linkerSettings: [.linkedFramework("Security", .when(platforms: [.macOS, .iOS]))]
        ),
        .testTarget(
            name: "DemoFlowTests",
            dependencies: [
                "DemoFlow",
                "DemoFakeBank",
                "DemoServiceBank",
                "DemoKeychain",
                .product(name: "DigitalOTP", package: "DigitalOTP"),
            ],
            path: "Tests/DemoFlowTests"
        ),
    ],
    swiftLanguageModes: [.v6]
)
