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
 * `SecureStore` and a `Clock` in Kotlin. Each password check costs a PBKDF2 of 600,000
 * iterations, so the tests keep their count low.
 */
class OtpFlowTest {
    /** One phone (store, SDK, flow) and its bank, on one clock. */
    private class World : AutoCloseable {
        val clock = TestClock()
        val store = MemoryStore()
        val bank = TestBank(clock)
        var otp = DigitalOtp.withClock(store, clock)
        var flow = OtpFlow(otp, bank, clock, FlowConfig(bank.institutionId))

        fun send(event: Event): Screen = flow.handle(event)

        /** The app killed and opened again on [phone] / [deviceId]: same store, new SDK and flow. */
        fun restart(phone: String? = PHONE, deviceId: String = DEVICE_ID): Screen {
            flow.close()
            otp.close()
            otp = DigitalOtp.withClock(store, clock)
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
        assertEquals("Transfer KRW 1,500,000 to 홍길동 (account 110123456789)", confirm.summary)
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
        // Nothing is written, and the bank has used the code: a new one is needed.
        val again = w.send(Event.PasswordChosen(PASSWORD, PASSWORD)).expect<Screen.Enrollment>()
        assertTrue(again.error is Problem.StorageFailed && again.error!!.message.contains("keystore unavailable"), "$again")
        assertTrue(w.credentialKeys().isEmpty())
        w.store.failWrites = false
        w.enroll().expect<Screen.Home>()

        w.send(Event.LoginCodeRequested)
        w.store.failWrites = true
        val down = w.send(Event.PasswordEntered(PASSWORD)).expect<Screen.Unavailable>()
        assertTrue(down.problem is Problem.StorageFailed, "$down")
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
