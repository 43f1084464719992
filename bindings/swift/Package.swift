// swift-tools-version:5.9
// The Swift package of the Digital OTP SDK. Its sources are build outputs:
// scripts/build-swift-package.sh builds the Rust library (target/debug), generates
// the UniFFI bindings and copies them into Sources/ (git-ignored):
//
//   Sources/DigitalOTP/DigitalOTP.swift        the Swift API (module DigitalOTP)
//   Sources/DigitalOTPFFI/DigitalOTPFFI.h      the C declarations of the library
//   Sources/DigitalOTPFFI/module.modulemap     module DigitalOTPFFI
//
// Then, on a Mac: `cd bindings/swift && swift test`.
// DIGITAL_OTP_LIB_DIR overrides where libdigital_otp is linked from.

import PackageDescription

let rustLibraryDirectory = Context.environment["DIGITAL_OTP_LIB_DIR"]
    ?? "\(Context.packageDirectory)/../../target/debug"

let package = Package(
    name: "DigitalOTP",
    platforms: [.macOS(.v12), .iOS(.v15)],
    products: [
        .library(name: "DigitalOTP", targets: ["DigitalOTP"]),
    ],
    targets: [
        // The C interface of libdigital_otp: the generated header and module map.
        .systemLibrary(name: "DigitalOTPFFI", path: "Sources/DigitalOTPFFI"),
        .target(
            name: "DigitalOTP",
            dependencies: ["DigitalOTPFFI"],
            path: "Sources/DigitalOTP",
            linkerSettings: [
                .linkedLibrary("digital_otp"),
                .unsafeFlags([
                    "-L", rustLibraryDirectory,
                    "-Xlinker", "-rpath", "-Xlinker", rustLibraryDirectory,
                ]),
            ]
        ),
        .testTarget(
            name: "DigitalOTPTests",
            dependencies: ["DigitalOTP"],
            path: "Tests/DigitalOTPTests"
        ),
    ]
)
