import DemoFlow
import DigitalOTP
import SwiftUI

/// Password setup: 6 digits, checked against the policy (`checkPasswordPolicy`) as it is
/// typed and again by the flow before anything is sent to the bank; then the registration
/// (its two round trips to the bank) starts.
struct PasswordSetupView: View {
    @ObservedObject var model: AppModel
    let notice: FlowNotice?

    @State private var password = ""
    @State private var confirmation = ""

    /// The policy's verdict on what is typed so far, once it has 6 characters.
    private var policyProblem: String? {
        guard password.count >= 6 else { return nil }
        do {
            try checkPasswordPolicy(password: password)
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
                SecureField("Password", text: $password)
                    .keyboardType(.numberPad)
                SecureField("The same again", text: $confirmation)
                    .keyboardType(.numberPad)
                if let policyProblem = policyProblem {
                    Text(policyProblem)
                        .foregroundColor(.red)
                }
            } header: {
                Text("Choose your OTP password")
            } footer: {
                Text("6 digits, not a common, repeated or sequential one. It unlocks the OTP on this phone only, checked with the bank each time: 5 wrong ones in a row lock it.")
            }
            NoticeSection(notice: notice)
            Section {
                Button("Register with the bank") {
                    let typed = password
                    let again = confirmation
                    password = ""
                    confirmation = ""
                    model.send(.choosePassword(password: typed, confirmation: again))
                }
                .disabled(password.isEmpty || confirmation.isEmpty)
                Button("Back", role: .cancel) {
                    model.send(.backToEnrollment)
                }
            }
        }
        .navigationTitle("Password")
    }
}
