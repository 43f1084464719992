package org.digitalotp.demo.flow

import org.digitalotp.Transaction

/**
 * What the app needs from the bank's own servers: the registration, and the codes the
 * customer submits. The bank app implements this over its existing authenticated,
 * certificate-pinned connection (the customer is already identified by the app's
 * session); the SDK never opens a connection itself. The same three operations as the iOS
 * demo's `BankApi` (`ios-demo/DemoFlow`).
 *
 * The demo ships a fake that runs the bank in the app process (module `fakebank`,
 * `FakeInProcessBank`): it is for trying the screens only and must not ship.
 *
 * Calls block; the flow runs them off the UI thread ([FlowRunner]). A transport failure
 * (no network, timeout, server error) is reported by throwing any exception, best
 * [BankUnavailableException]: the flow shows "try again" and keeps the state it had (the
 * password screen during registration, the code on screen while it is valid). A refusal
 * by the bank is an answer, not an exception.
 */
interface BankApi {
    /**
     * Sends the app's registration request (opaque bytes from `DigitalOtp.beginRegistration`)
     * to the bank and returns the bank's answer exactly as received, to pass to
     * `DigitalOtp.completeRegistration`. A refusal (expired or used code, another phone
     * number) is part of the answer: the SDK turns it into `RegistrationRejected`.
     */
    fun register(request: ByteArray): ByteArray

    /**
     * Submits a login code of the credential [serialNumber] at [institutionId]. True when
     * the bank accepted it, false when it refused it (wrong, used or expired code). The
     * first accepted code activates a new credential at the bank; the app then calls
     * `DigitalOtp.confirmActivation`.
     */
    fun verifyLogin(institutionId: String, serialNumber: String, code: String): Boolean

    /**
     * Submits [transaction] with its transaction code (from
     * `DigitalOtp.generateForTransaction`) of the credential [serialNumber] at
     * [institutionId]. True when the bank accepted the code for exactly this transfer (same
     * amount, currency and payee); false otherwise. Like a login code, the first accepted
     * one activates a new credential.
     */
    fun verifyTransfer(institutionId: String, serialNumber: String, code: String, transaction: Transaction): Boolean
}

/** The bank could not be reached or did not answer; the operation may be retried. */
class BankUnavailableException(message: String, cause: Throwable? = null) : Exception(message, cause)
