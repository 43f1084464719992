// The Keychain exists only on Apple platforms: on Linux (where `swift test` also runs)
// this file compiles to nothing.
#if canImport(Security)
import DigitalOTP
import Foundation
import Security

/// The SDK's `SecureStore` over the iOS Keychain: one generic password per store key
/// (`kSecAttrService` = `service`, `kSecAttrAccount` = the key), readable only while the
/// phone is unlocked and never migrated to another device
/// (`kSecAttrAccessibleWhenUnlockedThisDeviceOnly`: not in backups, not restored to a
/// new phone, which is what a device-bound OTP needs).
///
/// `write` replaces the value atomically: `SecItemUpdate` of the existing item (the
/// Keychain swaps the data in one transaction), else `SecItemAdd`; a concurrent add
/// (`errSecDuplicateItem`) is retried as an update. `delete` of a missing key succeeds.
/// Failures are thrown as `HostError.Failed` with the Keychain's status.
///
/// The SDK's blobs are already encrypted and authenticated; the Keychain adds the
/// device binding and the lock-state protection.
public final class KeychainStore: DigitalOTP.SecureStore {
    private let service: String
    private let accessGroup: String?
    private let useDataProtectionKeychain: Bool

    /// - Parameters:
    ///   - service: the `kSecAttrService` of every item (one per store; the app's bundle
    ///     id and a purpose, e.g. `org.example.bank.digital-otp`).
    ///   - accessGroup: a Keychain access group shared with app extensions, or nil.
    ///   - useDataProtectionKeychain: `kSecUseDataProtectionKeychain` (the iOS-style
    ///     Keychain; the only one on iOS). On macOS it needs a signed app with a
    ///     keychain entitlement; tests run without one pass false.
    public init(service: String, accessGroup: String? = nil, useDataProtectionKeychain: Bool = true) {
        self.service = service
        self.accessGroup = accessGroup
        self.useDataProtectionKeychain = useDataProtectionKeychain
    }

    // MARK: - SecureStore

    public func read(key: String) throws -> Data? {
        var query = itemQuery(key)
        query[kSecReturnData as String] = true
        query[kSecMatchLimit as String] = kSecMatchLimitOne
        var result: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &result)
        switch status {
        case errSecSuccess:
            guard let data = result as? Data else {
                throw HostError.Failed(reason: "the Keychain returned no data for a stored item")
            }
            return data
        case errSecItemNotFound:
            return nil
        default:
            throw failure("read", status)
        }
    }

    public func write(key: String, value: Data) throws {
        let attributes: [String: Any] = [
            kSecValueData as String: value,
            kSecAttrAccessible as String: kSecAttrAccessibleWhenUnlockedThisDeviceOnly,
        ]
        let updated = SecItemUpdate(itemQuery(key) as CFDictionary, attributes as CFDictionary)
        switch updated {
        case errSecSuccess:
            return
        case errSecItemNotFound:
            var item = itemQuery(key)
            item.merge(attributes) { _, new in new }
            let added = SecItemAdd(item as CFDictionary, nil)
            switch added {
            case errSecSuccess:
                return
            case errSecDuplicateItem:
                // Added by another thread in between: replace it.
                let retried = SecItemUpdate(itemQuery(key) as CFDictionary, attributes as CFDictionary)
                guard retried == errSecSuccess else {
                    throw failure("update", retried)
                }
            default:
                throw failure("add", added)
            }
        default:
            throw failure("update", updated)
        }
    }

    public func delete(key: String) throws {
        let status = SecItemDelete(itemQuery(key) as CFDictionary)
        guard status == errSecSuccess || status == errSecItemNotFound else {
            throw failure("delete", status)
        }
    }

    // MARK: - Helpers

    /// The attributes that identify the item of `key`.
    private func itemQuery(_ key: String) -> [String: Any] {
        var query: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: key,
        ]
        if useDataProtectionKeychain {
            query[kSecUseDataProtectionKeychain as String] = true
        }
        if let accessGroup = accessGroup {
            query[kSecAttrAccessGroup as String] = accessGroup
        }
        return query
    }

    /// The error for a failed Keychain call; names the key's operation and status, never
    /// the value.
    private func failure(_ operation: String, _ status: OSStatus) -> HostError {
        let message = SecCopyErrorMessageString(status, nil) as String? ?? "unknown error"
        if status == errSecInteractionNotAllowed {
            return HostError.Failed(reason: "Keychain \(operation) refused while the phone is locked (\(status))")
        }
        return HostError.Failed(reason: "Keychain \(operation) failed: \(message) (\(status))")
    }
}

#endif
