import DemoFlow
import DigitalOTP
import SwiftUI

/// Amount and payee, as the SDK summarizes them (`transactionSummary`), to confirm before
/// the code is made: the code is bound to exactly this transfer.
struct TransferConfirmationView: View {
    @ObservedObject var model: AppModel
    let confirmation: TransferConfirmation

    var body: some View {
        Form {
            Section {
                InfoRow(label: "Amount", value: confirmation.amountText)
                InfoRow(label: "To", value: confirmation.payeeName)
                InfoRow(label: "Account", value: confirmation.payeeAccount)
                if let memo = confirmation.transaction.memo {
                    InfoRow(label: "Memo", value: memo)
                }
            } header: {
                Text("Confirm the transfer")
            }
            Section {
                Text(confirmation.summary)
                    .font(.callout)
            } header: {
                Text("What the code will confirm")
            } footer: {
                Text("The code is valid for this transfer only: another amount or payee is refused.")
            }
            Section {
                Button("Confirm") {
                    model.send(.confirmTransfer)
                }
                Button("Cancel", role: .cancel) {
                    model.send(.close)
                }
            }
        }
        .navigationTitle("Transfer")
    }
}
