import UIKit

/// The device id the credential is bound to.
enum DeviceIdentity {
    /// `identifierForVendor`: the same for every app of this vendor on this phone; new
    /// after all of them were deleted and one installed again (the Keychain keeps the
    /// credential, so the SDK then reports DeviceMismatch and the customer registers
    /// again). Nil right after a restart, before the first unlock: try again later.
    static func vendorId() -> String? {
        UIDevice.current.identifierForVendor?.uuidString
    }
}
