package org.digitalotp.demo.flow

import org.digitalotp.Clock
import org.digitalotp.CredentialInfo
import org.digitalotp.CredentialStatus
import org.digitalotp.DeviceInfo
import org.digitalotp.DigitalOtp
import org.digitalotp.DigitalOtpException
import org.digitalotp.checkPasswordPolicy
import org.digitalotp.checkRegistrationCode
import org.digitalotp.transactionSummary

/**
 * What the flow is set up with: the Android twin of the iOS demo's `FlowConfig`. The
 * device id is not here: Android reads it (`Settings.Secure.ANDROID_ID`) with the line
 * number when the app starts, and passes both in [Event.Start].
 */
data class FlowConfig(
    /** The bank's institution id: the one credential this bank app uses (`CredentialInfo.institutionId`). */
    val institutionId: String,
    /** How long a code screen stays open before closing itself, in seconds. */
    val codeScreenSeconds: Long = OtpFlow.CODE_SCREEN_SECONDS,
)

/**
 * The screens' state machine of a bank app's digital OTP, in plain Kotlin: [handle] takes
 * an [Event], calls the SDK ([DigitalOtp]) and the bank ([BankApi]) as needed, and
 * returns the next [Screen]. The UI renders screens and sends events; it decides nothing.
 *
 * ```
 * Starting ─Start─▶ (no line number) PhoneNumberEntry ─PhoneNumberEntered─┐
 *     └───────────────────────────────────────────────────────────────────┴▶ by the stored credential:
 *         none ▶ Enrollment ─RegistrationCodeEntered─▶ PasswordSetup ─PasswordChosen─▶ (register) ▶ Home (PENDING)
 *         ACTIVE / PENDING ▶ Home
 *         REGISTERING (the app closed before the bank's outcome) ▶ Enrollment (REGISTRATION_NOT_FINISHED)
 *         LOCKED / EXPIRED / DEVICE_MISMATCH / unreadable ▶ ReRegistrationRequired ─StartReRegistration─▶ Enrollment
 * register: beginRegistration ─request─▶ BankApi.registrationMessage ─response─▶ confirmRegistration
 *           ─confirmation─▶ BankApi.registrationMessage ─outcome─▶ completeRegistration
 *         bank unreachable before the confirmation ▶ PasswordSetup (BankUnavailable; the code is still good)
 *         bank unreachable at the confirmation ▶ RegistrationUnfinished ─Retry─▶ the confirmation again
 * Home ─LoginCodeRequested─▶ PasswordEntry(Login) ─PasswordEntered─▶ (unlock) ▶ CodeShown ─Tick…─▶ (60 s) Home
 * Home ─TransferRequested─▶ ConfirmTransfer(summary) ─TransferConfirmed─▶ PasswordEntry(Transfer) ─▶ CodeShown
 * unlock: beginLoginCode / beginTransactionCode ─request─▶ BankApi.unlock ─answer─▶ completeLoginCode / completeTransactionCode
 * CodeShown ─CodeSubmitted─▶ BankApi.verifyLogin / verifyTransfer:
 *         accepted ▶ Home (LOGIN_ACCEPTED / TRANSFER_ACCEPTED; a PENDING OTP: confirmActivation, ACTIVATED)
 *         refused ▶ Home (CodeRejected)      bank unreachable ▶ CodeShown (BankUnavailable; send again)
 * PasswordEntry ─wrong password (the bank's answer)─▶ PasswordEntry(attempts left) … 5th ▶ ReRegistrationRequired(LOCKED)
 * Home ─ChangePasswordRequested─▶ ChangePassword ─PasswordChangeEntered─▶ (unlock, two guesses) ▶ Home (PASSWORD_CHANGED)
 * ```
 *
 * The count of wrong passwords is the bank's: every password typed is one unlock request,
 * and the attempts shown are what the bank's answer says. Nothing done to the phone's
 * storage (a restored backup, a copy) brings an attempt back.
 *
 * As in the iOS demo (`OtpFlow.submitCode`), a new credential is activated by the first
 * code the bank accepts, login or transfer: there is no separate activation call. A code
 * is sent once: the bank's answer closes the code screen.
 *
 * Blocking: a password check costs a PBKDF2 (~0.2 s) and a bank round trip, so the UI
 * calls [handle] off its main thread ([FlowRunner]). [handle] is
 * synchronized: events are applied one at a time. The flow keeps no password: each is
 * passed to the SDK and dropped. [clock] drives the code screen's countdowns; give the
 * SDK the same time source.
 */
class OtpFlow(
    private val otp: DigitalOtp,
    private val bank: BankApi,
    private val clock: Clock,
    /** The institution and the code screen's lifetime. */
    private val config: FlowConfig,
) : AutoCloseable {
    private val institutionId: String get() = config.institutionId

    private var deviceId: String? = null
    private var device: DeviceInfo? = null
    private var registrationCode: String? = null

    /** A registration stored on the phone whose outcome is not in yet: what to send or store again. */
    private class Unfinished(val confirmation: ByteArray, val outcome: ByteArray? = null)

    private var unfinished: Unfinished? = null

    /** The screen to show now. */
    @Volatile
    var screen: Screen = Screen.Starting
        private set

    /** The phone number the OTP is bound to, in E.164 form, once known. */
    val phoneNumberE164: String?
        @Synchronized get() = device?.phoneNumberE164()

    /** Applies [event] to the current screen and returns the new one (also in [screen]). */
    @Synchronized
    fun handle(event: Event): Screen {
        screen = next(screen, event)
        return screen
    }

    @Synchronized
    override fun close() {
        device?.close()
        device = null
    }

    private fun next(s: Screen, e: Event): Screen = when (s) {
        is Screen.Starting -> if (e is Event.Start) start(e) else s
        is Screen.PhoneNumberEntry -> if (e is Event.PhoneNumberEntered) useDevice(e.phoneNumber) { Screen.PhoneNumberEntry(it) } else s
        is Screen.Enrollment -> if (e is Event.RegistrationCodeEntered) codeEntered(s, e.code) else s
        is Screen.PasswordSetup -> when (e) {
            is Event.PasswordChosen -> register(e.password, e.confirmation)
            Event.Back -> Screen.Enrollment().also { registrationCode = null }
            else -> s
        }
        is Screen.RegistrationUnfinished -> when (e) {
            Event.Retry -> finishRegistration()
            Event.Back -> abandonRegistration()
            else -> s
        }
        is Screen.Home -> when (e) {
            Event.LoginCodeRequested -> askPassword(Purpose.Login, s.credential)
            is Event.TransferRequested -> try {
                Screen.ConfirmTransfer(e.transaction, transactionSummary(e.transaction))
            } catch (x: DigitalOtpException.InvalidTransaction) {
                s.copy(notice = null, error = Problem.InvalidTransfer(x.reason))
            }
            Event.ForgotPassword -> forgotPassword()
            Event.ChangePasswordRequested -> Screen.ChangePassword(s.credential.attemptsRemaining.toInt())
            Event.Retry -> home()
            else -> s
        }
        is Screen.ChangePassword -> when (e) {
            is Event.PasswordChangeEntered -> changePassword(s, e)
            Event.Back -> home()
            else -> s
        }
        is Screen.ConfirmTransfer -> when (e) {
            Event.TransferConfirmed -> askPassword(Purpose.Transfer(s.transaction, s.summary))
            Event.Back -> home()
            else -> s
        }
        is Screen.PasswordEntry -> when (e) {
            is Event.PasswordEntered -> unlock(s, e.password)
            Event.Back -> home()
            else -> s
        }
        is Screen.CodeShown -> when (e) {
            Event.Tick -> now().let { t -> if (t >= s.closesAt) home(Notice.CODE_SCREEN_CLOSED) else s.at(t) }
            Event.CodeSubmitted -> submitCode(s)
            Event.NewCodeRequested -> if (s.at(now()).codeExpired) askPassword(s.purpose) else s.at(now())
            Event.Back -> home()
            else -> s
        }
        is Screen.ReRegistrationRequired -> if (e == Event.StartReRegistration) reRegister(s.reason) else s
        is Screen.Unavailable -> if (e == Event.Retry) home() else s
    }

    // --- device -----------------------------------------------------------------------

    private fun start(e: Event.Start): Screen {
        deviceId = e.deviceId
        val phone = e.platformPhoneNumber?.trim()
        if (phone.isNullOrEmpty()) return Screen.PhoneNumberEntry()
        // A line number the SDK refuses (some carriers store odd values) is typed instead.
        return useDevice(phone) { Screen.PhoneNumberEntry() }
    }

    private fun useDevice(phoneNumber: String, refused: (Problem) -> Screen): Screen {
        val id = deviceId ?: return Screen.Starting
        val info = try {
            DeviceInfo(phoneNumber.trim(), id)
        } catch (x: DigitalOtpException.InvalidDevice) {
            return refused(Problem.InvalidPhoneNumber(x.reason))
        }
        device?.close()
        device = info
        return home()
    }

    // --- registration -----------------------------------------------------------------

    private fun codeEntered(s: Screen.Enrollment, code: String): Screen = try {
        checkRegistrationCode(code.trim())
        registrationCode = code.trim()
        Screen.PasswordSetup()
    } catch (_: DigitalOtpException.InvalidRegistrationCode) {
        s.copy(error = Problem.InvalidRegistrationCode)
    }

    /**
     * The registration's two round trips. The bank counts every answered request as a guess
     * of the code (five void it) and registers the phone only on the confirmation, so until
     * then a failure leaves the code good for another try from the password screen.
     */
    private fun register(password: String, confirmation: String): Screen {
        val code = registrationCode ?: return Screen.Enrollment()
        val device = device ?: return Screen.Starting
        if (password != confirmation) return Screen.PasswordSetup(Problem.PasswordsDoNotMatch)
        try {
            checkPasswordPolicy(password)
        } catch (x: DigitalOtpException.WeakPassword) {
            return Screen.PasswordSetup(Problem.WeakPassword(x.reason))
        }
        val confirmationMessage = try {
            // Creates the credential's device key (its attestation bound to this request).
            val request = otp.beginRegistration(institutionId, code, device, password)
            val response = try {
                bank.registrationMessage(request)
            } catch (x: Exception) {
                if (x is DigitalOtpException) throw x
                return Screen.PasswordSetup(Problem.BankUnavailable(x.message))
            }
            // A wrong, expired or used code fails here: the bank's key confirmation does not verify.
            otp.confirmRegistration(response)
        } catch (x: DigitalOtpException) {
            return registrationFailed(x)
        }
        unfinished = Unfinished(confirmationMessage)
        return finishRegistration()
    }

    /** Sends the confirmation (unless its outcome is in already) and stores the bank's outcome. */
    private fun finishRegistration(): Screen {
        val u = unfinished ?: return home()
        val outcome = u.outcome ?: try {
            bank.registrationMessage(u.confirmation)
        } catch (x: Exception) {
            return Screen.RegistrationUnfinished(Problem.BankUnavailable(x.message))
        }
        unfinished = Unfinished(u.confirmation, outcome)
        try {
            otp.completeRegistration(institutionId, outcome)
        } catch (x: DigitalOtpException) {
            // The same outcome can be stored again once the store works.
            if (x is DigitalOtpException.StorageFailed) return Screen.RegistrationUnfinished(Problem.StorageFailed(x.reason))
            // Refused by the bank (the code was used meanwhile): the SDK deleted the credential.
            unfinished = null
            return registrationFailed(x)
        }
        unfinished = null
        registrationCode = null
        // Pending until the bank accepts a first code (CodeSubmitted).
        return home(Notice.REGISTERED)
    }

    /** Gives up a registration whose outcome did not come: removes it and asks for the code again. */
    private fun abandonRegistration(): Screen {
        unfinished = null
        registrationCode = null
        try {
            otp.cancel(institutionId)
        } catch (_: DigitalOtpException.NotRegistered) {
        } catch (x: DigitalOtpException) {
            return failure(x)
        }
        return Screen.Enrollment(notice = Notice.REGISTRATION_NOT_FINISHED)
    }

    private fun registrationFailed(x: DigitalOtpException): Screen = when (x) {
        is DigitalOtpException.InvalidRegistrationCode -> newCode(Problem.InvalidRegistrationCode)
        is DigitalOtpException.RegistrationRejected -> newCode(Problem.RegistrationRejected(x.reason))
        is DigitalOtpException.InvalidResponse -> newCode(Problem.InvalidBankResponse)
        is DigitalOtpException.NoRegistrationInProgress -> newCode(Problem.InvalidBankResponse)
        is DigitalOtpException.WeakPassword -> Screen.PasswordSetup(Problem.WeakPassword(x.reason))
        // Nothing was stored, and the bank registers only on the confirmation: the code is still good.
        is DigitalOtpException.StorageFailed -> Screen.PasswordSetup(Problem.StorageFailed(x.reason))
        is DigitalOtpException.KeyStoreFailed -> Screen.PasswordSetup(Problem.KeyStoreFailed(x.reason))
        else -> failure(x)
    }

    private fun newCode(problem: Problem): Screen {
        registrationCode = null
        return Screen.Enrollment(error = problem)
    }

    private fun reRegister(reason: ReRegistrationReason): Screen {
        registrationCode = null
        val notice = when (reason) {
            ReRegistrationReason.LOCKED -> Notice.RE_REGISTER_LOCKED
            ReRegistrationReason.DEVICE_MISMATCH -> Notice.RE_REGISTER_DEVICE_MISMATCH
            ReRegistrationReason.EXPIRED -> Notice.RE_REGISTER_EXPIRED
            ReRegistrationReason.UNREADABLE -> {
                // Unreadable data cannot be replaced in place: remove it first.
                try {
                    otp.cancel(institutionId)
                } catch (_: DigitalOtpException.NotRegistered) {
                } catch (x: DigitalOtpException) {
                    return failure(x)
                }
                Notice.RE_REGISTER_UNREADABLE
            }
        }
        // Registering again replaces the old credential (the bank revokes the old device).
        return Screen.Enrollment(notice = notice)
    }

    private fun forgotPassword(): Screen {
        try {
            otp.cancel(institutionId)
        } catch (_: DigitalOtpException.NotRegistered) {
        } catch (x: DigitalOtpException) {
            return failure(x)
        }
        return Screen.Enrollment(notice = Notice.PASSWORD_FORGOTTEN)
    }

    // --- codes ------------------------------------------------------------------------

    private fun askPassword(purpose: Purpose, known: CredentialInfo? = null): Screen {
        val credential = known ?: when (val c = credential()) {
            is Lookup.Found -> c.info
            is Lookup.Elsewhere -> return c.screen
        }
        return Screen.PasswordEntry(purpose, credential.attemptsRemaining.toInt())
    }

    /**
     * One unlock round trip: the SDK's request (the password never leaves the phone), the
     * bank's answer (it counts the guess first), the code. A wrong password is the bank's
     * answer, with the attempts it still allows.
     */
    private fun unlock(s: Screen.PasswordEntry, password: String): Screen {
        val device = device ?: return Screen.Starting
        val institution = institutionId
        val retry = { problem: Problem -> Screen.PasswordEntry(s.purpose, s.attemptsRemaining, problem) }
        return try {
            when (val p = s.purpose) {
                Purpose.Login -> {
                    val request = otp.beginLoginCode(institution, password, device)
                    val answer = askBank(request)
                    otp.completeLoginCode(answer).let { codeShown(it.code, p, it.serialNumber, it.validUntil) }
                }
                is Purpose.Transfer -> {
                    val request = otp.beginTransactionCode(institution, password, device, p.transaction)
                    val answer = askBank(request)
                    otp.completeTransactionCode(answer).let {
                        // The SDK binds the code to the same canonical summary the customer confirmed.
                        check(it.summary == p.summary) { "the transaction changed after confirmation" }
                        codeShown(it.code, p, it.serialNumber, it.validUntil)
                    }
                }
            }
        } catch (x: DigitalOtpException.WrongPassword) {
            val left = x.attemptsRemaining.toInt()
            Screen.PasswordEntry(s.purpose, left, Problem.WrongPassword(left))
        } catch (x: DigitalOtpException.InvalidTransaction) {
            home(error = Problem.InvalidTransfer(x.reason))
        } catch (x: DigitalOtpException) {
            unlockFailed(x) ?: retry(unlockProblem(x))
        } catch (x: BankUnreachable) {
            // The password is typed again: the flow keeps none.
            retry(x.problem)
        }
    }

    /**
     * Changing the app password: one unlock round trip in which the bank evaluates the old
     * and the new password (a wrong old one costs two attempts); with the bank's answer the
     * SDK re-seals the seed under the new one.
     */
    private fun changePassword(s: Screen.ChangePassword, e: Event.PasswordChangeEntered): Screen {
        val device = device ?: return Screen.Starting
        if (e.newPassword != e.confirmation) return s.copy(notice = null, error = Problem.PasswordsDoNotMatch)
        try {
            checkPasswordPolicy(e.newPassword)
        } catch (x: DigitalOtpException.WeakPassword) {
            return s.copy(notice = null, error = Problem.WeakPassword(x.reason))
        }
        return try {
            val request = otp.beginChangePassword(institutionId, e.oldPassword, e.newPassword, device)
            val answer = askBank(request)
            otp.completeChangePassword(answer)
            home(Notice.PASSWORD_CHANGED)
        } catch (x: DigitalOtpException.WrongPassword) {
            val left = x.attemptsRemaining.toInt()
            Screen.ChangePassword(left, error = Problem.WrongPassword(left))
        } catch (_: DigitalOtpException.ChangePasswordAgain) {
            // The old password was right (the attempts are back to five); the new one was not evaluated.
            when (val c = credential()) {
                is Lookup.Found -> Screen.ChangePassword(c.info.attemptsRemaining.toInt(), notice = Notice.CHANGE_PASSWORD_AGAIN)
                is Lookup.Elsewhere -> c.screen
            }
        } catch (x: DigitalOtpException) {
            unlockFailed(x) ?: s.copy(notice = null, error = unlockProblem(x))
        } catch (x: BankUnreachable) {
            s.copy(notice = null, error = x.problem)
        }
    }

    /** The bank could not be reached for an unlock: stay, and let the customer try again. */
    private class BankUnreachable(val problem: Problem) : Exception()

    /** The bank's answer to an unlock [request]; throws [BankUnreachable] on a transport failure. */
    private fun askBank(request: ByteArray): ByteArray = try {
        bank.unlock(request)
    } catch (x: Exception) {
        throw BankUnreachable(Problem.BankUnavailable(x.message))
    }

    /** The screen an unlock's failure leads to, or null to stay and type the password again. */
    private fun unlockFailed(x: DigitalOtpException): Screen? = when (x) {
        // The bank no longer answers this OTP's unlocks: only the bank can help.
        is DigitalOtpException.NotUsable -> home(error = Problem.NotUsable)
        is DigitalOtpException.ClockOutOfSync, is DigitalOtpException.InvalidResponse,
        is DigitalOtpException.KeyStoreFailed, is DigitalOtpException.NoCodeInProgress -> null
        else -> failure(x)
    }

    /** What to tell the customer who stays on the password screen after [x]. */
    private fun unlockProblem(x: DigitalOtpException): Problem = when (x) {
        // The SDK learned the difference from the bank's answer: the next request is on time.
        is DigitalOtpException.ClockOutOfSync -> Problem.ClockOutOfSync
        is DigitalOtpException.KeyStoreFailed -> Problem.KeyStoreFailed(x.reason)
        else -> Problem.InvalidBankAnswer
    }

    private fun codeShown(code: String, purpose: Purpose, serial: String, validUntil: ULong): Screen {
        val now = now()
        return Screen.CodeShown(code, purpose, serial, validUntil.toLong(), now + config.codeScreenSeconds, now)
    }

    /**
     * Sends the code on screen to the bank. An expired code is not sent (the screen stays,
     * offering a new one), and a screen past its life closes. The bank not reached: the
     * code stays on screen with [Problem.BankUnavailable], to send again while it is valid.
     * Any answer closes the screen (a code is sent once): refused, Home with
     * [Problem.CodeRejected]; accepted, Home with the outcome, after `confirmActivation`
     * when this was the first accepted code of a pending OTP.
     */
    private fun submitCode(s: Screen.CodeShown): Screen {
        val now = now()
        if (now >= s.closesAt) return home(Notice.CODE_SCREEN_CLOSED)
        val current = s.at(now)
        if (current.codeExpired) return current
        val code = current.submittable
        val accepted = try {
            when (val p = current.purpose) {
                Purpose.Login -> bank.verifyLogin(institutionId, current.serialNumber, code)
                is Purpose.Transfer -> bank.verifyTransfer(institutionId, current.serialNumber, code, p.transaction)
            }
        } catch (x: Exception) {
            // Not sent (or no answer): the code stays on screen to try again while it is valid.
            return s.at(now(), Problem.BankUnavailable(x.message))
        }
        if (!accepted) return home(error = Problem.CodeRejected)
        val outcome = when (current.purpose) {
            Purpose.Login -> Notice.LOGIN_ACCEPTED
            is Purpose.Transfer -> Notice.TRANSFER_ACCEPTED
        }
        val credential = when (val c = credential()) {
            is Lookup.Found -> c.info
            is Lookup.Elsewhere -> return c.screen
        }
        if (credential.status != CredentialStatus.PENDING) return home(outcome)
        // The bank activated the OTP with this code: record it on the phone.
        return try {
            otp.confirmActivation(institutionId)
            home(Notice.ACTIVATED)
        } catch (x: DigitalOtpException) {
            failure(x)
        }
    }

    private fun now(): Long = clock.nowUnixSeconds().toLong()

    // --- where to go --------------------------------------------------------------------

    private sealed interface Lookup {
        class Found(val info: CredentialInfo) : Lookup
        class Elsewhere(val screen: Screen) : Lookup
    }

    /** This bank's credential on this device, or the screen to show instead. */
    private fun credential(): Lookup {
        val device = device ?: return Lookup.Elsewhere(Screen.Starting)
        val found = try {
            otp.credentials(device).firstOrNull { it.institutionId == institutionId }
        } catch (x: DigitalOtpException) {
            return Lookup.Elsewhere(failure(x))
        } ?: return Lookup.Elsewhere(Screen.Enrollment())
        return when (found.status) {
            CredentialStatus.ACTIVE, CredentialStatus.PENDING -> Lookup.Found(found)
            // Its outcome is lost with the process that waited for it: type the code again
            // (registering again replaces it).
            CredentialStatus.REGISTERING -> Lookup.Elsewhere(
                unfinished?.let { Screen.RegistrationUnfinished(Problem.BankUnavailable(null)) }
                    ?: Screen.Enrollment(notice = Notice.REGISTRATION_NOT_FINISHED),
            )
            CredentialStatus.LOCKED -> Lookup.Elsewhere(Screen.ReRegistrationRequired(ReRegistrationReason.LOCKED))
            CredentialStatus.EXPIRED -> Lookup.Elsewhere(Screen.ReRegistrationRequired(ReRegistrationReason.EXPIRED))
            CredentialStatus.DEVICE_MISMATCH -> Lookup.Elsewhere(Screen.ReRegistrationRequired(ReRegistrationReason.DEVICE_MISMATCH))
        }
    }

    /** The screen the stored credential calls for: Home, Enrollment or a re-registration. */
    private fun home(notice: Notice? = null, error: Problem? = null): Screen = when (val c = credential()) {
        is Lookup.Found -> Screen.Home(
            c.info,
            notice ?: Notice.ACTIVATION_PENDING.takeIf { c.info.status == CredentialStatus.PENDING },
            error,
        )
        is Lookup.Elsewhere -> c.screen
    }

    /** The screen for an SDK refusal that ends what the customer was doing. */
    private fun failure(x: DigitalOtpException): Screen = when (x) {
        is DigitalOtpException.Locked -> Screen.ReRegistrationRequired(ReRegistrationReason.LOCKED)
        is DigitalOtpException.DeviceMismatch -> Screen.ReRegistrationRequired(ReRegistrationReason.DEVICE_MISMATCH)
        is DigitalOtpException.Expired -> Screen.ReRegistrationRequired(ReRegistrationReason.EXPIRED)
        is DigitalOtpException.CorruptedData -> Screen.ReRegistrationRequired(ReRegistrationReason.UNREADABLE)
        is DigitalOtpException.NotRegistered -> Screen.Enrollment()
        is DigitalOtpException.StorageFailed -> Screen.Unavailable(Problem.StorageFailed(x.reason))
        is DigitalOtpException.InvalidTransaction -> Screen.Unavailable(Problem.InvalidTransfer(x.reason))
        is DigitalOtpException.RegistrationRejected -> Screen.Enrollment(error = Problem.RegistrationRejected(x.reason))
        is DigitalOtpException.InvalidResponse -> Screen.Enrollment(error = Problem.InvalidBankResponse)
        is DigitalOtpException.RegistrationIncomplete -> Screen.Enrollment(notice = Notice.REGISTRATION_NOT_FINISHED)
        is DigitalOtpException.KeyStoreFailed -> Screen.Unavailable(Problem.KeyStoreFailed(x.reason))
        else -> Screen.Unavailable(Problem.Internal(x.message ?: x::class.simpleName.orEmpty()))
    }

    companion object {
        /** A code screen closes itself this long after it opened. */
        const val CODE_SCREEN_SECONDS = 60L
    }
}
