import DemoFakeBank
import DemoFlow
import DemoServiceBank
import SwiftUI

/// Enrollment: the app registration code the bank issued, and the phone number (iOS
/// gives apps no API for it: the customer types the number the bank has on record).
struct EnrollmentView: View {
    @ObservedObject var model: AppModel
    let notice: FlowNotice?

    @State private var registrationCode = ""
    @State private var phoneNumber: String
    @State private var demoMessage: String?

    init(model: AppModel, phoneNumber: String, notice: FlowNotice?) {
        _model = ObservedObject(wrappedValue: model)
        _phoneNumber = State(initialValue: phoneNumber)
        self.notice = notice
    }

    var body: some View {
        Form {
            Section {
                TextField("Phone number, e.g. 010-1234-5678", text: $phoneNumber)
                    .keyboardType(.phonePad)
                    .textContentType(.telephoneNumber)
                TextField("Registration code, e.g. 1234-5678-9012", text: $registrationCode)
                    .keyboardType(.numbersAndPunctuation)
                    .disableAutocorrection(true)
            } header: {
                Text("Register this phone")
            } footer: {
                Text("The 12-digit code from your bank (branch or website), valid 10 minutes.")
            }
            NoticeSection(notice: notice)
            Section {
                Button("Next") {
                    model.send(.submitEnrollment(registrationCode: registrationCode, phoneNumber: phoneNumber))
                }
                .disabled(registrationCode.isEmpty || phoneNumber.isEmpty)
            }
            if let bank = model.demoBank {
                Section {
                    Button("Get a code from the demo bank") {
                        do {
                            registrationCode = try bank.issueRegistrationCode(phoneNumber: phoneNumber)
                            demoMessage = nil
                        } catch {
                            demoMessage = error.localizedDescription
                        }
                    }
                    .disabled(phoneNumber.isEmpty)
                    if let demoMessage = demoMessage {
                        Text(demoMessage)
                            .foregroundColor(.red)
                    }
                } header: {
                    Text("Demo only")
                } footer: {
                    Text("Asks the fake bank inside this app for a code for the number above, as a branch would.")
                }
            } else if let service = model.serviceSettings {
                Section {
                    Text(
                        "The bank's staff issue the code for customer \(service.customerId), whose phone number on record must be the one above: "
                            + "dotp issuer issue-code --institution \(service.institutionId) --customer \(service.customerId) --reference REF, "
                            + "or the service's staff API (ios-demo/README.md)."
                    )
                    .font(.footnote)
                } header: {
                    Text("Demo only: the issuer service")
                }
            }
        }
        .navigationTitle("Digital OTP")
    }
}
