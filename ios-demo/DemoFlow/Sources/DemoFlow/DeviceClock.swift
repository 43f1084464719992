import DigitalOTP
import Foundation

/// The phone's clock, as the SDK's `Clock`. The app gives the same clock to
/// `DigitalOtp.withClock` and to `OtpFlow`, so the countdown and the codes agree.
/// (Qualified as `DigitalOTP.Clock`: the standard library has a `Clock` protocol too.)
public final class DeviceClock: DigitalOTP.Clock {
    public init() {}

    public func nowUnixSeconds() throws -> UInt64 {
        let seconds = Date().timeIntervalSince1970
        guard seconds >= 0 else {
            throw HostError.Failed(reason: "the device clock is before 1970")
        }
        return UInt64(seconds)
    }
}
