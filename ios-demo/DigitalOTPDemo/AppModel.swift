import DemoFakeBank
import DemoFlow
import DemoKeychain
import DemoServiceBank
import DigitalOTP
import Foundation

/// Owns the flow and publishes its state to the views. Every event goes through `send`,
/// one at a time: the flow runs off the main thread (the SDK's password checks take a
/// fraction of a second) and the new state is published on the main thread. A timer
/// sends `tick` every second while a code is on screen.
///
/// `@MainActor`: the views read it on the main thread; `OtpFlow` is an actor, so
/// `await flow.send` runs the event on the flow's executor, not on the main thread.
@MainActor
final class AppModel: ObservableObject {
    /// The screen to show.
    @Published private(set) var state: FlowState = .starting
    /// An event other than a tick is being handled: the views are disabled.
    @Published private(set) var isBusy = false
    /// Why the app could not start (no device id yet, the demo bank failed).
    @Published private(set) var setupError: String?
    /// What protects the device keys ("Secure Enclave, App Attest"; on a simulator,
    /// software keys), for the home screen.
    @Published private(set) var keyProtection = ""

    /// FOR THE DEMO ONLY: the in-app bank (the preview), for the enrollment screen's "get
    /// a code" button; nil when the app talks to the issuer service. A real app has no
    /// such thing: the bank hands out codes at a branch or on its website.
    private(set) var demoBank: FakeBankApi?
    /// FOR THE DEMO ONLY: the issuer service the app talks to, when one is configured
    /// (`ServiceBankSettings`: the scheme's environment, else Info.plist from project.yml).
    private(set) var serviceSettings: ServiceBankSettings?
    /// FOR THE DEMO ONLY: which bank this is, shown on every screen.
    @Published private(set) var bankLabel = ""

    private var flow: OtpFlow?
    private var inFlight = false
    private var ticker: Timer?

    init() {
        setUp()
    }

    /// Builds the flow: the SDK over the Keychain, the Secure Enclave and the phone's
    /// clock, the bank (the issuer service if configured, else the fake bank as a
    /// preview), the device id.
    func setUp() {
        guard let deviceId = DeviceIdentity.vendorId() else {
            setupError = "This phone has no device id yet (it was just restarted). Unlock it and try again."
            return
        }
        do {
            let bundleId = Bundle.main.bundleIdentifier ?? "org.digitalotp.demo"
            let clock = DeviceClock()
            // The SDK's blobs, the device keys' handles (Secure Enclave blobs, useless on
            // any other phone) and the app's own data (the phone number typed), in three
            // Keychain services, all WhenUnlockedThisDeviceOnly.
            let store = KeychainStore(service: bundleId + ".digital-otp")
            let profile = KeychainStore(service: bundleId + ".profile")
            // The device keys: the Secure Enclave, attested by App Attest where the phone
            // supports it (a simulator has neither: software keys, evidence `.none`). A
            // bank that wants a biometric unlock passes `biometry: true` (and the app's
            // Info.plist then needs NSFaceIDUsageDescription).
            let keys = HardwareDeviceKeys.platform(handles: KeychainStore(service: bundleId + ".device-keys"))
            // FOR THE DEMO ONLY: a real app's BankApi talks to its bank's own backend.
            let bank: BankApi
            let institutionId: String
            switch ServiceBankSettings.choose(
                environment: ProcessInfo.processInfo.environment, infoDictionary: Bundle.main.infoDictionary
            ) {
            case .service(let settings):
                // The issuer service plays the bank's backend, with a channel key in the
                // app: a server credential a real app never holds (see ServiceBankApi).
                bank = settings.bankApi()
                institutionId = settings.institutionId
                serviceSettings = settings
                demoBank = nil
                bankLabel = "DEMO: issuer service \(settings.baseURL.absoluteString), "
                    + "institution \(settings.institutionId), customer \(settings.customerId) "
                    + "(the app holds a channel key: never in a real app)"
            case .preview(let reason):
                let support = try FileManager.default.url(
                    for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true
                )
                // The bank lives in the app (see FakeBankApi), for trying the screens.
                let fake = try FakeBankApi.persistent(directory: support.appendingPathComponent("FakeBank", isDirectory: true))
                // It checks each new device key's evidence and records what it found, but
                // accepts the key: it has no trust anchor (a real bank requires Apple's App
                // Attestation root and its own app id).
                try fake.setAttestation(.warn)
                bank = fake
                institutionId = FakeBankApi.demoInstitutionId
                serviceSettings = nil
                demoBank = fake
                bankLabel = "PREVIEW (\(reason)): the bank is a fake inside the app"
            }
            flow = OtpFlow(
                otp: DigitalOtp.withClock(store: store, keys: keys, clock: clock),
                bank: bank,
                clock: clock,
                profile: profile,
                config: FlowConfig(institutionId: institutionId, deviceId: deviceId)
            )
            keyProtection = keys.protection
            setupError = nil
        } catch {
            setupError = "The demo bank could not start: \(error.localizedDescription)"
        }
    }

    /// At launch, and after a failed set-up.
    func start() {
        if flow == nil {
            setUp()
        }
        if case .starting = state {
            send(.start)
        }
    }

    /// Handles `event` unless another one is being handled (a tap during a password check
    /// is dropped; the views are disabled meanwhile).
    func send(_ event: FlowEvent) {
        guard let flow = flow, !inFlight else { return }
        inFlight = true
        var isTick = false
        if case .tick = event {
            isTick = true
        }
        if !isTick {
            isBusy = true
        }
        Task { @MainActor in
            let next = await flow.send(event)
            self.inFlight = false
            self.isBusy = false
            self.state = next
            self.updateTicker()
        }
    }

    /// Runs the one-second timer while a code is on screen, and only then.
    private func updateTicker() {
        if case .showingCode = state {
            if ticker == nil {
                // The timer fires on the main run loop; its block is not main-actor
                // isolated, so it hops back explicitly.
                let timer = Timer(timeInterval: 1, repeats: true) { [weak self] _ in
                    Task { @MainActor in self?.send(.tick) }
                }
                RunLoop.main.add(timer, forMode: .common)
                ticker = timer
            }
        } else {
            ticker?.invalidate()
            ticker = nil
        }
    }
}
