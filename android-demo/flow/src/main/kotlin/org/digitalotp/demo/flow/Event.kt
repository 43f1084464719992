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

    class PhoneNumberEntered(val phoneNumber: String) : Event {
        override fun toString() = "PhoneNumberEntered(<redacted>)"
    }

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

    data object LoginCodeRequested : Event
    data object ActivationRequested : Event

    /** The bank app's transfer form was submitted: confirm [transaction] with a code. */
    data class TransferRequested(val transaction: Transaction) : Event

    data object TransferConfirmed : Event

    /** One second passed (sent by the UI while a code is on screen). */
    data object Tick : Event

    /** On an expired code: ask for a new one (the password is needed again). */
    data object NewCodeRequested : Event

    /** Back, Cancel or Done. */
    data object Back : Event

    data object StartReRegistration : Event

    /** The customer forgot the app password: remove this bank's OTP and register again. */
    data object ForgotPassword : Event

    data object Retry : Event
}
