import DemoFlow
import SwiftUI

/// One screen per `FlowState`.
struct RootView: View {
    @ObservedObject var model: AppModel
    @Environment(\.scenePhase) private var scenePhase

    var body: some View {
        NavigationView {
            screen
                .disabled(model.isBusy)
                .overlay(busyIndicator)
                .safeAreaInset(edge: .bottom) {
                    DemoBankBanner(text: model.bankLabel, isPreview: model.demoBank != nil)
                }
        }
        .navigationViewStyle(.stack)
        .onAppear {
            model.start()
        }
        .onChange(of: scenePhase) { phase in
            // Leaving the app closes a code, password, password change or confirmation screen.
            if phase == .background {
                model.send(.close)
            }
        }
    }

    @ViewBuilder
    private var screen: some View {
        if let setupError = model.setupError {
            SetupErrorView(message: setupError) {
                model.start()
            }
        } else {
            switch model.state {
            case .starting:
                ProgressView("Loading")
            case .enrollment(let phoneNumber, let notice):
                EnrollmentView(model: model, phoneNumber: phoneNumber, notice: notice)
            case .passwordSetup(let notice):
                PasswordSetupView(model: model, notice: notice)
            case .finishingRegistration(let notice):
                FinishingRegistrationView(model: model, notice: notice)
            case .home(let credential, let notice):
                HomeView(model: model, credential: credential, notice: notice)
            case .confirmTransfer(let confirmation):
                TransferConfirmationView(model: model, confirmation: confirmation)
            case .passwordEntry(let purpose, let notice):
                PasswordEntryView(model: model, purpose: purpose, notice: notice)
            case .changePassword(let notice):
                ChangePasswordView(model: model, notice: notice)
            case .showingCode(let codeScreen):
                CodeView(model: model, screen: codeScreen)
            case .reRegistrationRequired(let reason):
                ReRegistrationView(model: model, reason: reason)
            }
        }
    }

    @ViewBuilder
    private var busyIndicator: some View {
        if model.isBusy {
            ProgressView()
                .padding()
                .background(RoundedRectangle(cornerRadius: 12).fill(Color(.systemBackground).opacity(0.9)))
        }
    }
}

/// FOR THE DEMO ONLY: which bank the app talks to (the issuer service, or the fake bank
/// as a preview), under every screen.
struct DemoBankBanner: View {
    let text: String
    let isPreview: Bool

    var body: some View {
        if !text.isEmpty {
            Text(text)
                .font(.caption)
                .foregroundColor(isPreview ? .orange : .secondary)
                .multilineTextAlignment(.center)
                .frame(maxWidth: .infinity)
                .padding(8)
                .background(Color(.secondarySystemBackground))
        }
    }
}

/// The app could not start.
struct SetupErrorView: View {
    let message: String
    let retry: () -> Void

    var body: some View {
        VStack(spacing: 20) {
            Image(systemName: "exclamationmark.triangle")
                .font(.largeTitle)
            Text(message)
                .multilineTextAlignment(.center)
            Button("Try again", action: retry)
                .buttonStyle(.borderedProminent)
        }
        .padding()
        .navigationTitle("Digital OTP")
    }
}
