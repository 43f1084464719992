import DemoFlow
import DigitalOTP
import SwiftUI

/// Changing the app password: the current one and the new one (twice). The new one is
/// checked against the policy as it is typed and by the flow before anything is sent;
/// then one round trip to the bank, which checks the current one (a wrong one counts, as
/// two guesses).
struct ChangePasswordView: View {
    @ObservedObject var model: AppModel
    let notice: FlowNotice?

    @State private var current = ""
    @State private var new = ""
    @State private var confirmation = ""

    /// The policy's verdict on the new password typed so far, once it has 6 characters.
    private var policyProblem: String? {
        guard new.count >= 6 else { return nil }
        do {
            try checkPasswordPolicy(password: new)
            return nil
        } catch DigitalOtpError.WeakPassword(let reason) {
            return reason
        } catch {
            return error.localizedDescription
        }
    }

    var body: some View {
        Form {
            Section {
                SecureField("Current password", text: $current)
                    .keyboardType(.numberPad)
            } header: {
                Text("Your OTP password")
            }
            Section {
                SecureField("New password", text: $new)
                    .keyboardType(.numberPad)
                SecureField("The same again", text: $confirmation)
                    .keyboardType(.numberPad)
                if let policyProblem = policyProblem {
                    Text(policyProblem)
                        .foregroundColor(.red)
                }
            } header: {
                Text("New password")
            } footer: {
                Text("6 digits, not a common, repeated or sequential one.")
            }
            NoticeSection(notice: notice)
            Section {
                Button("Change the password") {
                    let typed = (current, new, confirmation)
                    current = ""
                    new = ""
                    confirmation = ""
                    model.send(.changePassword(current: typed.0, new: typed.1, confirmation: typed.2))
                }
                .disabled(current.isEmpty || new.isEmpty || confirmation.isEmpty)
                Button("Cancel", role: .cancel) {
                    model.send(.close)
                }
            }
        }
        .navigationTitle("Change password")
    }
}
