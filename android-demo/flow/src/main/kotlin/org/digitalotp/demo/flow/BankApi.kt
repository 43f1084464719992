package org.digitalotp.demo.flow

/**
 * The two calls the digital OTP needs from the bank's own server. The bank app implements
 * this over its existing authenticated, certificate-pinned connection (the customer is
 * already identified by the app's session); the SDK never opens a connection itself.
 *
 * The demo ships a fake that runs the bank in the app process (module `fakebank`,
 * `FakeInProcessBank`): it is for trying the screens only and must not ship.
 *
 * Calls block; the flow runs them off the UI thread. A transport failure (no network,
 * timeout, server error) is reported by throwing any exception, best
 * [BankUnavailableException]: the flow shows "try again" and keeps the state it had.
 */
interface BankApi {
    /** The institution id the bank's credentials carry (`CredentialInfo.institutionId`). */
    val institutionId: String

    /**
     * Sends the app's registration request (opaque bytes from `DigitalOtp.beginRegistration`)
     * to the bank and returns the bank's answer exactly as received (it may be a refusal,
     * which the SDK turns into `RegistrationRejected`).
     */
    fun register(request: ByteArray): ByteArray

    /**
     * Sends the first login code of the newly registered credential [serialNumber]. True
     * when the bank accepted it (the credential is then active at the bank and the app
     * calls `confirmActivation`); false when it refused the code.
     */
    fun activate(serialNumber: String, firstCode: String): Boolean
}

/** The bank could not be reached or did not answer; the operation may be retried. */
class BankUnavailableException(message: String, cause: Throwable? = null) : Exception(message, cause)
