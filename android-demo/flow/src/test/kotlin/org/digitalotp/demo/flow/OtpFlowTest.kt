package org.digitalotp.demo.flow

import org.digitalotp.CredentialStatus
import org.digitalotp.DeviceInfo
import org.digitalotp.DigitalOtp
import org.digitalotp.RegistrationState
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertSame
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/**
 * The screens' state machine against the real SDK (the generated Kotlin binding over the
 * freshly built native library), with the bank played by a real in-memory `Issuer`, a
 * `SecureStore`, a `DeviceKeys` (JDK P-256 keys, the Android Keystore's shape) and a
 * `Clock` in Kotlin. Registration is two round trips with the bank, every code one (the
 * bank counts the password guesses). Each password check costs a PBKDF2 of 1,000,000
 * iterations, so the tests keep their count low.
 */
class OtpFlowTest {
    /** One phone (store, key store, SDK, flow) and its bank, on one clock. */
    private class World : AutoCloseable {
        val clock = TestClock()
        val store = MemoryStore()
        val keys = JcaDeviceKeys()
        val bank = TestBank(clock)
        var otp = DigitalOtp.withClock(store, keys, clock)
        var flow = OtpFlow(otp, bank, clock, FlowConfig(bank.institutionId))

        fun send(event: Event): Screen = flow.handle(event)

        /**
         * The app killed and opened again on [phone] / [deviceId]: same store and key store
         * (unless [over] another store, or [with] other keys), new SDK and flow.
         */
        fun restart(phone: String? = PHONE, deviceId: String = DEVICE_ID, over: MemoryStore = store, with: JcaDeviceKeys = keys): Screen {
            flow.close()
            otp.close()
            otp = DigitalOtp.withClock(over, with, clock)
            flow = OtpFlow(otp, bank, clock, FlowConfig(bank.institutionId))
            return send(Event.Start(phone, deviceId))
        }

        /** From Enrollment: types a fresh registration code and [password] twice. */
        fun enroll(password: String = PASSWORD): Screen {
            send(Event.RegistrationCodeEntered(bank.issueRegistrationCode())).expect<Screen.PasswordSetup>()
            return send(Event.PasswordChosen(password, password))
        }

        /**
         * Start on this phone, register, and send a first login code to the bank: ends on
         * an active Home. The login code of this time step is used by then.
         */
        fun registered(): Screen.Home {
            send(Event.Start(PHONE, DEVICE_ID)).expect<Screen.Enrollment>()
            assertEquals(CredentialStatus.PENDING, enroll().expect<Screen.Home>().credential.status)
            loginCode().expect<Screen.CodeShown>()
            val home = send(Event.CodeSubmitted).expect<Screen.Home>()
            assertEquals(Notice.ACTIVATED, home.notice)
            assertEquals(CredentialStatus.ACTIVE, home.credential.status)
            return home
        }

        /** Home → password → the login code screen. */
        fun loginCode(password: String = PASSWORD): Screen {
            send(Event.LoginCodeRequested).expect<Screen.PasswordEntry>()
            return send(Event.PasswordEntered(password))
        }

        fun credentialKeys() = store.keys().filter { it.startsWith("digital-otp.v1.credential.") }

        /** The status of the one stored credential, read from the SDK (the flow's screen left as it is). */
        fun storedStatus(): CredentialStatus = DeviceInfo(PHONE, DEVICE_ID).use { otp.credentials(it).single().status }

        override fun close() {
            flow.close()
            otp.close()
            bank.close()
        }
    }

    private val w = World()

    @AfterEach
    fun close() = w.close()

    // --- registration ----------------------------------------------------------------------

    @Test
    fun `registration - line number from the platform, code, password, pending home, the first code submitted activates`() {
        assertEquals(Screen.Starting, w.flow.screen)
        val enrollment = w.send(Event.Start(PHONE, DEVICE_ID)).expect<Screen.Enrollment>()
        assertNull(enrollment.notice)
        assertNull(enrollment.error)
        assertEquals("+821012345678", w.flow.phoneNumberE164)

        w.send(Event.RegistrationCodeEntered(w.bank.issueRegistrationCode())).expect<Screen.PasswordSetup>()
        assertTrue(w.store.keys().isEmpty(), "typing the code writes nothing")

        val home = w.send(Event.PasswordChosen(PASSWORD, PASSWORD)).expect<Screen.Home>()
        assertEquals(listOf("request", "confirmation"), w.bank.registrationMessages, "two round trips")
        assertEquals(1, w.keys.aliases().size, "one device key, in the phone's key store")
        assertEquals(32, w.keys.challenges.single().size)
        assertEquals(Notice.REGISTERED, home.notice)
        assertNull(home.error)
        assertTrue(home.activationPending)
        with(home.credential) {
            assertEquals("bank-a", institutionId)
            assertEquals("Bank A", institutionName)
            assertEquals(CredentialStatus.PENDING, status)
            assertEquals(5u, attemptsRemaining)
            assertEquals(RegistrationState.PENDING, w.bank.registrationState(serialNumber), "no code sent yet")
        }
        assertSame(home, w.flow.screen)
        assertTrue(w.bank.submittedCodes.isEmpty(), "registering sends no code")
        // Pending after a restart too, with the notice saying so.
        assertEquals(Notice.ACTIVATION_PENDING, w.restart().expect<Screen.Home>().notice)

        // The first login code the bank accepts activates the OTP, at the bank and on the phone.
        val shown = w.loginCode().expect<Screen.CodeShown>()
        assertEquals(home.credential.serialNumber, shown.serialNumber)
        val active = w.send(Event.CodeSubmitted).expect<Screen.Home>()
        assertEquals(Notice.ACTIVATED, active.notice)
        assertNull(active.error)
        assertFalse(active.activationPending)
        assertEquals(CredentialStatus.ACTIVE, active.credential.status)
        assertEquals(RegistrationState.ACTIVE, w.bank.registrationState(active.credential.serialNumber))
        assertEquals(listOf(shown.code), w.bank.submittedCodes)
        assertEquals(1, w.bank.unlockCalls, "the code needed one unlock round trip")
        assertNull(w.restart().expect<Screen.Home>().notice, "nothing pending any more")
    }

    @Test
    fun `no line number from the platform - the customer types it, a bad one is refused`() {
        assertEquals(Screen.PhoneNumberEntry(), w.send(Event.Start(null, DEVICE_ID)))
        val refused = w.send(Event.PhoneNumberEntered("12")).expect<Screen.PhoneNumberEntry>()
        assertTrue(refused.error is Problem.InvalidPhoneNumber, "$refused")
        assertNull(w.flow.phoneNumberE164)
        w.send(Event.PhoneNumberEntered(" $PHONE ")).expect<Screen.Enrollment>()
        assertEquals("+821012345678", w.flow.phoneNumberE164)

        // A blank or unusable platform number is asked for too, without an error shown.
        assertEquals(Screen.PhoneNumberEntry(), w.restart(phone = "  "))
        assertEquals(Screen.PhoneNumberEntry(), w.restart(phone = "unknown"))
    }

    @Test
    fun `a mistyped registration code is refused before any bank call or write`() {
        w.send(Event.Start(PHONE, DEVICE_ID))
        val code = w.bank.issueRegistrationCode()
        val lastDigit = code.last().digitToInt()
        val typo = code.dropLast(1) + ((lastDigit + 1) % 10)
        for (bad in listOf(typo, "1234", "hello world!")) {
            val s = w.send(Event.RegistrationCodeEntered(bad)).expect<Screen.Enrollment>()
            assertEquals(Problem.InvalidRegistrationCode, s.error)
        }
        assertEquals(0, w.bank.registerCalls)
        assertEquals(0, w.store.writes)
        // The right code, typed with spaces around it, goes through.
        w.send(Event.RegistrationCodeEntered(" $code ")).expect<Screen.PasswordSetup>()
    }

    @Test
    fun `password setup - different and weak passwords are refused before registering, Back returns`() {
        w.send(Event.Start(PHONE, DEVICE_ID))
        w.send(Event.RegistrationCodeEntered(w.bank.issueRegistrationCode())).expect<Screen.PasswordSetup>()
        assertEquals(Problem.PasswordsDoNotMatch, w.send(Event.PasswordChosen(PASSWORD, "482916")).expect<Screen.PasswordSetup>().error)
        for (weak in listOf("111111", "123456", "121212", "12345", "abcdef")) {
            val s = w.send(Event.PasswordChosen(weak, weak)).expect<Screen.PasswordSetup>()
            assertTrue(s.error is Problem.WeakPassword, "$weak: $s")
        }
        assertEquals(0, w.bank.registerCalls)
        assertEquals(0, w.store.writes)
        assertEquals(Screen.Enrollment(), w.send(Event.Back))
        // The typed code was dropped with Back: a password now means nothing.
        assertEquals(Screen.Enrollment(), w.send(Event.PasswordChosen(PASSWORD, PASSWORD)))
    }

    @Test
    fun `bank unreachable during registration - retried from the password screen`() {
        w.send(Event.Start(PHONE, DEVICE_ID))
        w.send(Event.RegistrationCodeEntered(w.bank.issueRegistrationCode()))
        w.bank.down = true
        val s = w.send(Event.PasswordChosen(PASSWORD, PASSWORD)).expect<Screen.PasswordSetup>()
        assertTrue(s.error is Problem.BankUnavailable && s.error!!.message.contains("timeout"), "$s")
        assertTrue(w.credentialKeys().isEmpty(), "nothing registered: ${w.store.keys()}")
        w.bank.down = false
        val home = w.send(Event.PasswordChosen(PASSWORD, PASSWORD)).expect<Screen.Home>()
        assertEquals(CredentialStatus.PENDING, home.credential.status)
        assertEquals(Notice.REGISTERED, home.notice)
        assertEquals(1, w.keys.aliases().size, "the first attempt's device key was replaced, not kept")
    }

    @Test
    fun `the confirmation lost on its way to the bank - RegistrationUnfinished, Retry sends it again and registers`() {
        w.send(Event.Start(PHONE, DEVICE_ID))
        w.send(Event.RegistrationCodeEntered(w.bank.issueRegistrationCode()))
        w.bank.dropConfirmations = true
        val unfinished = w.send(Event.PasswordChosen(PASSWORD, PASSWORD)).expect<Screen.RegistrationUnfinished>()
        assertTrue(unfinished.error is Problem.BankUnavailable && unfinished.error.message.contains("connection reset"), "$unfinished")
        assertEquals(CredentialStatus.REGISTERING, w.storedStatus(), "stored on the phone, waiting for the bank")
        assertEquals(listOf("request"), w.bank.registrationMessages)
        val still = w.send(Event.Retry).expect<Screen.RegistrationUnfinished>()
        assertTrue(still.error is Problem.BankUnavailable, "still unreachable: $still")
        assertEquals(listOf("request"), w.bank.registrationMessages)
        assertSame(w.flow.screen, w.send(Event.PasswordChosen(PASSWORD, PASSWORD)), "no second password asked")

        w.bank.dropConfirmations = false
        val home = w.send(Event.Retry).expect<Screen.Home>()
        assertEquals(Notice.REGISTERED, home.notice)
        assertEquals(CredentialStatus.PENDING, home.credential.status)
        assertEquals(listOf("request", "confirmation"), w.bank.registrationMessages)
        assertEquals(RegistrationState.PENDING, w.bank.registrationState(home.credential.serialNumber))
        w.loginCode().expect<Screen.CodeShown>()
        assertEquals(Notice.ACTIVATED, w.send(Event.CodeSubmitted).expect<Screen.Home>().notice)
    }

    @Test
    fun `the bank's outcome lost on its way back - Retry sends the same confirmation, the bank answers with the same outcome`() {
        w.send(Event.Start(PHONE, DEVICE_ID))
        w.send(Event.RegistrationCodeEntered(w.bank.issueRegistrationCode()))
        w.bank.loseOutcomes = true
        w.send(Event.PasswordChosen(PASSWORD, PASSWORD)).expect<Screen.RegistrationUnfinished>()
        assertEquals(CredentialStatus.REGISTERING, w.storedStatus())
        w.bank.loseOutcomes = false
        // The bank did register the phone (its code is used by now); the same confirmation
        // again gets the same outcome, not a second registration.
        val home = w.send(Event.Retry).expect<Screen.Home>()
        assertEquals(Notice.REGISTERED, home.notice)
        assertEquals(CredentialStatus.PENDING, home.credential.status)
        assertEquals(listOf("request", "confirmation", "confirmation"), w.bank.registrationMessages)
        val devices = w.bank.issuer.customerInquiry("staff", INSTITUTION, CUSTOMER).devices
        assertEquals(listOf(home.credential.serialNumber), devices.map { it.serialNumber }, "one registration")
        assertTrue(
            w.bank.issuer.audit(org.digitalotp.AuditFilter(action = "register_mobile_otp")).any { it.detail == "the same outcome sent again" },
        )
        w.loginCode().expect<Screen.CodeShown>()
        assertEquals(Notice.ACTIVATED, w.send(Event.CodeSubmitted).expect<Screen.Home>().notice)
    }

    @Test
    fun `an unfinished registration given up, or found after a restart, asks for the code again - which still registers`() {
        w.send(Event.Start(PHONE, DEVICE_ID))
        val code = w.bank.issueRegistrationCode()
        w.send(Event.RegistrationCodeEntered(code))
        w.bank.dropConfirmations = true
        w.send(Event.PasswordChosen(PASSWORD, PASSWORD)).expect<Screen.RegistrationUnfinished>()
        // The app is killed: the confirmation is gone with it; the stored credential waits.
        assertEquals(Screen.Enrollment(notice = Notice.REGISTRATION_NOT_FINISHED), w.restart())
        assertEquals(CredentialStatus.REGISTERING, w.storedStatus())
        // The confirmation never reached the bank: the same code registers (replacing it).
        w.bank.dropConfirmations = false
        w.send(Event.RegistrationCodeEntered(code)).expect<Screen.PasswordSetup>()
        val home = w.send(Event.PasswordChosen(PASSWORD, PASSWORD)).expect<Screen.Home>()
        assertEquals(CredentialStatus.PENDING, home.credential.status)
        assertEquals(1, w.credentialKeys().size)
        assertEquals(1, w.keys.aliases().size)

        // Given up from the screen: the registering credential is removed.
        w.send(Event.ForgotPassword).expect<Screen.Enrollment>()
        w.send(Event.RegistrationCodeEntered(w.bank.issueRegistrationCode()))
        w.bank.dropConfirmations = true
        w.send(Event.PasswordChosen(PASSWORD, PASSWORD)).expect<Screen.RegistrationUnfinished>()
        assertEquals(Screen.Enrollment(notice = Notice.REGISTRATION_NOT_FINISHED), w.send(Event.Back))
        assertTrue(w.credentialKeys().isEmpty(), "${w.store.keys()}")
        assertEquals(emptyList<String>(), w.keys.aliases())
    }

    @Test
    fun `a wrong registration code with a right check digit - the bank's key confirmation refuses it, five void the code`() {
        w.send(Event.Start(PHONE, DEVICE_ID))
        val code = w.bank.issueRegistrationCode()
        for (n in 1..5) {
            w.send(Event.RegistrationCodeEntered(anotherValidCode(code, n))).expect<Screen.PasswordSetup>()
            val refused = w.send(Event.PasswordChosen(PASSWORD, PASSWORD)).expect<Screen.Enrollment>()
            assertTrue(refused.error is Problem.RegistrationRejected, "$refused")
            assertTrue(w.store.keys().isEmpty(), "nothing kept: ${w.store.keys()}")
            assertEquals(emptyList<String>(), w.keys.aliases())
        }
        assertEquals(List(5) { "request" }, w.bank.registrationMessages, "no confirmation was sent")
        // Five answered guesses void the code: the right one is refused alike.
        w.send(Event.RegistrationCodeEntered(code)).expect<Screen.PasswordSetup>()
        val void = w.send(Event.PasswordChosen(PASSWORD, PASSWORD)).expect<Screen.Enrollment>()
        assertEquals(Problem.RegistrationRejected::class, void.error!!::class)
        // A new code from the bank registers.
        assertEquals(CredentialStatus.PENDING, w.enroll().expect<Screen.Home>().credential.status)
    }

    @Test
    fun `a used or expired registration code - the bank refuses, back to enrollment for a new code`() {
        w.send(Event.Start(PHONE, DEVICE_ID))
        val code = w.bank.issueRegistrationCode()
        w.send(Event.RegistrationCodeEntered(code))
        w.send(Event.PasswordChosen(PASSWORD, PASSWORD)).expect<Screen.Home>()

        // Used: forget the password and try the same code again.
        w.send(Event.ForgotPassword).expect<Screen.Enrollment>()
        w.send(Event.RegistrationCodeEntered(code)).expect<Screen.PasswordSetup>()
        val used = w.send(Event.PasswordChosen(PASSWORD, PASSWORD)).expect<Screen.Enrollment>()
        assertTrue(used.error is Problem.RegistrationRejected, "$used")

        // Expired: valid 10 minutes.
        w.send(Event.RegistrationCodeEntered(w.bank.issueRegistrationCode()))
        w.clock.advance(11 * 60)
        val expired = w.send(Event.PasswordChosen(PASSWORD, PASSWORD)).expect<Screen.Enrollment>()
        assertTrue(expired.error is Problem.RegistrationRejected, "$expired")
        assertTrue(w.credentialKeys().isEmpty())
    }

    @Test
    fun `bank unreachable when a code is submitted - the code stays on screen with the notice, a retry activates`() {
        w.send(Event.Start(PHONE, DEVICE_ID))
        w.enroll().expect<Screen.Home>()
        val shown = w.loginCode().expect<Screen.CodeShown>()
        w.bank.down = true
        val notSent = w.send(Event.CodeSubmitted).expect<Screen.CodeShown>()
        assertEquals(shown.code, notSent.code, "the same code, still valid")
        assertTrue(notSent.error is Problem.BankUnavailable && notSent.error!!.message.contains("timeout"), "$notSent")
        assertEquals(shown.secondsUntilClose, notSent.secondsUntilClose, "the same screen")
        w.clock.advance(5)
        val ticked = w.send(Event.Tick).expect<Screen.CodeShown>()
        assertTrue(ticked.error is Problem.BankUnavailable, "the notice stays while the code is shown: $ticked")
        assertEquals(shown.code, ticked.code)
        assertEquals(CredentialStatus.PENDING, w.storedStatus())
        assertTrue(w.bank.submittedCodes.isEmpty())

        w.bank.down = false
        val active = w.send(Event.CodeSubmitted).expect<Screen.Home>()
        assertEquals(Notice.ACTIVATED, active.notice)
        assertNull(active.error)
        assertEquals(CredentialStatus.ACTIVE, active.credential.status)
        assertEquals(RegistrationState.ACTIVE, w.bank.registrationState(active.credential.serialNumber))
        assertEquals(listOf(shown.code), w.bank.submittedCodes)
    }

    @Test
    fun `a refused first code - home with the rejection, the OTP stays pending until a code is accepted`() {
        w.send(Event.Start(PHONE, DEVICE_ID))
        w.enroll().expect<Screen.Home>()
        val shown = w.loginCode().expect<Screen.CodeShown>()
        // The customer typed the code into the bank's web login first: the app's copy is a replay.
        assertTrue(w.bank.webLogin(shown.code!!))
        val refused = w.send(Event.CodeSubmitted).expect<Screen.Home>()
        assertEquals(Problem.CodeRejected, refused.error)
        assertEquals(Notice.ACTIVATION_PENDING, refused.notice)
        assertTrue(refused.activationPending, "the phone did not see an accepted code")
        assertEquals(listOf(shown.code), w.bank.submittedCodes, "sent once")
        assertSame(refused, w.send(Event.CodeSubmitted), "nothing left to send")
        assertEquals(1, w.bank.submittedCodes.size)

        // The next time step's code is accepted: the phone records the activation.
        w.clock.advance(30)
        val next = w.loginCode().expect<Screen.CodeShown>()
        assertNotEquals(shown.code, next.code)
        val active = w.send(Event.CodeSubmitted).expect<Screen.Home>()
        assertEquals(Notice.ACTIVATED, active.notice)
        assertEquals(CredentialStatus.ACTIVE, active.credential.status)
    }

    // --- codes -----------------------------------------------------------------------------

    @Test
    fun `login code submitted - the bank accepts it, home says so, the code is sent once`() {
        val serial = w.registered().credential.serialNumber
        w.clock.advance(30) // the activation used this time step's code
        val shown = w.loginCode().expect<Screen.CodeShown>()
        val home = w.send(Event.CodeSubmitted).expect<Screen.Home>()
        assertEquals(Notice.LOGIN_ACCEPTED, home.notice)
        assertNull(home.error)
        assertEquals(CredentialStatus.ACTIVE, home.credential.status)
        assertEquals(serial, home.credential.serialNumber)
        assertEquals(shown.code, w.bank.submittedCodes.last())
        assertEquals(2, w.bank.submittedCodes.size, "the activation's code and this one")

        // The screen closed with the answer: a second submission sends nothing.
        assertSame(home, w.send(Event.CodeSubmitted))
        assertEquals(2, w.bank.submittedCodes.size)
        assertFalse(w.bank.webLogin(shown.code!!), "used: the bank accepts a code once")
    }

    @Test
    fun `a refused code - back home with the rejection, nothing activated or changed`() {
        w.registered()
        w.clock.advance(30)
        val shown = w.loginCode().expect<Screen.CodeShown>()
        assertTrue(w.bank.webLogin(shown.code!!), "used on the bank's web site first")
        val refused = w.send(Event.CodeSubmitted).expect<Screen.Home>()
        assertEquals(Problem.CodeRejected, refused.error)
        assertNull(refused.notice)
        assertEquals(CredentialStatus.ACTIVE, refused.credential.status)
        assertEquals(5u, refused.credential.attemptsRemaining, "a refused code costs no password attempt")
        assertEquals(shown.code, w.bank.submittedCodes.last())
    }

    @Test
    fun `login code - shown with its countdown, accepted by the bank, the screen closes itself after a minute`() {
        w.registered()
        w.clock.advance(30) // the activation used this time step's code
        val shown = w.loginCode().expect<Screen.CodeShown>()
        assertEquals(Purpose.Login, shown.purpose)
        val code = shown.code!!
        assertTrue(Regex("""\d{6}""").matches(code), "a 6-digit login code")
        assertEquals(30, shown.codeSecondsRemaining, "T0 is at the start of a 30 s step")
        assertEquals(60, shown.secondsUntilClose)
        assertFalse(shown.toString().contains(code), "toString hides the code")
        assertTrue(w.bank.webLogin(code), "the bank accepts the code")

        assertEquals(30, w.send(Event.Tick).expect<Screen.CodeShown>().codeSecondsRemaining, "no time passed")
        w.clock.advance(10)
        val later = w.send(Event.Tick).expect<Screen.CodeShown>()
        assertEquals(20, later.codeSecondsRemaining)
        assertEquals(50, later.secondsUntilClose)
        assertEquals(code, later.code)

        w.clock.advance(20)
        val expired = w.send(Event.Tick).expect<Screen.CodeShown>()
        assertTrue(expired.codeExpired)
        assertNull(expired.code, "an expired code is withdrawn")
        assertEquals(30, expired.secondsUntilClose)
        val submitted = w.bank.submittedCodes.size
        val notSent = w.send(Event.CodeSubmitted).expect<Screen.CodeShown>()
        assertTrue(notSent.codeExpired, "an expired code cannot be submitted")
        assertNull(notSent.error)
        assertEquals(submitted, w.bank.submittedCodes.size, "nothing reached the bank")

        w.clock.advance(29)
        w.send(Event.Tick).expect<Screen.CodeShown>()
        w.clock.advance(1)
        val home = w.send(Event.Tick).expect<Screen.Home>()
        assertEquals(Notice.CODE_SCREEN_CLOSED, home.notice)
    }

    @Test
    fun `an expired code on screen - a new one needs the password again, Done returns home`() {
        w.registered()
        w.clock.advance(30)
        val first = w.loginCode().expect<Screen.CodeShown>()
        // Not expired yet: no new code.
        assertEquals(first.code, w.send(Event.NewCodeRequested).expect<Screen.CodeShown>().code)
        w.clock.advance(30)
        w.send(Event.Tick).expect<Screen.CodeShown>().also { assertTrue(it.codeExpired) }
        w.send(Event.NewCodeRequested).expect<Screen.PasswordEntry>().also { assertEquals(Purpose.Login, it.purpose) }
        val second = w.send(Event.PasswordEntered(PASSWORD)).expect<Screen.CodeShown>()
        assertEquals(60, second.secondsUntilClose, "a fresh screen")
        assertNotEquals(first.code, second.code)
        assertTrue(w.bank.webLogin(second.code!!))
        val home = w.send(Event.Back).expect<Screen.Home>()
        assertNull(home.notice)
    }

    @Test
    fun `transfer - the summary is confirmed before the code, and the code is bound to that transfer`() {
        val serial = w.registered().credential.serialNumber
        val refused = w.send(Event.TransferRequested(transfer(amount = 0uL))).expect<Screen.Home>()
        assertTrue(refused.error is Problem.InvalidTransfer, "$refused")

        val confirm = w.send(Event.TransferRequested(transfer())).expect<Screen.ConfirmTransfer>()
        assertEquals("Transfer KRW 1,500,000\nPayee: 홍길동\nAccount: 110123456789", confirm.summary)
        assertEquals(transfer(), confirm.transaction)
        w.send(Event.Back).expect<Screen.Home>()

        w.send(Event.TransferRequested(transfer())).expect<Screen.ConfirmTransfer>()
        val entry = w.send(Event.TransferConfirmed).expect<Screen.PasswordEntry>()
        assertEquals(Purpose.Transfer(transfer(), confirm.summary), entry.purpose)
        assertEquals(5, entry.attemptsRemaining)
        val shown = w.send(Event.PasswordEntered(PASSWORD)).expect<Screen.CodeShown>()
        val purpose = shown.purpose as Purpose.Transfer
        assertEquals(confirm.summary, purpose.summary)
        val code = shown.code!!
        assertTrue(Regex("""\d{8}""").matches(code), "an 8-digit transaction code")
        assertFalse(w.bank.verifyTransfer(INSTITUTION, serial, code, transfer(amount = 1_500_001uL)), "not for another amount")
        assertFalse(w.bank.verifyTransfer(INSTITUTION, serial, code, transfer(account = "110-123-456780")), "not for another payee")
        // Submitted from the code screen: the flow sends the confirmed transfer with it.
        val home = w.send(Event.CodeSubmitted).expect<Screen.Home>()
        assertEquals(Notice.TRANSFER_ACCEPTED, home.notice)
        assertNull(home.error)
        assertFalse(w.bank.webTransfer(code, transfer()), "accepted once")
    }

    @Test
    fun `a transfer code can be the first code - accepted, it activates the OTP`() {
        w.send(Event.Start(PHONE, DEVICE_ID))
        w.enroll().expect<Screen.Home>().also { assertTrue(it.activationPending) }
        w.send(Event.TransferRequested(transfer())).expect<Screen.ConfirmTransfer>()
        w.send(Event.TransferConfirmed).expect<Screen.PasswordEntry>()
        w.send(Event.PasswordEntered(PASSWORD)).expect<Screen.CodeShown>()
        val active = w.send(Event.CodeSubmitted).expect<Screen.Home>()
        assertEquals(Notice.ACTIVATED, active.notice)
        assertEquals(CredentialStatus.ACTIVE, active.credential.status)
        assertEquals(RegistrationState.ACTIVE, w.bank.registrationState(active.credential.serialNumber))
    }

    // --- wrong passwords, lock, mismatch, expiry ------------------------------------------------

    @Test
    fun `wrong passwords - attempts left shown, the fifth locks, re-registration replaces the OTP`() {
        val oldSerial = w.registered().credential.serialNumber
        w.send(Event.LoginCodeRequested).expect<Screen.PasswordEntry>()
        for (left in 4 downTo 2) {
            val s = w.send(Event.PasswordEntered(WRONG_PASSWORD)).expect<Screen.PasswordEntry>()
            assertEquals(left, s.attemptsRemaining)
            assertEquals(left, (s.error as Problem.WrongPassword).attemptsRemaining)
            assertTrue(s.error!!.message.contains("$left attempts left"), s.error!!.message)
        }
        // Leaving and coming back keeps the count.
        assertEquals(2u, w.send(Event.Back).expect<Screen.Home>().credential.attemptsRemaining)
        assertEquals(2, w.send(Event.LoginCodeRequested).expect<Screen.PasswordEntry>().attemptsRemaining)
        val last = w.send(Event.PasswordEntered(WRONG_PASSWORD)).expect<Screen.PasswordEntry>()
        assertTrue(last.error!!.message.contains("1 attempt left"), last.error!!.message)

        assertEquals(Screen.ReRegistrationRequired(ReRegistrationReason.LOCKED), w.send(Event.PasswordEntered(WRONG_PASSWORD)))
        assertEquals("evaluation 6; 0 wrong app passwords left", w.bank.lastUnlockDetail(), "the bank's count decided")
        assertEquals(Screen.ReRegistrationRequired(ReRegistrationReason.LOCKED), w.restart(), "the lock is stored")
        // Even the right password no longer helps: only the re-registration is offered.
        assertEquals(Screen.ReRegistrationRequired(ReRegistrationReason.LOCKED), w.send(Event.LoginCodeRequested))

        assertEquals(Notice.RE_REGISTER_LOCKED, w.send(Event.StartReRegistration).expect<Screen.Enrollment>().notice)
        val home = w.enroll().expect<Screen.Home>()
        assertEquals(CredentialStatus.PENDING, home.credential.status, "the new OTP waits for its first code")
        assertEquals(5u, home.credential.attemptsRemaining)
        assertNotEquals(oldSerial, home.credential.serialNumber)
        assertEquals(RegistrationState.REVOKED, w.bank.registrationState(oldSerial), "the bank revoked the old OTP")
        assertEquals(1, w.credentialKeys().size)
    }

    @Test
    fun `the attempts are the bank's - a restored copy of the phone's storage shows five, the bank's answer says how many are left`() {
        val serial = w.registered().credential.serialNumber
        val backup = w.store.copy()
        w.send(Event.LoginCodeRequested).expect<Screen.PasswordEntry>()
        assertEquals(4, w.send(Event.PasswordEntered(WRONG_PASSWORD)).expect<Screen.PasswordEntry>().attemptsRemaining)
        assertEquals(3, w.send(Event.PasswordEntered(WRONG_PASSWORD)).expect<Screen.PasswordEntry>().attemptsRemaining)

        // An earlier image of the storage put back: the phone's own view is the old one...
        w.store.restore(backup)
        val home = w.restart().expect<Screen.Home>()
        assertEquals(5u, home.credential.attemptsRemaining, "what the copy last heard")
        assertEquals(5, w.send(Event.LoginCodeRequested).expect<Screen.PasswordEntry>().attemptsRemaining)
        // ...and its request is not later than the last one the bank saw: refused as stale and
        // not counted. The customer types again a moment later: counted.
        val stale = w.send(Event.PasswordEntered(WRONG_PASSWORD)).expect<Screen.PasswordEntry>()
        assertEquals(Problem.ClockOutOfSync, stale.error)
        assertEquals(5, stale.attemptsRemaining)
        w.clock.advance(1)
        val counted = w.send(Event.PasswordEntered(WRONG_PASSWORD)).expect<Screen.PasswordEntry>()
        assertEquals(2, counted.attemptsRemaining, "the bank's count goes on")
        assertEquals(2, (counted.error as Problem.WrongPassword).attemptsRemaining)
        assertEquals(4, w.bank.evaluations(), "the activation's, and three wrong passwords")

        // Restoring once more before each guess gives nothing: the fifth wrong one locks, at the bank.
        w.store.restore(backup)
        w.clock.advance(1)
        w.restart().expect<Screen.Home>()
        w.send(Event.LoginCodeRequested)
        assertEquals(1, w.send(Event.PasswordEntered(WRONG_PASSWORD)).expect<Screen.PasswordEntry>().attemptsRemaining)
        w.store.restore(backup)
        w.clock.advance(1)
        w.restart().expect<Screen.Home>()
        w.send(Event.LoginCodeRequested)
        assertEquals(Screen.ReRegistrationRequired(ReRegistrationReason.LOCKED), w.send(Event.PasswordEntered(WRONG_PASSWORD)))
        assertEquals("evaluation 6; 0 wrong app passwords left", w.bank.lastUnlockDetail(), "none left at the bank")
        // Even the earliest copy, with the right password, gets nowhere: the lock destroyed the
        // device key in the phone's key store, which no copy of the storage brings back.
        w.store.restore(backup)
        w.clock.advance(1)
        w.restart().expect<Screen.Home>()
        w.send(Event.LoginCodeRequested)
        val unlocked = w.bank.unlockCalls
        val noKey = w.send(Event.PasswordEntered(PASSWORD)).expect<Screen.PasswordEntry>()
        assertTrue(noKey.error is Problem.KeyStoreFailed && noKey.error!!.message.contains("no device key"), "$noKey")
        assertEquals(unlocked, w.bank.unlockCalls, "no request could be signed")
        assertEquals(emptyList<String>(), w.keys.aliases())
        assertEquals(6, w.bank.evaluations(), "after the activation's, five wrong passwords in all, no more")
        assertEquals(RegistrationState.ACTIVE, w.bank.registrationState(serial), "until a request past the lock, which cancels it")
    }

    @Test
    fun `bank unreachable or its answer altered at a code - the password is asked again, the attempts as they were`() {
        w.registered()
        w.clock.advance(30)
        w.send(Event.LoginCodeRequested).expect<Screen.PasswordEntry>()
        w.bank.down = true
        val down = w.send(Event.PasswordEntered(PASSWORD)).expect<Screen.PasswordEntry>()
        assertTrue(down.error is Problem.BankUnavailable && down.error!!.message.contains("timeout"), "$down")
        assertEquals(5, down.attemptsRemaining)
        w.bank.down = false

        w.bank.tamperUnlocks = true
        val altered = w.send(Event.PasswordEntered(WRONG_PASSWORD)).expect<Screen.PasswordEntry>()
        assertEquals(Problem.InvalidBankAnswer, altered.error)
        assertEquals(5, altered.attemptsRemaining, "the phone believes no unauthenticated count")
        w.bank.tamperUnlocks = false

        val shown = w.send(Event.PasswordEntered(PASSWORD)).expect<Screen.CodeShown>()
        assertEquals(Notice.LOGIN_ACCEPTED, w.send(Event.CodeSubmitted).expect<Screen.Home>().notice)
        assertFalse(w.bank.webLogin(shown.code!!), "used")
    }

    @Test
    fun `an OTP the bank cancelled or was told is lost - no code is made, Home says to contact the bank, the recovery restores it`() {
        val serial = w.registered().credential.serialNumber
        w.bank.issuer.reportAccident("staff", INSTITUTION, org.digitalotp.mobileVendorCode(), serial, org.digitalotp.AccidentKind.LOST)
        w.send(Event.LoginCodeRequested).expect<Screen.PasswordEntry>()
        val refused = w.send(Event.PasswordEntered(PASSWORD)).expect<Screen.Home>()
        assertEquals(Problem.NotUsable, refused.error)
        assertEquals(5u, refused.credential.attemptsRemaining, "a refused unlock is no wrong password")
        assertEquals(1, w.bank.evaluations(), "only the activation's password was evaluated")

        w.bank.issuer.recover("staff", INSTITUTION, org.digitalotp.mobileVendorCode(), serial)
        w.clock.advance(30)
        w.loginCode().expect<Screen.CodeShown>()
        assertEquals(Notice.LOGIN_ACCEPTED, w.send(Event.CodeSubmitted).expect<Screen.Home>().notice)
    }

    @Test
    fun `the device key stays in the phone's key store - a copy of the storage with another key store makes no request`() {
        w.registered()
        val other = JcaDeviceKeys()
        w.restart(over = w.store.copy(), with = other).expect<Screen.Home>()
        w.send(Event.LoginCodeRequested).expect<Screen.PasswordEntry>()
        val refused = w.send(Event.PasswordEntered(PASSWORD)).expect<Screen.PasswordEntry>()
        assertTrue(refused.error is Problem.KeyStoreFailed && refused.error!!.message.contains("no device key"), "$refused")
        assertEquals(1, w.bank.unlockCalls, "only the activation's")

        // On the phone itself, a signature refused (a cancelled biometric prompt) is the same.
        w.restart().expect<Screen.Home>()
        w.keys.failSign = true
        w.send(Event.LoginCodeRequested)
        val prompt = w.send(Event.PasswordEntered(PASSWORD)).expect<Screen.PasswordEntry>()
        assertTrue(prompt.error is Problem.KeyStoreFailed && prompt.error!!.message.contains("user authentication refused"), "$prompt")
        assertEquals(5, prompt.attemptsRemaining)
        w.keys.failSign = false
        assertTrue(w.send(Event.PasswordEntered(PASSWORD)) is Screen.CodeShown)
    }

    // --- changing the password ----------------------------------------------------------------

    @Test
    fun `change password - refused locally when mismatched or weak, a wrong old one costs two attempts, then the new one works`() {
        w.registered()
        val screen = w.send(Event.ChangePasswordRequested).expect<Screen.ChangePassword>()
        assertEquals(5, screen.attemptsRemaining)
        val before = w.bank.unlockCalls
        assertEquals(Problem.PasswordsDoNotMatch, w.send(Event.PasswordChangeEntered(PASSWORD, OTHER_PASSWORD, "730265")).expect<Screen.ChangePassword>().error)
        assertTrue(w.send(Event.PasswordChangeEntered(PASSWORD, "111111", "111111")).expect<Screen.ChangePassword>().error is Problem.WeakPassword)
        assertEquals(before, w.bank.unlockCalls, "refused before any request")

        val wrong = w.send(Event.PasswordChangeEntered(WRONG_PASSWORD, OTHER_PASSWORD, OTHER_PASSWORD)).expect<Screen.ChangePassword>()
        assertEquals(3, wrong.attemptsRemaining, "the bank evaluated both passwords")
        assertEquals(3, (wrong.error as Problem.WrongPassword).attemptsRemaining)
        val changed = w.send(Event.PasswordChangeEntered(PASSWORD, OTHER_PASSWORD, OTHER_PASSWORD)).expect<Screen.Home>()
        assertEquals(Notice.PASSWORD_CHANGED, changed.notice)
        assertEquals(5u, changed.credential.attemptsRemaining)
        assertEquals("PasswordChangeEntered(<redacted>)", Event.PasswordChangeEntered(PASSWORD, OTHER_PASSWORD, OTHER_PASSWORD).toString())

        w.clock.advance(30)
        w.send(Event.LoginCodeRequested)
        assertTrue(w.send(Event.PasswordEntered(PASSWORD)).expect<Screen.PasswordEntry>().error is Problem.WrongPassword, "the old one is wrong now")
        w.send(Event.PasswordEntered(OTHER_PASSWORD)).expect<Screen.CodeShown>()
        assertEquals(Notice.LOGIN_ACCEPTED, w.send(Event.CodeSubmitted).expect<Screen.Home>().notice)
        w.send(Event.ChangePasswordRequested).expect<Screen.ChangePassword>()
        w.send(Event.Back).expect<Screen.Home>()
    }

    @Test
    fun `change password with one attempt left - the bank confirms the old password alone, the change is typed again`() {
        w.registered()
        w.send(Event.LoginCodeRequested)
        for (left in 4 downTo 1) assertEquals(left, w.send(Event.PasswordEntered(WRONG_PASSWORD)).expect<Screen.PasswordEntry>().attemptsRemaining)
        w.send(Event.Back).expect<Screen.Home>()
        assertEquals(1, w.send(Event.ChangePasswordRequested).expect<Screen.ChangePassword>().attemptsRemaining)
        // Two guesses would lock it: the bank evaluates the old password only.
        val again = w.send(Event.PasswordChangeEntered(PASSWORD, OTHER_PASSWORD, OTHER_PASSWORD)).expect<Screen.ChangePassword>()
        assertEquals(Notice.CHANGE_PASSWORD_AGAIN, again.notice)
        assertNull(again.error)
        assertEquals(5, again.attemptsRemaining, "the right old password cleared the count")
        assertEquals(Notice.PASSWORD_CHANGED, w.send(Event.PasswordChangeEntered(PASSWORD, OTHER_PASSWORD, OTHER_PASSWORD)).expect<Screen.Home>().notice)
        w.clock.advance(30)
        w.send(Event.LoginCodeRequested)
        w.send(Event.PasswordEntered(OTHER_PASSWORD)).expect<Screen.CodeShown>()
    }

    @Test
    fun `device mismatch - an OTP registered with another device id or phone number is registered again`() {
        w.registered()
        assertEquals(Screen.ReRegistrationRequired(ReRegistrationReason.DEVICE_MISMATCH), w.restart(deviceId = "android-id-2"))
        assertEquals(Screen.ReRegistrationRequired(ReRegistrationReason.DEVICE_MISMATCH), w.restart(phone = "010-9999-8888"))
        // Back on the original phone and device, it still works.
        w.restart().expect<Screen.Home>()

        w.restart(deviceId = "android-id-2")
        assertEquals(Notice.RE_REGISTER_DEVICE_MISMATCH, w.send(Event.StartReRegistration).expect<Screen.Enrollment>().notice)
        val home = w.enroll().expect<Screen.Home>()
        assertEquals(CredentialStatus.PENDING, home.credential.status)
        // Now the old device id is the stranger.
        assertEquals(Screen.ReRegistrationRequired(ReRegistrationReason.DEVICE_MISMATCH), w.restart(deviceId = DEVICE_ID))
    }

    @Test
    fun `an expired OTP - re-registration`() {
        w.registered()
        w.clock.advance(3L * 366 * 24 * 3600)
        assertEquals(Screen.ReRegistrationRequired(ReRegistrationReason.EXPIRED), w.restart())
        assertEquals(Notice.RE_REGISTER_EXPIRED, w.send(Event.StartReRegistration).expect<Screen.Enrollment>().notice)
    }

    // --- the rest --------------------------------------------------------------------------

    @Test
    fun `restart - a registered OTP opens on home, and events meaningless on a screen are ignored`() {
        assertSame(Screen.Starting, w.send(Event.Tick))
        assertSame(Screen.Starting, w.send(Event.PasswordEntered(PASSWORD)))
        w.registered()
        val home = w.restart().expect<Screen.Home>()
        assertNull(home.notice)
        assertNull(home.error)
        for (e in listOf(Event.Tick, Event.TransferConfirmed, Event.PasswordEntered(PASSWORD), Event.Back,
                         Event.StartReRegistration, Event.Start(PHONE, "other"), Event.NewCodeRequested, Event.CodeSubmitted)) {
            assertSame(home, w.send(e), "$e")
        }
    }

    @Test
    fun `forgot password - this bank's OTP is removed and registration starts again`() {
        w.registered()
        assertEquals(Screen.Enrollment(notice = Notice.PASSWORD_FORGOTTEN), w.send(Event.ForgotPassword))
        assertTrue(w.credentialKeys().isEmpty(), "${w.store.keys()}")
        assertEquals(Screen.Enrollment(), w.restart())
    }

    @Test
    fun `a failing secure store - registration and codes report it, Retry recovers`() {
        w.send(Event.Start(PHONE, DEVICE_ID))
        w.send(Event.RegistrationCodeEntered(w.bank.issueRegistrationCode()))
        w.store.failWrites = true
        // Nothing is written, and the bank registers only on the confirmation, which was not
        // sent: the same code is still good, from the same screen.
        val again = w.send(Event.PasswordChosen(PASSWORD, PASSWORD)).expect<Screen.PasswordSetup>()
        assertTrue(again.error is Problem.StorageFailed && again.error!!.message.contains("keystore unavailable"), "$again")
        assertTrue(w.credentialKeys().isEmpty())
        assertEquals(listOf("request"), w.bank.registrationMessages)
        w.store.failWrites = false
        w.send(Event.PasswordChosen(PASSWORD, PASSWORD)).expect<Screen.Home>()

        w.send(Event.LoginCodeRequested)
        w.store.failWrites = true
        val down = w.send(Event.PasswordEntered(PASSWORD)).expect<Screen.Unavailable>()
        assertTrue(down.problem is Problem.StorageFailed, "$down")
        assertEquals(0, w.bank.unlockCalls, "the request's time could not be kept: no request left")
        w.store.failWrites = false
        assertEquals(5u, w.send(Event.Retry).expect<Screen.Home>().credential.attemptsRemaining)

        // The bank accepts the first code but the phone cannot record the activation:
        // reported, still pending; the next accepted code records it.
        w.loginCode().expect<Screen.CodeShown>()
        w.store.failWrites = true
        val notRecorded = w.send(Event.CodeSubmitted).expect<Screen.Unavailable>()
        assertTrue(notRecorded.problem is Problem.StorageFailed, "$notRecorded")
        w.store.failWrites = false
        assertTrue(w.send(Event.Retry).expect<Screen.Home>().activationPending)
        w.clock.advance(30)
        w.loginCode().expect<Screen.CodeShown>()
        assertEquals(Notice.ACTIVATED, w.send(Event.CodeSubmitted).expect<Screen.Home>().notice)
    }

    @Test
    fun `no password, code or phone number in what the flow prints`() {
        val code = w.bank.issueRegistrationCode()
        val events = listOf(
            Event.Start(PHONE, DEVICE_ID), Event.PhoneNumberEntered(PHONE), Event.RegistrationCodeEntered(code),
            Event.PasswordChosen(PASSWORD, PASSWORD), Event.PasswordEntered(PASSWORD),
        )
        val screens = listOf(
            Problem.WrongPassword(3), Problem.InvalidPhoneNumber("x"), Screen.PasswordSetup(Problem.PasswordsDoNotMatch),
        )
        for (text in (events + screens).map { it.toString() }) {
            for (secret in listOf(PHONE, DEVICE_ID, code, PASSWORD)) assertFalse(text.contains(secret), "$text reveals $secret")
        }
    }

    @Test
    fun `the runner applies events in order off the caller's thread and delivers each screen`() {
        val delivered = mutableListOf<Screen>()
        val deliveredOn = mutableSetOf<String>()
        val runner = FlowRunner(w.flow, deliver = { r -> synchronized(delivered) { r.run() } })
        runner.send(Event.Start(PHONE, DEVICE_ID)) { delivered += it; deliveredOn += Thread.currentThread().name }
        runner.send(Event.RegistrationCodeEntered("1234")) { delivered += it }
        val done = java.util.concurrent.CountDownLatch(1)
        runner.run({ w.flow.screen }) { r -> delivered += r.getOrThrow(); done.countDown() }
        assertTrue(done.await(10, java.util.concurrent.TimeUnit.SECONDS))
        runner.close()
        assertEquals(listOf(Screen.Enrollment(), Screen.Enrollment(error = Problem.InvalidRegistrationCode)), delivered.take(2))
        assertEquals(delivered[1], delivered[2])
        assertEquals(setOf("digital-otp-flow"), deliveredOn)
    }
}
