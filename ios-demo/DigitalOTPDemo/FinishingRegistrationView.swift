import DemoFlow
import SwiftUI

/// The registration's confirmation was sent, but the bank's answer did not arrive (the
/// bank could not be reached): the credential is stored and waits for it. Sending the
/// confirmation again finishes the registration.
struct FinishingRegistrationView: View {
    @ObservedObject var model: AppModel
    let notice: FlowNotice?

    var body: some View {
        Form {
            Section {
                Text("The bank has not answered yet. Your OTP is stored on this phone but cannot make codes until the bank's answer arrives.")
            } header: {
                Text("Finishing the registration")
            }
            NoticeSection(notice: notice)
            Section {
                Button("Try again") {
                    model.send(.retryRegistration)
                }
            }
            Section {
                Button("Start over", role: .destructive) {
                    model.send(.forgotPassword)
                }
            } footer: {
                Text("Deletes the OTP on this phone; you will need a new registration code from the bank.")
            }
        }
        .navigationTitle("Registration")
    }
}
