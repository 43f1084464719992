// The Secure Enclave and App Attest exist only on Apple platforms: on Linux (where
// `swift test` also runs) this file compiles to nothing. It is compiled by the macOS CI
// (`swift test` in ios-demo/DemoFlow, the demo app's simulator build); on Linux, swiftc
// only parses it (the inactive branch of `#if`), as does the static check's tree-sitter.
#if canImport(CryptoKit) && canImport(Security) && canImport(LocalAuthentication)
import CryptoKit
import DigitalOTP
import Foundation
import LocalAuthentication
import Security
#if canImport(DeviceCheck)
import DeviceCheck
#endif

/// The Secure Enclave as `SigningHardware`: P-256 keys made by
/// `SecureEnclave.P256.Signing.PrivateKey`, whose private part never leaves the enclave.
/// A key's handle is its `dataRepresentation`: an encrypted blob that only this phone's
/// Secure Enclave can turn back into the key (copied to another phone, or out of a
/// jailbroken one, it is useless). Public keys are `x963Representation` (65 bytes),
/// signatures `derRepresentation`.
///
/// Access control: `kSecAttrAccessibleWhenUnlockedThisDeviceOnly` and `.privateKeyUsage`
/// (the key signs only while the phone is unlocked); with `biometry`, also
/// `.biometryCurrentSet`: every signature needs the customer's face or finger, and
/// enrolling another one invalidates the key (then `sign` fails and the customer registers
/// again). That is for a bank that wants a biometric unlock on top of the app password.
public struct SecureEnclaveHardware: SigningHardware {
    /// Whether this device has a Secure Enclave (no simulator has one).
    public static var isAvailable: Bool { SecureEnclave.isAvailable }

    private let biometry: Bool
    private let prompt: String

    /// - Parameters:
    ///   - biometry: every signature needs Face ID or Touch ID (`.biometryCurrentSet`);
    ///     the app's Info.plist then needs `NSFaceIDUsageDescription`.
    ///   - prompt: what the system's biometric sheet says.
    public init(biometry: Bool = false, prompt: String = "Unlock your digital OTP") {
        self.biometry = biometry
        self.prompt = prompt
    }

    public var name: String { biometry ? "Secure Enclave, Face ID / Touch ID" : "Secure Enclave" }

    public func createKey() throws -> (handle: Data, publicKey: Data) {
        guard SecureEnclave.isAvailable else {
            throw HostError.Failed(reason: "this device has no Secure Enclave")
        }
        var flags: SecAccessControlCreateFlags = [.privateKeyUsage]
        if biometry {
            flags.insert(.biometryCurrentSet)
        }
        var error: Unmanaged<CFError>?
        guard let access = SecAccessControlCreateWithFlags(
            kCFAllocatorDefault, kSecAttrAccessibleWhenUnlockedThisDeviceOnly, flags, &error
        ) else {
            let reason = error.map { String(describing: $0.takeRetainedValue()) } ?? "unknown error"
            throw HostError.Failed(reason: "the key's access control could not be made: \(reason)")
        }
        do {
            let key = try SecureEnclave.P256.Signing.PrivateKey(compactRepresentable: false, accessControl: access)
            return (key.dataRepresentation, key.publicKey.x963Representation)
        } catch {
            throw HostError.Failed(reason: "the Secure Enclave could not create a key: \(error.localizedDescription)")
        }
    }

    public func sign(_ message: Data, handle: Data) throws -> Data {
        do {
            let context = LAContext()
            context.localizedReason = prompt
            let key = try SecureEnclave.P256.Signing.PrivateKey(dataRepresentation: handle, authenticationContext: context)
            return try key.signature(for: message).derRepresentation
        } catch {
            // A cancelled biometric sheet, a key invalidated by a new enrolment, a blob of
            // another phone: no signature, so no request reaches the bank.
            throw HostError.Failed(reason: "the Secure Enclave did not sign: \(error.localizedDescription)")
        }
    }
}

/// FOR THE SIMULATOR ONLY (it has no Secure Enclave): P-256 keys in software
/// (`P256.Signing.PrivateKey`), the handle being the private key itself
/// (`rawRepresentation`). It protects nothing beyond the Keychain the handle is kept in;
/// its evidence is `.none`, which a bank that requires attestation refuses.
public struct SimulatorSoftwareHardware: SigningHardware {
    public init() {}

    public var name: String { "software keys (simulator: no Secure Enclave)" }

    public func createKey() throws -> (handle: Data, publicKey: Data) {
        let key = P256.Signing.PrivateKey(compactRepresentable: false)
        return (key.rawRepresentation, key.publicKey.x963Representation)
    }

    public func sign(_ message: Data, handle: Data) throws -> Data {
        do {
            return try P256.Signing.PrivateKey(rawRepresentation: handle).signature(for: message).derRepresentation
        } catch {
            throw HostError.Failed(reason: "the software key did not sign: \(error.localizedDescription)")
        }
    }
}

#if canImport(DeviceCheck)
/// App Attest as `KeyAttester`: a new App Attest key (`DCAppAttestService.generateKey`)
/// attests `SHA-256(challenge ‖ public key)` (`attestKey(_:clientDataHash:)`): Apple's
/// statement that the device key was made for this challenge by a genuine copy of this
/// app on a genuine Apple device. The bank checks it under its policy (Apple's App
/// Attestation root, its `TEAMID.bundle.id`, the production environment); the SDK only
/// passes it on (`KeyEvidence(kind: .appleAppAttest, appAttestObject:, appAttestKeyId:)`,
/// the key id base64-decoded).
///
/// Where App Attest is not supported (the simulator, most Macs, an app extension) the
/// evidence is `.none`. `attestKey` asks Apple's servers: the SDK's `createKey` is
/// synchronous, so this waits (at most `timeout` seconds) on the calling thread, which is
/// the flow's, never the main thread.
@available(iOS 14.0, macOS 11.0, tvOS 15.0, watchOS 9.0, *)
public struct AppAttestAttester: KeyAttester {
    private let timeout: TimeInterval

    public init(timeout: TimeInterval = 30) {
        self.timeout = timeout
    }

    /// Whether this device and app can attest keys.
    public static var isSupported: Bool { DCAppAttestService.shared.isSupported }

    public func attest(challenge: Data, publicKey: Data) throws -> KeyEvidence? {
        let service = DCAppAttestService.shared
        guard service.isSupported else {
            return nil
        }
        let clientDataHash = Data(SHA256.hash(data: challenge + publicKey))
        let keyId: String = try wait("generate an App Attest key") { done in
            service.generateKey { keyId, error in
                done(keyId, error)
            }
        }
        let object: Data = try wait("attest the device key") { done in
            service.attestKey(keyId, clientDataHash: clientDataHash) { object, error in
                done(object, error)
            }
        }
        guard let keyIdBytes = Data(base64Encoded: keyId) else {
            throw HostError.Failed(reason: "App Attest gave a key id that is not base64")
        }
        return KeyEvidence(kind: .appleAppAttest, appAttestObject: object, appAttestKeyId: keyIdBytes)
    }

    /// Runs `start`, whose completion handler is called on another queue, and waits for it.
    private func wait<T: Sendable>(
        _ what: String,
        _ start: (@escaping @Sendable (T?, Error?) -> Void) -> Void
    ) throws -> T {
        let outcome = Outcome<T>()
        start { value, error in
            outcome.finish(value, error)
        }
        guard outcome.done.wait(timeout: .now() + timeout) == .success else {
            throw HostError.Failed(reason: "App Attest did not \(what) within \(Int(timeout)) s")
        }
        return try outcome.result(what)
    }
}

/// A completion handler's result, set on one thread and read on another.
private final class Outcome<T: Sendable>: @unchecked Sendable {
    let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var value: T?
    private var error: Error?

    func finish(_ value: T?, _ error: Error?) {
        lock.lock()
        self.value = value
        self.error = error
        lock.unlock()
        done.signal()
    }

    func result(_ what: String) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        if let value = value {
            return value
        }
        let reason = error?.localizedDescription ?? "no result"
        throw HostError.Failed(reason: "App Attest could not \(what): \(reason)")
    }
}
#endif

extension HardwareDeviceKeys {
    /// The device keys of this phone: the Secure Enclave (with App Attest where the
    /// device supports it), or, on a simulator, software keys (`SimulatorSoftwareHardware`).
    /// The handles go to `handles`: a `KeychainStore` of their own.
    public static func platform(handles: DigitalOTP.SecureStore, biometry: Bool = false) -> HardwareDeviceKeys {
        var attester: KeyAttester?
        #if canImport(DeviceCheck)
        if #available(iOS 14.0, macOS 11.0, tvOS 15.0, watchOS 9.0, *), AppAttestAttester.isSupported {
            attester = AppAttestAttester()
        }
        #endif
        let hardware: SigningHardware
        if SecureEnclaveHardware.isAvailable {
            hardware = SecureEnclaveHardware(biometry: biometry)
        } else {
            hardware = SimulatorSoftwareHardware()
        }
        return HardwareDeviceKeys(hardware: hardware, handles: handles, attester: attester)
    }
}

#endif
