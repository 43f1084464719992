package org.digitalotp.demo.flow

import org.digitalotp.Transaction

/**
 * What the app needs from the bank's own servers: the registration's messages, the unlock
 * of every code, and the codes the customer submits. The bank app implements this over
 * its existing authenticated, certificate-pinned connection (the customer is already
 * identified by the app's session); the SDK never opens a connection itself. The same
 * operations as the iOS demo's `BankApi` (`ios-demo/DemoFlow`).
 *
 * A registration is two round trips through [registrationMessage] (the request, then the
 * confirmation) and every code one through [unlock]: the bank counts each password guess
 * before it answers, so the count survives anything done to the phone (a restored
 * backup, a copied store). The messages are the SDK's opaque bytes, carried as they are.
 *
 * The demo ships a fake that runs the bank in the app process (module `fakebank`,
 * `FakeInProcessBank`): it is for trying the screens only and must not ship.
 *
 * Calls block; the flow runs them off the UI thread ([FlowRunner]). A transport failure
 * (no network, timeout, server error) is reported by throwing any exception, best
 * [BankUnavailableException]: the flow shows "try again" and keeps the state it had. A
 * refusal by the bank is an answer, not an exception.
 */
interface BankApi {
    /**
     * Sends one of the app's registration messages and returns the bank's answer exactly as
     * received: the request (from `DigitalOtp.beginRegistration`) is answered with the
     * response for `DigitalOtp.confirmRegistration`; the confirmation (from
     * `confirmRegistration`) with the outcome for `DigitalOtp.completeRegistration`. The
     * bank's server passes both to `Issuer.handleRegistration`. A refusal (a wrong, expired
     * or used code, another phone number, an untrusted device key) is part of the answer:
     * the SDK turns it into `RegistrationRejected`.
     */
    fun registrationMessage(message: ByteArray): ByteArray

    /**
     * Sends an unlock request (from `DigitalOtp.beginLoginCode`, `beginTransactionCode` or
     * `beginChangePassword`) and returns the bank's answer (from `Issuer.handleUnlock`), to
     * pass to the matching `complete…` call. The bank counts the password guess first; its
     * answer says how many attempts remain, or that the OTP is locked.
     */
    fun unlock(request: ByteArray): ByteArray

    /**
     * Submits a login code of the credential [serialNumber] at [institutionId]. True when
     * the bank accepted it, false when it refused it (wrong, used or expired code). The
     * first accepted code activates a new credential at the bank; the app then calls
     * `DigitalOtp.confirmActivation`.
     */
    fun verifyLogin(institutionId: String, serialNumber: String, code: String): Boolean

    /**
     * Submits [transaction] with its transaction code (from
     * `DigitalOtp.completeTransactionCode`) of the credential [serialNumber] at
     * [institutionId]. True when the bank accepted the code for exactly this transfer (same
     * amount, currency and payee); false otherwise. Like a login code, the first accepted
     * one activates a new credential.
     */
    fun verifyTransfer(institutionId: String, serialNumber: String, code: String, transaction: Transaction): Boolean
}

/** The bank could not be reached or did not answer; the operation may be retried. */
class BankUnavailableException(message: String, cause: Throwable? = null) : Exception(message, cause)
