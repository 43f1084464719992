package org.digitalotp.demo.flow

import org.digitalotp.Transaction

/**
 * What the customer (or the platform) did. An event that means nothing on the current
 * screen (a double tap, a late tick) leaves it unchanged. Events carrying a password,
 * code or phone number print none of them.
 */
sealed interface Event {
    /**
     * The platform's values: the SIM's line number (null or blank when unavailable: the
     * flow then asks for it) and the per-install device id (`Settings.Secure.ANDROID_ID`).
     */
    class Start(val platformPhoneNumber: String?, val deviceId: String) : Event {
        override fun toString() = "Start(platformPhoneNumber=${if (platformPhoneNumber.isNullOrBlank()) "none" else "<redacted>"})"
    }

    /** The phone number typed on [Screen.PhoneNumberEntry]. */
    class PhoneNumberEntered(val phoneNumber: String) : Event {
        override fun toString() = "PhoneNumberEntered(<redacted>)"
    }

    /** The app registration code typed on [Screen.Enrollment]. */
    class RegistrationCodeEntered(val code: String) : Event {
        override fun toString() = "RegistrationCodeEntered(<redacted>)"
    }

    /** The new app password and its confirmation. */
    class PasswordChosen(val password: String, val confirmation: String) : Event {
        override fun toString() = "PasswordChosen(<redacted>)"
    }

    /** The app password typed on [Screen.PasswordEntry]. */
    class PasswordEntered(val password: String) : Event {
        override fun toString() = "PasswordEntered(<redacted>)"
    }

    /** Home: asks for a login code (the password first). */
    data object LoginCodeRequested : Event

    /** The bank app's transfer form was submitted: confirm [transaction] with a code. */
    data class TransferRequested(val transaction: Transaction) : Event

    /** The customer confirmed the transfer on [Screen.ConfirmTransfer]. */
    data object TransferConfirmed : Event

    /**
     * On [Screen.CodeShown]: send the code on screen to the bank (the demo's stand-in for
     * the bank's login page or transfer request; iOS `submitCode`). The first accepted code
     * of a pending OTP activates it. Sent once: the screen closes with the bank's answer,
     * or stays, with [Problem.BankUnavailable], when the bank could not be reached.
     */
    data object CodeSubmitted : Event

    /** One second passed (sent by the UI while a code is on screen). */
    data object Tick : Event

    /** On an expired code: ask for a new one (the password is needed again). */
    data object NewCodeRequested : Event

    /** Back, Cancel or Done. */
    data object Back : Event

    /** On [Screen.ReRegistrationRequired]: register again with a new code. */
    data object StartReRegistration : Event

    /** The customer forgot the app password: remove this bank's OTP and register again. */
    data object ForgotPassword : Event

    /** Home: change the app password (the old one is needed). */
    data object ChangePasswordRequested : Event

    /** On [Screen.ChangePassword]: the old password, and the new one typed twice. */
    class PasswordChangeEntered(val oldPassword: String, val newPassword: String, val confirmation: String) : Event {
        override fun toString() = "PasswordChangeEntered(<redacted>)"
    }

    /**
     * Try again after a failure: [Screen.Unavailable], [Screen.RegistrationUnfinished] (sends
     * the registration's confirmation again, or stores the outcome again), or reload Home.
     */
    data object Retry : Event
}
