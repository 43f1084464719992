import SwiftUI

/// The demo bank app: registers a digital OTP with the (fake, in-app) bank, then shows
/// login codes and transfer codes. The screens are in RootView; their logic is OtpFlow
/// (DemoFlow), tested by `swift test` in ios-demo/DemoFlow.
@main
struct DigitalOTPDemoApp: App {
    @StateObject private var model = AppModel()

    var body: some Scene {
        WindowGroup {
            RootView(model: model)
        }
    }
}
