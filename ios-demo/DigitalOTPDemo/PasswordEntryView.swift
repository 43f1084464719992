import DemoFlow
import SwiftUI

/// The app password, for a login code or the confirmed transfer's code: checked with the
/// bank (one round trip), which counts the wrong ones. A wrong one shows the attempts the
/// bank still allows (the fifth in a row locks the OTP).
struct PasswordEntryView: View {
    @ObservedObject var model: AppModel
    let purpose: PasswordPurpose
    let notice: FlowNotice?

    @State private var password = ""

    private var summary: String? {
        if case .transfer(let confirmation) = purpose {
            return confirmation.summary
        }
        return nil
    }

    private var title: String {
        summary == nil ? "Login code" : "Transfer code"
    }

    var body: some View {
        Form {
            if let summary = summary {
                Section {
                    Text(summary)
                        .font(.callout)
                } header: {
                    Text("Transfer")
                }
            }
            Section {
                SecureField("6 digits", text: $password)
                    .keyboardType(.numberPad)
            } header: {
                Text("Your OTP password")
            }
            NoticeSection(notice: notice)
            Section {
                Button("Show the code") {
                    let typed = password
                    password = ""
                    model.send(.enterPassword(typed))
                }
                .disabled(password.isEmpty)
                Button("Cancel", role: .cancel) {
                    model.send(.close)
                }
            }
        }
        .navigationTitle(title)
    }
}
