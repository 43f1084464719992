import DemoFlow
import SwiftUI

/// The credential can no longer be used (locked, on another device, expired, its
/// registration not finished): register again with a new code from the bank.
struct ReRegistrationView: View {
    @ObservedObject var model: AppModel
    let reason: ReRegistrationReason

    private var title: String {
        switch reason {
        case .locked: return "Your OTP is locked"
        case .deviceMismatch: return "Your OTP belongs to another device"
        case .expired: return "Your OTP has expired"
        case .registrationIncomplete: return "Your registration was not finished"
        }
    }

    private var explanation: String {
        switch reason {
        case .locked:
            return "Five wrong passwords were entered, so the OTP was destroyed on this phone. Ask the bank for a new registration code."
        case .deviceMismatch:
            return "It was registered with another phone number or on another installation of the app. Register again on this one."
        case .expired:
            return "Its validity has ended. Ask the bank for a new registration code."
        case .registrationIncomplete:
            return "The app was closed before the bank's answer arrived. Ask the bank for a new registration code and register again."
        }
    }

    var body: some View {
        VStack(spacing: 20) {
            Image(systemName: "exclamationmark.lock")
                .font(.system(size: 56))
                .foregroundColor(.orange)
            Text(title)
                .font(.title2)
                .multilineTextAlignment(.center)
            Text(explanation)
                .multilineTextAlignment(.center)
            Button("Register again") {
                model.send(.startReRegistration)
            }
            .buttonStyle(.borderedProminent)
            Spacer()
        }
        .padding()
        .navigationTitle("Digital OTP")
    }
}
