package org.digitalotp.demo.servicebank

import org.digitalotp.CredentialStatus
import org.digitalotp.DeviceInfo
import org.digitalotp.DigitalOtp
import org.digitalotp.Transaction
import org.digitalotp.demo.flow.BankApi
import org.digitalotp.demo.flow.BankUnavailableException
import org.digitalotp.demo.flow.Event
import org.digitalotp.demo.flow.FlowConfig
import org.digitalotp.demo.flow.Notice
import org.digitalotp.demo.flow.OtpFlow
import org.digitalotp.demo.flow.Problem
import org.digitalotp.demo.flow.Purpose
import org.digitalotp.demo.flow.Screen
import org.digitalotp.demo.flow.WallClock
import org.digitalotp.memoryStore
import org.digitalotp.softwareDeviceKeys
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import java.net.InetAddress
import java.net.ServerSocket
import java.security.SecureRandom
import java.util.concurrent.ConcurrentHashMap

/**
 * The demo's flow (`OtpFlow`, as `flow/src/test/.../OtpFlowTest.kt` runs it with an
 * in-process bank) over [ServiceBankApi] against a real `dotp issuer serve` on a loopback
 * socket: the SDK's registration and unlock bytes, and the codes, cross HTTP to the
 * issuer, and the bank's side is checked through its staff API ([ServiceDesk]). The
 * phone is the SDK over a memory store with software device keys (the JVM has no
 * Keystore) on the wall clock, since the service keeps real time.
 *
 * Each test has its own customer and phone number at the service's institution. The
 * service, its URL and keys come from the environment ([ServiceEnv]); without them every
 * test fails and says how to run it.
 *
 * Codes are made and sent within one 30-second time step: before asking for one, a test
 * waits for a fresh step when less than [STEP_MARGIN_SECONDS] of the current one remain
 * (a wait, not an assertion), so that a code never expires between the screen and the
 * bank.
 */
class ServiceBankFlowTest {
    /** A [BankApi] whose calls go to [current]: the real relay, or one at a port where nothing listens. */
    private class SwitchableBank(@Volatile var current: BankApi) : BankApi {
        override fun registrationMessage(message: ByteArray) = current.registrationMessage(message)
        override fun unlock(request: ByteArray) = current.unlock(request)
        override fun verifyLogin(institutionId: String, serialNumber: String, code: String) =
            current.verifyLogin(institutionId, serialNumber, code)
        override fun verifyTransfer(institutionId: String, serialNumber: String, code: String, transaction: Transaction) =
            current.verifyTransfer(institutionId, serialNumber, code, transaction)
    }

    private val random = SecureRandom()
    private val institution = ServiceEnv.institution
    private val customer = "svc-" + (1..12).map { "0123456789abcdef"[random.nextInt(16)] }.joinToString("")
    private val phone = "010-%04d-%04d".format(random.nextInt(10_000), random.nextInt(10_000))
    private val desk = ServiceDesk()

    /** The bank's session: serial number → customer, filled when registration reports the serial number. */
    private val session = ConcurrentHashMap<String, String>()
    private val bank = ServiceBankApi(ServiceEnv.url, institution, ServiceEnv.channelKey, { session[it] })
    private val unreachable = ServiceBankApi("http://127.0.0.1:${closedPort()}", institution, ServiceEnv.channelKey, { session[it] })
    private val relay = SwitchableBank(bank)

    private val store = memoryStore()
    private val otp = DigitalOtp.withClock(store, softwareDeviceKeys(store), WallClock)
    private val flow = OtpFlow(otp, relay, WallClock, FlowConfig(institution))

    @BeforeEach
    fun customerAtTheBank() = desk.addCustomer(customer, "홍길동", phone)

    @AfterEach
    fun close() {
        flow.close()
        otp.close()
    }

    private fun send(event: Event): Screen = flow.handle(event)

    /** Start on the phone, a registration code from the staff API, the password twice: the pending Home, its serial number in the session. */
    private fun registered(): Screen.Home {
        send(Event.Start(phone, DEVICE_ID)).expect<Screen.Enrollment>()
        send(Event.RegistrationCodeEntered(desk.issueRegistrationCode(customer))).expect<Screen.PasswordSetup>()
        val home = send(Event.PasswordChosen(PASSWORD, PASSWORD)).expect<Screen.Home>()
        session[home.credential.serialNumber] = customer
        return home
    }

    /** Home → password → the login code on screen, in a fresh enough time step. */
    private fun loginCode(password: String = PASSWORD): Screen {
        awaitFreshStep()
        send(Event.LoginCodeRequested).expect<Screen.PasswordEntry>()
        return send(Event.PasswordEntered(password))
    }

    /** Registered, and the first login code accepted: the active Home and the code used. */
    private fun activated(): Pair<Screen.Home, String> {
        registered()
        val shown = loginCode().expect<Screen.CodeShown>()
        val home = send(Event.CodeSubmitted).expect<Screen.Home>()
        assertEquals(Notice.ACTIVATED, home.notice, "$home")
        return home to shown.code!!
    }

    private fun storedCredentials() = DeviceInfo(phone, DEVICE_ID).use { otp.credentials(it) }

    @Test
    fun `registration with a code from the staff API - pending at the bank, the first login code accepted activates it`() {
        send(Event.Start(phone, DEVICE_ID)).expect<Screen.Enrollment>()
        send(Event.RegistrationCodeEntered(desk.issueRegistrationCode(customer))).expect<Screen.PasswordSetup>()
        val home = send(Event.PasswordChosen(PASSWORD, PASSWORD)).expect<Screen.Home>()
        assertEquals(Notice.REGISTERED, home.notice)
        assertNull(home.error)
        val serial = home.credential.serialNumber
        assertEquals(institution, home.credential.institutionId)
        assertEquals(CredentialStatus.PENDING, home.credential.status)
        assertEquals(5u, home.credential.attemptsRemaining)
        assertEquals("pending", desk.registrationState(serial), "registered at the service, pending its first code")
        session[serial] = customer

        val shown = loginCode().expect<Screen.CodeShown>()
        assertEquals(serial, shown.serialNumber)
        assertEquals(6, shown.code!!.length)
        val active = send(Event.CodeSubmitted).expect<Screen.Home>()
        assertEquals(Notice.ACTIVATED, active.notice)
        assertNull(active.error)
        assertEquals(CredentialStatus.ACTIVE, active.credential.status)
        assertEquals("active", desk.registrationState(serial))
        assertEquals("accepted; activated", desk.auditDetails(serial, "verify_login").first())
    }

    @Test
    fun `a replayed login code is rejected by the service, and not counted as a wrong code`() {
        val (home, code) = activated()
        val serial = home.credential.serialNumber
        assertFalse(bank.verifyLogin(institution, serial, code), "a code is accepted once")
        assertEquals(listOf("code already used", "accepted; activated"), desk.auditDetails(serial, "verify_login").take(2))
        assertEquals(0L, desk.errorCount(serial), "a replay is refused without counting")
    }

    @Test
    fun `a transfer's code - accepted for its transaction, rejected for an altered amount or payee`() {
        val serial = activated().first.credential.serialNumber
        val tx = Transaction(amountMinor = 1_500_000uL, currency = "KRW", payeeAccount = "110-123-456789", payeeName = "홍길동", memo = "rent \"May\"")
        awaitFreshStep()
        val confirm = send(Event.TransferRequested(tx)).expect<Screen.ConfirmTransfer>()
        assertTrue(confirm.summary.startsWith("Transfer KRW 1,500,000"), confirm.summary)
        send(Event.TransferConfirmed).expect<Screen.PasswordEntry>()
        val shown = send(Event.PasswordEntered(PASSWORD)).expect<Screen.CodeShown>()
        assertTrue(shown.purpose is Purpose.Transfer)
        val code = shown.code!!
        assertEquals(8, code.length)

        assertFalse(bank.verifyTransfer(institution, serial, code, tx.copy(amountMinor = 1_500_001uL)), "another amount")
        assertFalse(bank.verifyTransfer(institution, serial, code, tx.copy(payeeName = "이순신")), "another payee")
        assertEquals(2L, desk.errorCount(serial), "each counted as a wrong code")
        val done = send(Event.CodeSubmitted).expect<Screen.Home>()
        assertEquals(Notice.TRANSFER_ACCEPTED, done.notice, "$done")
        assertEquals(0L, desk.errorCount(serial), "an accepted code clears the count")
        assertFalse(bank.verifyTransfer(institution, serial, code, tx), "accepted once")
        assertEquals("code already used", desk.auditDetails(serial, "verify_transaction").first())
    }

    @Test
    fun `a wrong app password is counted by the bank - the attempts left shown are the service's, a right one then works`() {
        val serial = registered().credential.serialNumber
        assertEquals(5L, desk.appPasswordAttemptsLeft(serial))
        awaitFreshStep()
        send(Event.LoginCodeRequested).expect<Screen.PasswordEntry>()
        for (left in 4 downTo 3) {
            val entry = send(Event.PasswordEntered(WRONG_PASSWORD)).expect<Screen.PasswordEntry>()
            assertEquals(left, entry.attemptsRemaining)
            assertEquals(left, (entry.error as Problem.WrongPassword).attemptsRemaining)
            assertEquals(left.toLong(), desk.appPasswordAttemptsLeft(serial), "the bank's own count")
        }
        assertEquals(3u, storedCredentials().single().attemptsRemaining)
        awaitFreshStep()
        send(Event.PasswordEntered(PASSWORD)).expect<Screen.CodeShown>()
        assertEquals(Notice.ACTIVATED, send(Event.CodeSubmitted).expect<Screen.Home>().notice)
        assertEquals(5L, desk.appPasswordAttemptsLeft(serial), "an accepted code confirms the right password")
    }

    @Test
    fun `bank unreachable at registration - the password screen says try again, nothing stored, the same code then registers`() {
        send(Event.Start(phone, DEVICE_ID)).expect<Screen.Enrollment>()
        send(Event.RegistrationCodeEntered(desk.issueRegistrationCode(customer))).expect<Screen.PasswordSetup>()
        relay.current = unreachable
        val down = send(Event.PasswordChosen(PASSWORD, PASSWORD)).expect<Screen.PasswordSetup>()
        assertTrue(down.error is Problem.BankUnavailable, "$down")
        assertTrue(down.error!!.message.contains("could not be reached"), down.error!!.message)
        assertTrue(storedCredentials().isEmpty(), "nothing registered on the phone")

        relay.current = bank
        val home = send(Event.PasswordChosen(PASSWORD, PASSWORD)).expect<Screen.Home>()
        assertEquals(Notice.REGISTERED, home.notice)
        assertEquals("pending", desk.registrationState(home.credential.serialNumber))
    }

    @Test
    fun `bank unreachable at a code - try again on the same screen, nothing counted, the state kept until it answers`() {
        val serial = registered().credential.serialNumber
        awaitFreshStep()
        send(Event.LoginCodeRequested).expect<Screen.PasswordEntry>()
        relay.current = unreachable
        val down = send(Event.PasswordEntered(PASSWORD)).expect<Screen.PasswordEntry>()
        assertTrue(down.error is Problem.BankUnavailable, "$down")
        assertEquals(5, down.attemptsRemaining, "the attempts as they were")
        assertEquals(5L, desk.appPasswordAttemptsLeft(serial), "no guess reached the bank")

        relay.current = bank
        val shown = send(Event.PasswordEntered(PASSWORD)).expect<Screen.CodeShown>()
        relay.current = unreachable
        val notSent = send(Event.CodeSubmitted).expect<Screen.CodeShown>()
        assertEquals(shown.code, notSent.code, "the same code, still on screen")
        assertTrue(notSent.error is Problem.BankUnavailable, "$notSent")
        assertEquals(shown.closesAt, notSent.closesAt, "the same screen")
        assertEquals("pending", desk.registrationState(serial))
        assertEquals(CredentialStatus.PENDING, storedCredentials().single().status)

        relay.current = bank
        val active = send(Event.CodeSubmitted).expect<Screen.Home>()
        assertEquals(Notice.ACTIVATED, active.notice)
        assertEquals("active", desk.registrationState(serial))
    }

    @Test
    fun `a serial number the session does not know, or another institution - refused without asking the service`() {
        val serial = registered().credential.serialNumber
        val shown = loginCode().expect<Screen.CodeShown>()
        assertFalse(bank.verifyLogin(institution, "DOTP-NOT-THIS-SESSION", shown.code!!))
        assertFalse(bank.verifyLogin("another-bank", serial, shown.code!!))
        assertTrue(desk.auditDetails(serial, "verify_login").isEmpty(), "nothing reached the service")
        // So the code is still good.
        assertEquals(Notice.ACTIVATED, send(Event.CodeSubmitted).expect<Screen.Home>().notice)
    }

    @Test
    fun `a 4xx from the service at a verification is an exception, not a refused code`() {
        val (home, _) = activated()
        val serial = home.credential.serialNumber
        // A staff key where the channel key belongs: 403, whatever the code.
        val wrongRole = ServiceBankApi(ServiceEnv.url, institution, ServiceEnv.staffKey, { session[it] })
        val forbidden = assertThrows(ServiceRequestException::class.java) { wrongRole.verifyLogin(institution, serial, "123456") }
        assertEquals(403, forbidden.status)
        assertEquals("forbidden", forbidden.error)
        assertTrue(forbidden.message!!.contains("HTTP 403"), forbidden.message)
        assertEquals(403, assertThrows(ServiceRequestException::class.java) { wrongRole.unlock("{}".toByteArray()) }.status)
        // A key the service never issued: 401.
        val unknownKey = ServiceBankApi(ServiceEnv.url, institution, "dotp_" + "0".repeat(16) + "_" + "0".repeat(64), { session[it] })
        val unauthorized = assertThrows(ServiceRequestException::class.java) { unknownKey.verifyLogin(institution, serial, "123456") }
        assertEquals(401, unauthorized.status)
        assertEquals("unauthorized", unauthorized.error)
        // A malformed code: 400, and nothing counted.
        val malformed = assertThrows(ServiceRequestException::class.java) { bank.verifyLogin(institution, serial, "12ab56") }
        assertEquals(400, malformed.status)
        assertEquals(0L, desk.errorCount(serial))
        // Not BankUnavailableException: retrying the same call cannot help.
        assertFalse(BankUnavailableException::class.java.isInstance(malformed))
    }

    private inline fun <reified T : Screen> Screen.expect(): T = this as? T ?: throw AssertionError("expected ${T::class.simpleName}, got $this")

    private companion object {
        const val DEVICE_ID = "android-id-service"
        const val PASSWORD = "482915"
        const val WRONG_PASSWORD = "000001"

        /** At least this much of a 30-second step must remain for a code to be made and sent in it. */
        const val STEP_MARGIN_SECONDS = 15L

        /** Waits for the next 30-second step when less than [STEP_MARGIN_SECONDS] of this one remain. */
        fun awaitFreshStep() {
            val nowMillis = System.currentTimeMillis()
            val leftMillis = 30_000L - nowMillis % 30_000L
            if (leftMillis < STEP_MARGIN_SECONDS * 1000) Thread.sleep(leftMillis + 250)
        }

        /** A loopback port where nothing listens (bound, then released). */
        fun closedPort(): Int = ServerSocket(0, 1, InetAddress.getLoopbackAddress()).use { it.localPort }
    }
}
