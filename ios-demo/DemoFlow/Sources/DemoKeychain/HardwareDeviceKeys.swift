import DigitalOTP
import Foundation

// The SDK's `DeviceKeys` over a hardware key store, split in two so that the part that
// speaks to the SDK compiles and is tested everywhere (Linux too, with a stand-in for the
// hardware) while the part that speaks to the hardware is Apple-only:
//
//   HardwareDeviceKeys    (this file)  the `DeviceKeys` the SDK calls: one key per alias,
//                                      its handle kept in a `SecureStore` (the Keychain),
//                                      the evidence of the attester, or `.none`
//   SigningHardware       (this file)  what holds the keys: creates P-256 keys, signs
//   KeyAttester           (this file)  what vouches for a key: App Attest
//   SecureEnclaveHardware, AppAttestAttester, SimulatorSoftwareHardware
//                         (SecureEnclaveKeys.swift, Apple only)

/// A store of P-256 signing keys whose private part never leaves it (the Secure Enclave).
///
/// A key is known by its *handle*, the bytes the hardware needs to use it again: for the
/// Secure Enclave, the key's `dataRepresentation`, an encrypted blob that only the Secure
/// Enclave of this phone can use. The handle is kept by `HardwareDeviceKeys` (in the
/// Keychain); deleting it destroys the key, since the hardware keeps no other reference.
public protocol SigningHardware: Sendable {
    /// A short description for the app's screens ("Secure Enclave").
    var name: String { get }

    /// A new key: its handle and its public key (65 bytes, SEC1 uncompressed:
    /// `04 ‖ x ‖ y`, CryptoKit's `x963Representation`). Throws `HostError.Failed` if the
    /// hardware refuses.
    func createKey() throws -> (handle: Data, publicKey: Data)

    /// The ECDSA P-256 SHA-256 signature of `message` (ASN.1 DER) by the key of `handle`.
    /// May block while the system asks for the customer's face or finger, for a key that
    /// needs it; throws `HostError.Failed` if the customer cancels or the hardware refuses.
    func sign(_ message: Data, handle: Data) throws -> Data
}

/// What vouches to the bank that a new key is in secure hardware, in this app (iOS: App
/// Attest).
public protocol KeyAttester: Sendable {
    /// The evidence about the key `publicKey` created for `challenge` (the SDK's
    /// registration challenge), or nil when this device cannot attest (then the evidence
    /// is `.none`, which the bank's policy may refuse). Throws `HostError.Failed` when it
    /// could attest and failed (Apple's server unreachable): the registration can be
    /// tried again.
    func attest(challenge: Data, publicKey: Data) throws -> KeyEvidence?
}

/// The SDK's `DeviceKeys` over `SigningHardware`: the SDK creates one key per credential
/// (`createKey`), signs the registration's confirmation and every unlock request with it
/// (`sign`), and deletes it with the credential (`deleteKey`).
///
/// Each key's handle is kept in `handles` under `HardwareDeviceKeys.handlePrefix` +
/// alias: on iOS a `KeychainStore` of its own
/// (`kSecAttrAccessibleWhenUnlockedThisDeviceOnly`: not in backups, not moved to another
/// phone, where the Secure Enclave could not use it anyway). The evidence of a new key is
/// the attester's, or `.none` without one (or where it cannot attest).
///
/// The SDK calls these methods from the thread that called it (the flow's, never the
/// main thread) and may hold its own lock meanwhile: nothing here calls back into the SDK.
public final class HardwareDeviceKeys: DeviceKeys {
    /// The prefix of the handles' keys in the `handles` store.
    public static let handlePrefix = "digital-otp.demo.device-key."

    private let hardware: SigningHardware
    private let handles: DigitalOTP.SecureStore
    private let attester: KeyAttester?

    /// - Parameters:
    ///   - hardware: what holds the keys (the Secure Enclave).
    ///   - handles: where the keys' handles are kept (the Keychain).
    ///   - attester: what vouches for a new key (App Attest), or nil: evidence `.none`.
    public init(hardware: SigningHardware, handles: DigitalOTP.SecureStore, attester: KeyAttester?) {
        self.hardware = hardware
        self.handles = handles
        self.attester = attester
    }

    /// What protects the keys, for the app's screens ("Secure Enclave, App Attest").
    public var protection: String {
        attester == nil ? hardware.name : hardware.name + ", App Attest"
    }

    // MARK: - DeviceKeys

    public func createKey(alias: String, challenge: Data) throws -> DeviceKey {
        let (handle, publicKey) = try hardware.createKey()
        guard publicKey.count == 65, publicKey.first == 0x04 else {
            throw HostError.Failed(reason: "\(hardware.name) gave a public key that is not an uncompressed P-256 point")
        }
        // Attested before the handle is kept: a failed attestation leaves no key behind
        // (without its handle, the new key cannot be used by anyone).
        let evidence = try attester?.attest(challenge: challenge, publicKey: publicKey) ?? KeyEvidence(kind: .none)
        try handles.write(key: HardwareDeviceKeys.handlePrefix + alias, value: handle)
        return DeviceKey(publicKey: publicKey, evidence: evidence)
    }

    public func sign(alias: String, message: Data) throws -> Data {
        guard let handle = try handles.read(key: HardwareDeviceKeys.handlePrefix + alias) else {
            throw HostError.Failed(reason: "no device key \(alias) on this phone")
        }
        return try hardware.sign(message, handle: handle)
    }

    public func deleteKey(alias: String) throws {
        try handles.delete(key: HardwareDeviceKeys.handlePrefix + alias)
    }
}
