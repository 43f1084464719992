import DemoFlow
import SwiftUI

/// A label and its value on one row.
struct InfoRow: View {
    let label: String
    let value: String

    var body: some View {
        HStack {
            Text(label)
            Spacer()
            Text(value)
                .foregroundColor(.secondary)
                .multilineTextAlignment(.trailing)
        }
    }
}

/// The notice of the last event, if any, as a form section.
struct NoticeSection: View {
    let notice: FlowNotice?

    var body: some View {
        if let notice = notice {
            Section {
                NoticeLabel(notice: notice)
            }
        }
    }
}

/// A notice with an icon and a colour for its tone.
struct NoticeLabel: View {
    let notice: FlowNotice

    var body: some View {
        Label(notice.message, systemImage: notice.tone.symbol)
            .foregroundColor(notice.tone.color)
    }
}

enum NoticeTone {
    case good
    case info
    case problem

    var symbol: String {
        switch self {
        case .good: return "checkmark.circle"
        case .info: return "info.circle"
        case .problem: return "exclamationmark.triangle"
        }
    }

    var color: Color {
        switch self {
        case .good: return .green
        case .info: return .secondary
        case .problem: return .red
        }
    }
}

extension FlowNotice {
    var tone: NoticeTone {
        switch self {
        case .registered, .activated, .loginAccepted, .transferAccepted, .passwordChanged:
            return .good
        case .codeExpired, .screenClosed, .reset:
            return .info
        default:
            return .problem
        }
    }
}
