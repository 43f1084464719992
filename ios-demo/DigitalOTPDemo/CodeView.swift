import DemoFlow
import SwiftUI

/// The code with its countdown. The code disappears when its validity ends; the screen
/// closes itself about a minute after it opened (AppModel ticks every second).
struct CodeView: View {
    @ObservedObject var model: AppModel
    let screen: CodeScreen

    private var summary: String? {
        if case .transfer(let confirmation) = screen.purpose {
            return confirmation.summary
        }
        return nil
    }

    private var title: String {
        summary == nil ? "Login code" : "Transfer code"
    }

    /// `123456` as `123 456`, `12345678` as `1234 5678`.
    private func grouped(_ code: String) -> String {
        let half = code.count / 2
        return String(code.prefix(half)) + " " + String(code.suffix(code.count - half))
    }

    private var codeCountdown: String {
        "Valid for \(screen.codeSecondsRemaining) s"
    }

    private var screenCountdown: String {
        "This screen closes in \(screen.screenSecondsRemaining) s"
    }

    var body: some View {
        VStack(spacing: 24) {
            if let summary = summary {
                Text(summary)
                    .font(.callout)
                    .multilineTextAlignment(.center)
            }
            if let code = screen.code {
                Text(grouped(code))
                    .font(.system(size: 44, weight: .semibold, design: .monospaced))
                    .textSelection(.enabled)
                ProgressView(value: Double(min(screen.codeSecondsRemaining, 30)), total: 30)
                Text(codeCountdown)
                    .font(.headline)
            } else {
                Text("Expired")
                    .font(.largeTitle)
                    .foregroundColor(.secondary)
            }
            Text(screenCountdown)
                .foregroundColor(.secondary)
            Text("Serial " + screen.serialNumber)
                .font(.footnote)
                .foregroundColor(.secondary)
            if let notice = screen.notice {
                NoticeLabel(notice: notice)
            }
            Button("Send to the bank (demo)") {
                model.send(.submitCode)
            }
            .buttonStyle(.borderedProminent)
            .disabled(screen.code == nil)
            Button("Close") {
                model.send(.close)
            }
            Spacer()
        }
        .padding()
        .navigationTitle(title)
    }
}
