package org.digitalotp.demo.flow

import org.digitalotp.CredentialInfo
import org.digitalotp.Transaction

/**
 * What the app shows: one value per screen, with everything the screen displays. The
 * Android layer renders it and sends [Event]s back to [OtpFlow]; it keeps no state of
 * its own. No screen holds a password, and only [CodeShown] holds a code (until it
 * expires); `toString()` never prints either.
 */
sealed interface Screen {
    /** Before [Event.Start]: the platform values are being read. */
    data object Starting : Screen

    /**
     * The platform gave no usable line number (no SIM number, permission refused):
     * the customer types it. [error] after a number the SDK refused.
     */
    data class PhoneNumberEntry(val error: Problem? = null) : Screen

    /** Typing the app registration code the bank issued (`1234-5678-9012`). */
    data class Enrollment(val notice: Notice? = null, val error: Problem? = null) : Screen

    /**
     * Choosing the 6-digit app password (typed twice), which starts the registration: the
     * request, the bank's response, the confirmation, the bank's outcome.
     */
    data class PasswordSetup(val error: Problem? = null) : Screen

    /**
     * The registration is stored on the phone but the bank's outcome is not in yet: the
     * confirmation did not reach the bank (or its answer did not come back), or the phone
     * could not store the outcome. [Event.Retry] sends the confirmation again (or stores the
     * outcome again); [Event.Back] gives up and asks for the code again.
     */
    data class RegistrationUnfinished(val error: Problem) : Screen

    /** The registered OTP, with what the customer can do with it. */
    data class Home(val credential: CredentialInfo, val notice: Notice? = null, val error: Problem? = null) : Screen {
        /**
         * The bank has not yet accepted a first code: the next code the customer submits
         * ([Event.CodeSubmitted]) and the bank accepts activates the OTP.
         */
        val activationPending: Boolean get() = credential.status == org.digitalotp.CredentialStatus.PENDING
    }

    /**
     * A transfer's canonical [summary] (amount, currency, payee), shown for the customer to
     * confirm before any code is generated for it.
     */
    data class ConfirmTransfer(val transaction: Transaction, val summary: String) : Screen

    /**
     * Typing the app password for [purpose]; [attemptsRemaining] before the OTP locks, as
     * the bank last said (the bank counts: each password typed here is one request to it).
     */
    data class PasswordEntry(val purpose: Purpose, val attemptsRemaining: Int, val error: Problem? = null) : Screen

    /**
     * Changing the app password: the old one and the new one (twice). The bank checks the
     * old one and counts a wrong one twice (it evaluates both passwords);
     * [attemptsRemaining] as it last said. [notice] after a change made with one attempt
     * left, when the bank confirmed the old password alone ([Notice.CHANGE_PASSWORD_AGAIN]).
     */
    data class ChangePassword(val attemptsRemaining: Int, val notice: Notice? = null, val error: Problem? = null) : Screen

    /**
     * A code on screen with two countdowns: the code's validity ([codeSecondsRemaining];
     * once it reaches 0 the code is withdrawn and a new one can be asked for), and the
     * screen's own life ([secondsUntilClose]; at 0 the screen closes itself, about a
     * minute after it opened). [Event.Tick] moves [now] on. [Event.CodeSubmitted] sends
     * the code to the bank: its answer closes the screen; [error] says when the bank could
     * not be reached (the code stays, to send again while it is valid).
     */
    class CodeShown internal constructor(
        private val value: String,
        val purpose: Purpose,
        val serialNumber: String,
        /** First second (Unix time, device clock) the code is no longer valid. */
        val validUntil: Long,
        /** The second the screen closes itself. */
        val closesAt: Long,
        /** The time of the last tick. */
        val now: Long,
        /** Why the last submission did not reach the bank ([Problem.BankUnavailable]); null once the code expired. */
        val error: Problem? = null,
    ) : Screen {
        /** The code's validity has ended: it is withdrawn and can no longer be submitted. */
        val codeExpired: Boolean get() = now >= validUntil

        /** The code to show, or null once it has expired. */
        val code: String? get() = if (codeExpired) null else value

        /** Seconds the code stays valid (0 once expired). */
        val codeSecondsRemaining: Long get() = (validUntil - now).coerceAtLeast(0)

        /** Seconds before the screen closes itself. */
        val secondsUntilClose: Long get() = (closesAt - now).coerceAtLeast(0)

        /** The code internally, for sending it to the bank (the flow checks expiry first). */
        internal val submittable: String get() = value

        /** The same screen at [time], with [error] (dropped once the code has expired). */
        internal fun at(time: Long, error: Problem? = this.error) =
            CodeShown(value, purpose, serialNumber, validUntil, closesAt, time, error.takeIf { time < validUntil })

        override fun toString() =
            "CodeShown(purpose=$purpose, codeSecondsRemaining=$codeSecondsRemaining, secondsUntilClose=$secondsUntilClose, error=$error)"
    }

    /** The OTP cannot be used any more on this phone: the customer must register again. */
    data class ReRegistrationRequired(val reason: ReRegistrationReason) : Screen

    /** The secure store or the SDK failed; nothing was half-written. Offer [Event.Retry]. */
    data class Unavailable(val problem: Problem) : Screen
}

/** What a password is asked for. */
sealed interface Purpose {
    /** A login code. */
    data object Login : Purpose

    /** A transaction code for exactly [transaction], whose [summary] the customer confirmed. */
    data class Transfer(val transaction: Transaction, val summary: String) : Purpose
}

/** Why the OTP must be registered again. */
enum class ReRegistrationReason(val message: String) {
    LOCKED("Your digital OTP was locked after 5 wrong passwords. Register it again with a new registration code from your bank."),
    DEVICE_MISMATCH("Your digital OTP was registered on another phone number or device. Register it again on this phone."),
    EXPIRED("Your digital OTP has expired. Register it again with a new registration code from your bank."),
    UNREADABLE("The stored digital OTP is unreadable. Register it again with a new registration code from your bank."),
}

/** Information for the customer (not an error). */
enum class Notice(val message: String) {
    /** Registered: pending until the bank accepts a first code. */
    REGISTERED("Your digital OTP is registered. Send a first code to the bank to activate it."),

    /** Home of a pending OTP (when nothing else is to say). */
    ACTIVATION_PENDING("Not active yet: the first code the bank accepts activates your digital OTP."),

    /** The bank accepted the first code: the OTP is active. */
    ACTIVATED("The bank accepted the code. Your digital OTP is active."),

    /** The bank accepted the login code. */
    LOGIN_ACCEPTED("The bank accepted the login code."),

    /** The bank accepted the transfer's code. */
    TRANSFER_ACCEPTED("The bank accepted the transfer."),

    CODE_SCREEN_CLOSED("The code screen closed itself after a minute."),
    RE_REGISTER_LOCKED("Your OTP was locked. Type a new registration code from your bank."),
    RE_REGISTER_DEVICE_MISMATCH("Register again on this phone: type a new registration code from your bank."),
    RE_REGISTER_EXPIRED("Your OTP expired. Type a new registration code from your bank."),
    RE_REGISTER_UNREADABLE("Type a new registration code from your bank to register again."),
    PASSWORD_FORGOTTEN("The OTP was removed from this phone. Type a new registration code from your bank."),

    /** Found on start: a registration whose outcome never came (the app was closed meanwhile). */
    REGISTRATION_NOT_FINISHED("The last registration did not finish. Type the registration code again, or a new one from your bank."),

    /** The app password was changed. */
    PASSWORD_CHANGED("Your app password was changed."),

    /** A change with one attempt left: the bank confirmed the old password alone; the attempts are back to five. */
    CHANGE_PASSWORD_AGAIN("The bank confirmed your old password. Type the change once more."),
}

/** Why the last action failed, with what to tell the customer. Never carries a secret. */
sealed class Problem(val message: String) {
    class InvalidPhoneNumber(reason: String) : Problem("This phone number cannot be used: $reason.")
    object InvalidRegistrationCode : Problem("Check the registration code: 12 digits, exactly as the bank gave it.")
    object PasswordsDoNotMatch : Problem("The two passwords differ. Type the same 6 digits twice.")
    class WeakPassword(reason: String) : Problem("Choose another password: $reason.")
    class WrongPassword(val attemptsRemaining: Int) :
        Problem("Wrong password. $attemptsRemaining attempt${if (attemptsRemaining == 1) "" else "s"} left before the OTP is locked.")
    /**
     * The bank did not register the phone: a wrong, expired or used code (the bank answers
     * all of these alike, so that no one can probe codes), or a device the bank does not
     * trust.
     */
    class RegistrationRejected(reason: String) :
        Problem("The bank refused the registration ($reason). Check the code, or ask for a new registration code.")
    object InvalidBankResponse : Problem("The bank's answer could not be used. Ask for a new registration code.")
    /** The bank's answer to an unlock was altered or malformed: nothing was counted on the phone. */
    object InvalidBankAnswer : Problem("The bank's answer could not be used. Type the password again.")
    class BankUnavailable(reason: String?) : Problem("The bank could not be reached${reason?.let { " ($it)" } ?: ""}. Try again.")
    /** The phone's clock is off from the bank's; the SDK has learned by how much. */
    object ClockOutOfSync : Problem("The phone's clock differs from the bank's. Type the password again.")
    /** The bank no longer accepts this OTP (cancelled, reported lost or stolen, expired). */
    object NotUsable : Problem("The bank does not accept this OTP (cancelled, reported lost or stolen). Contact your bank.")
    /** The phone's key store (Android Keystore) failed, or the user authentication it asks for was refused. */
    class KeyStoreFailed(reason: String) : Problem("The phone's key store failed ($reason). Try again.")
    /** The bank refused the code submitted (wrong, used already, or expired). */
    object CodeRejected : Problem("The bank refused the code. Ask for a new one.")
    class InvalidTransfer(reason: String) : Problem("This transfer cannot be confirmed: $reason.")
    class StorageFailed(reason: String) : Problem("The phone's secure storage failed ($reason). Try again.")
    class Internal(reason: String) : Problem("Something went wrong ($reason). Try again.")

    override fun toString() = "${this::class.simpleName}($message)"
}
