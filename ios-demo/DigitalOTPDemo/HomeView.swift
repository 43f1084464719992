import DemoFlow
import DigitalOTP
import SwiftUI

/// The credential, a login code, and a transfer to confirm.
struct HomeView: View {
    @ObservedObject var model: AppModel
    let credential: CredentialInfo
    let notice: FlowNotice?

    // A transfer, as the bank app's transfer screen would fill it in.
    @State private var amount = "1500000"
    @State private var currency = "KRW"
    @State private var payeeAccount = "110-123-456789"
    @State private var payeeName = "홍길동"
    @State private var memo = ""
    @State private var confirmingReset = false

    private var statusText: String {
        switch credential.status {
        case .registering: return "Registering: waiting for the bank's answer"
        case .pending: return "Pending: send a first code to the bank to activate it"
        case .active: return "Active"
        case .locked: return "Locked"
        case .expired: return "Expired"
        case .deviceMismatch: return "Registered on another device"
        }
    }

    private var validUntilText: String {
        let date = Date(timeIntervalSince1970: TimeInterval(credential.validUntil))
        return DateFormatter.localizedString(from: date, dateStyle: .medium, timeStyle: .none)
    }

    /// The transfer typed; the SDK checks it (amount over zero, currency, payee).
    private var transfer: DigitalOTP.Transaction {
        let trimmedMemo = memo.trimmingCharacters(in: .whitespacesAndNewlines)
        return DigitalOTP.Transaction(
            amountMinor: UInt64(amount.filter { $0.isNumber }) ?? 0,
            currency: currency.uppercased(),
            payeeAccount: payeeAccount,
            payeeName: payeeName,
            memo: trimmedMemo.isEmpty ? nil : trimmedMemo
        )
    }

    var body: some View {
        Form {
            Section {
                InfoRow(label: "Bank", value: credential.institutionName)
                InfoRow(label: "Serial number", value: credential.serialNumber)
                InfoRow(label: "Status", value: statusText)
                InfoRow(label: "Valid until", value: validUntilText)
                InfoRow(label: "Password attempts left", value: String(credential.attemptsRemaining))
                InfoRow(label: "Device key", value: model.keyProtection)
            } header: {
                Text("Your digital OTP")
            } footer: {
                Text("The bank counts the wrong passwords: every password you enter is checked with the bank, and five wrong ones in a row lock the OTP.")
            }
            NoticeSection(notice: notice)
            Section {
                Button("Show a login code") {
                    model.send(.requestLoginCode)
                }
            }
            Section {
                TextField("Amount", text: $amount)
                    .keyboardType(.numberPad)
                TextField("Currency", text: $currency)
                    .disableAutocorrection(true)
                TextField("Payee account", text: $payeeAccount)
                    .keyboardType(.numbersAndPunctuation)
                TextField("Payee name", text: $payeeName)
                TextField("Memo (optional)", text: $memo)
                Button("Review the transfer") {
                    model.send(.requestTransfer(transfer))
                }
            } header: {
                Text("Transfer")
            } footer: {
                Text("Amount in minor units (won for KRW, cents for USD). You confirm amount and payee before the code is made.")
            }
            Section {
                Button("Change password") {
                    model.send(.requestPasswordChange)
                }
            }
            Section {
                Button("Forgot password", role: .destructive) {
                    confirmingReset = true
                }
            } footer: {
                Text("A forgotten password cannot be recovered: delete the OTP and register again.")
            }
        }
        .navigationTitle("Digital OTP")
        .alert("Delete your digital OTP?", isPresented: $confirmingReset) {
            Button("Delete", role: .destructive) {
                model.send(.forgotPassword)
            }
            Button("Cancel", role: .cancel) {}
        } message: {
            Text("Every OTP in this app is deleted. You will need a new registration code from the bank.")
        }
    }
}
