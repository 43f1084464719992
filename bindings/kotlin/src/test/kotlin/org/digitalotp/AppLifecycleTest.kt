package org.digitalotp

import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertDoesNotThrow
import org.junit.jupiter.api.assertThrows
import java.util.concurrent.Callable
import java.util.concurrent.Future
import java.util.concurrent.CyclicBarrier
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit

private const val T0 = 1_800_000_000L
private const val PHONE = "010-1234-5678"
private const val PHONE_E164 = "+821012345678"
private const val DEVICE_ID = "android-id-1"
private const val PASSWORD = "482915"
private const val OTHER_PASSWORD = "730264"
private const val WRONG_PASSWORD = "000001"
private const val CREDENTIAL_PREFIX = "digital-otp.v1.credential."
private const val SOFTWARE_KEY_PREFIX = "digital-otp.v2.software-key."
private const val CUSTOMER = "customer-1"

/** A transfer of [amount] won to 홍길동, account 110-123-456789. */
private fun transfer(amount: ULong, account: String = "110-123-456789") = Transaction(
    amountMinor = amount,
    currency = "KRW",
    payeeAccount = account,
    payeeName = "홍길동",
)

/**
 * Asserts that [block] throws exactly the [DigitalOtpException] subclass [T], and that
 * neither its message nor its `toString()` reveals a password, the phone number or the
 * device id.
 */
private inline fun <reified T : DigitalOtpException> assertOtpFails(noinline block: () -> Unit): T {
    val e = assertThrows<T>(block)
    for (text in listOfNotNull(e.message, e.toString())) {
        for (secret in listOf(PASSWORD, OTHER_PASSWORD, WRONG_PASSWORD, "1234-5678", "12345678", DEVICE_ID)) {
            assertFalse(text.contains(secret), "${e::class.simpleName} reveals \"$secret\": $text")
        }
    }
    return e
}

/**
 * One phone with the app (over a Kotlin store, the software device keys kept in that same
 * store, and a Kotlin clock) and bank A, sharing the clock.
 */
private class World : AutoCloseable {
    val clock = TestClock(T0)
    val store = TestStore()
    val keys: DeviceKeys = softwareDeviceKeys(store)
    val app: DigitalOtp = DigitalOtp.withClock(store, keys, clock)
    val bank = TestBank("bank-a", "Bank A", clock)
    val phone = DeviceInfo(PHONE, DEVICE_ID)

    /** The whole registration: a code from the bank, then the app's two round trips. */
    fun register(
        customer: String = CUSTOMER,
        bank: TestBank = this.bank,
        password: String = PASSWORD,
        device: DeviceInfo = phone,
    ): CredentialInfo = app.registerAt(bank.issuer, bank.institutionId, bank.issueRegistrationCode(customer), device, password)

    /** A login code: one unlock round trip with [bank]. */
    fun login(
        password: String = PASSWORD,
        bank: TestBank = this.bank,
        device: DeviceInfo = phone,
        app: DigitalOtp = this.app,
    ): LoginCode = app.loginCodeAt(bank.issuer, bank.institutionId, password, device)

    /** A transaction code for [transaction]: one unlock round trip with [bank]. */
    fun transactionCode(transaction: Transaction, password: String = PASSWORD, bank: TestBank = this.bank): TransactionCode =
        app.transactionCodeAt(bank.issuer, bank.institutionId, password, phone, transaction)

    /** A change of the app password: one unlock round trip with [bank]. */
    fun changePassword(old: String, new: String, bank: TestBank = this.bank) =
        app.changePasswordAt(bank.issuer, bank.institutionId, old, new, phone)

    /** Another app over [store] (a restored backup, or the same store after a restart), on the same clock. */
    fun appOver(store: TestStore): DigitalOtp = DigitalOtp.withClock(store, softwareDeviceKeys(store), clock)

    fun attemptsRemaining(institutionId: String = "bank-a"): UInt =
        app.credentials(phone).single { it.institutionId == institutionId }.attemptsRemaining

    /** Bank B, on the same clock. */
    fun bankB(): TestBank = TestBank("bank-b", "Bank B", clock)

    override fun close() {
        app.close()
        (keys as? AutoCloseable)?.close()
        bank.close()
        phone.close()
    }
}

/** Runs [work] on two threads of [pool] released at the same moment; their results in thread order. */
private fun <T> onTwoThreadsAtOnce(pool: java.util.concurrent.ExecutorService, work: () -> T): List<T> {
    val barrier = CyclicBarrier(2)
    val futures: List<Future<T>> = (1..2).map {
        pool.submit(Callable {
            barrier.await(30, TimeUnit.SECONDS)
            work()
        })
    }
    return futures.map { it.get(60, TimeUnit.SECONDS) }
}

/**
 * The app side end to end from Kotlin, against the bank's `Issuer` (through [TestBank]), with a
 * `SecureStore` and a `Clock` implemented in Kotlin and the SDK's software `DeviceKeys` over
 * that store. Mirrors `tests/app_lifecycle.rs` and `tests/attacks.rs`.
 *
 * Registration is two round trips (request → response, confirmation → outcome) and every
 * code one more (the unlock, in which the bank counts the password guess). Every password
 * check costs one PBKDF2 of 1,000,000 iterations (~0.2 s), so each test keeps its count of
 * registrations and codes low.
 */
class AppLifecycleTest {
    private val w = World()

    @AfterEach
    fun closeWorld() = w.close()

    // --- the whole lifecycle ------------------------------------------------------------

    @Test
    fun `whole lifecycle - register, activate, log in, confirm a transfer, lock, register again`() {
        // The bank issues a registration code; the customer types it and chooses a password.
        val code = w.bank.issueRegistrationCode(CUSTOMER)
        assertTrue(Regex("""\d{4}-\d{4}-\d{4}""").matches(code), "displayed as 1234-5678-9012")
        checkRegistrationCode(code)
        val request = w.app.beginRegistration("bank-a", code, w.phone, PASSWORD)
        // The only thing stored so far is the credential's device key (software keys live in the store).
        assertEquals(1, w.store.keys(SOFTWARE_KEY_PREFIX).size, "${w.store.keys()}")
        assertEquals(w.store.keys(SOFTWARE_KEY_PREFIX), w.store.keys())
        val confirmation = w.app.confirmRegistration(w.bank.handleRegistration(request))
        assertEquals(CredentialStatus.REGISTERING, w.app.credentials(w.phone).single().status)
        val info = w.app.completeRegistration("bank-a", w.bank.handleRegistration(confirmation))
        assertEquals(CredentialStatus.PENDING, info.status)
        assertEquals("bank-a", info.institutionId)
        assertEquals("Bank A", info.institutionName)
        assertEquals(5u, info.attemptsRemaining)
        assertTrue(info.validUntil > T0.toULong())
        val serial = info.serialNumber
        assertEquals(serial, w.bank.serialOf(CUSTOMER))
        assertEquals(RegistrationState.PENDING, w.bank.registrationState(serial))
        assertEquals(listOf(info), w.app.credentials(w.phone))

        // Activation: the first login code verifies at the bank.
        val login = w.login()
        assertEquals(serial, login.serialNumber)
        assertTrue(Regex("""\d{6}""").matches(login.code), "a 6-digit login code")
        assertTrue(login.validFrom <= T0.toULong() && T0.toULong() < login.validUntil)
        assertEquals(login.validUntil - T0.toULong(), login.secondsRemaining)
        assertTrue(w.bank.verifyLogin(CUSTOMER, login.code))
        assertEquals(RegistrationState.ACTIVE, w.bank.registrationState(serial))
        w.app.confirmActivation("bank-a")
        assertEquals(CredentialStatus.ACTIVE, w.app.credentials(w.phone).single().status)

        // The same code again is a replay; 30 s later a new code is accepted.
        assertFalse(w.bank.verifyLogin(CUSTOMER, login.code), "replay")
        w.clock.advance(30)
        val next = w.login()
        assertTrue(next.validFrom >= login.validUntil, "the next time step")
        assertTrue(w.bank.verifyLogin(CUSTOMER, next.code))

        // A transaction code is bound to the amount and the payee.
        val tx = transfer(1_500_000uL)
        val txCode = w.transactionCode(tx)
        assertEquals(transactionSummary(tx), txCode.summary)
        assertEquals("Transfer KRW 1,500,000\nPayee: 홍길동\nAccount: 110123456789", txCode.summary)
        assertEquals(serial, txCode.serialNumber)
        assertTrue(Regex("""\d{8}""").matches(txCode.code), "an 8-digit transaction code")
        assertFalse(w.bank.verifyTransaction(CUSTOMER, txCode.code, transfer(1_500_001uL)), "another amount")
        assertFalse(w.bank.verifyTransaction(CUSTOMER, txCode.code, transfer(1_500_000uL, "110-123-456788")), "another payee")
        assertTrue(w.bank.verifyTransaction(CUSTOMER, txCode.code, transfer(1_500_000uL)))
        assertFalse(w.bank.verifyTransaction(CUSTOMER, txCode.code, transfer(1_500_000uL)), "replay")

        // The phone's storage as it is now (a backup, say): the old credential, usable.
        val oldPhone = w.store.copy()

        // Five wrong passwords lock it: the phone destroys the seed and the device key; then
        // the right password is refused too, before anything is sent.
        for (remaining in listOf(4u, 3u, 2u, 1u)) {
            val e = assertOtpFails<DigitalOtpException.WrongPassword> { w.login(WRONG_PASSWORD) }
            assertEquals(remaining, e.attemptsRemaining)
        }
        assertOtpFails<DigitalOtpException.Locked> { w.login(WRONG_PASSWORD) }
        val evaluated = w.bank.evaluations()
        assertOtpFails<DigitalOtpException.Locked> { w.login(PASSWORD) }
        assertOtpFails<DigitalOtpException.Locked> { w.transactionCode(tx) }
        assertEquals(evaluated, w.bank.evaluations(), "a locked credential sends no request")
        val locked = w.app.credentials(w.phone).single()
        assertEquals(CredentialStatus.LOCKED, locked.status)
        assertEquals(0u, locked.attemptsRemaining)
        assertTrue(w.store.keys(SOFTWARE_KEY_PREFIX).isEmpty(), "the device key is destroyed: ${w.store.keys()}")

        // Registering again with a new code restores service; the old serial is revoked.
        w.clock.advance(60)
        val again = w.register()
        assertEquals(CredentialStatus.PENDING, again.status)
        assertNotEquals(serial, again.serialNumber)
        assertEquals(RegistrationState.REVOKED, w.bank.registrationState(serial))
        val revoked = w.bank.device(serial)!!
        assertEquals(DeviceState.CANCELLED, revoked.state)
        assertEquals("re-registered on a new device", revoked.registrations.last().endedReason)
        assertEquals(RegistrationState.PENDING, w.bank.registrationState(again.serialNumber))
        assertEquals(again.serialNumber, w.bank.serialOf(CUSTOMER))
        val fresh = w.login()
        assertEquals(again.serialNumber, fresh.serialNumber)
        // The old credential restored from the backup (taken before the lock, with its seed and
        // its software device key) cannot even make a code any more: the bank answers its
        // unlock with the lock, whatever the password (in v1 it made codes offline).
        w.appOver(oldPhone).use { old ->
            val evaluated = w.bank.evaluations()
            assertOtpFails<DigitalOtpException.Locked> { w.login(app = old) }
            assertEquals(evaluated, w.bank.evaluations(), "no evaluation for a locked OTP")
            assertEquals(CredentialStatus.LOCKED, old.credentials(w.phone).single().status)
        }
        assertTrue(w.bank.verifyLogin(CUSTOMER, fresh.code))
        assertEquals(RegistrationState.ACTIVE, w.bank.registrationState(again.serialNumber))
        w.app.confirmActivation("bank-a")
        val listed = w.app.credentials(w.phone).single()
        assertEquals(CredentialStatus.ACTIVE, listed.status)
        assertEquals(5u, listed.attemptsRemaining)
        assertEquals(1, w.store.keys(CREDENTIAL_PREFIX).size, "the locked credential was replaced")
        assertEquals(1, w.store.keys(SOFTWARE_KEY_PREFIX).size, "one device key, the new credential's")

        // Everything the bank did is in its audit log, whose hash chain is intact.
        val audit = w.bank.issuer.verifyAudit()
        assertEquals(emptyList<String>(), audit.faults)
        assertEquals(w.bank.issuer.audit(AuditFilter()).size.toULong(), audit.entries)
        assertTrue(w.bank.issuer.audit(AuditFilter()).all { it.hash.isNotEmpty() }, "every entry is chained")
    }

    // --- registration failures ----------------------------------------------------------

    @Test
    fun `a mistyped registration code is refused before any request is made`() {
        val code = w.bank.issueRegistrationCode(CUSTOMER)
        checkRegistrationCode(code)
        // Change one digit: the Damm check digit catches every single-digit error.
        val chars = code.toCharArray()
        chars[0] = '0' + (chars[0].digitToInt() + 1) % 10
        val typo = String(chars)
        assertOtpFails<DigitalOtpException.InvalidRegistrationCode> { checkRegistrationCode(typo) }
        assertOtpFails<DigitalOtpException.InvalidRegistrationCode> { w.app.beginRegistration("bank-a", typo, w.phone, PASSWORD) }
        for (malformed in listOf("", "1234", "1234-5678-901", "abcd-efgh-ijkl", "1234-5678-90123")) {
            assertOtpFails<DigitalOtpException.InvalidRegistrationCode> { checkRegistrationCode(malformed) }
            assertOtpFails<DigitalOtpException.InvalidRegistrationCode> {
                w.app.beginRegistration("bank-a", malformed, w.phone, PASSWORD)
            }
        }
        // Nothing is in progress, nothing was written, not even a device key.
        assertOtpFails<DigitalOtpException.NoRegistrationInProgress> { w.app.confirmRegistration("{}".toByteArray()) }
        assertOtpFails<DigitalOtpException.NotRegistered> { w.app.completeRegistration("bank-a", "{}".toByteArray()) }
        assertEquals(0, w.store.writeCalls.get())
    }

    @Test
    fun `a weak password is refused by beginRegistration, before any key or request, and the code stays good`() {
        for (weak in listOf("123456", "111111", "234567", "12345", "987654", "121212", "12345a", "1234567", "")) {
            assertOtpFails<DigitalOtpException.WeakPassword> { checkPasswordPolicy(weak) }
        }
        checkPasswordPolicy(PASSWORD)
        checkPasswordPolicy(OTHER_PASSWORD)

        val code = w.bank.issueRegistrationCode(CUSTOMER)
        for (weak in listOf("123456", "111111", "234567", "12345")) {
            val e = assertOtpFails<DigitalOtpException.WeakPassword> { w.app.beginRegistration("bank-a", code, w.phone, weak) }
            assertTrue(e.reason.isNotBlank())
        }
        assertEquals(0, w.store.writeCalls.get(), "no device key was created")
        assertOtpFails<DigitalOtpException.NoRegistrationInProgress> { w.app.confirmRegistration("{}".toByteArray()) }
        // The app may ask again: the same code registers with a good password.
        val info = w.app.registerAt(w.bank.issuer, "bank-a", code, w.phone, PASSWORD)
        assertEquals(CredentialStatus.PENDING, info.status)
    }

    @Test
    fun `a wrong registration code fails at confirmRegistration as RegistrationRejected - five of them void the code`() {
        val code = w.bank.issueRegistrationCode(CUSTOMER)
        val wrong = anotherValidCode(code)
        checkRegistrationCode(wrong) // the phone cannot tell: only the bank's key confirmation can
        val digits = code.replace("-", "")
        repeat(5) {
            val response = w.bank.handleRegistration(w.app.beginRegistration("bank-a", wrong, w.phone, PASSWORD))
            val e = assertOtpFails<DigitalOtpException.RegistrationRejected> { w.app.confirmRegistration(response) }
            assertTrue(e.reason.isNotBlank())
            for (text in listOfNotNull(e.message, e.toString())) {
                assertFalse(text.contains(digits) || text.contains(code), "the refusal reveals the code: $text")
            }
            // The attempt is over; the store holds nothing, the new device key is deleted too.
            assertOtpFails<DigitalOtpException.NoRegistrationInProgress> { w.app.confirmRegistration(response) }
            assertTrue(w.store.isEmpty(), "left behind: ${w.store.keys()}")
        }
        assertEquals(null, w.bank.serialOf(CUSTOMER))
        // Five answered guesses void the code: now even the right one is refused.
        val right = w.bank.handleRegistration(w.app.beginRegistration("bank-a", code, w.phone, PASSWORD))
        assertOtpFails<DigitalOtpException.RegistrationRejected> { w.app.confirmRegistration(right) }
        val last = w.bank.issuer.audit(AuditFilter(action = "register_mobile_otp", limit = 1u)).single()
        assertEquals("rejected" to "registration code void after 5 attempts", last.outcome to last.detail)

        // A new code, one wrong guess, then the right code: registered.
        val next = w.bank.issueRegistrationCode(CUSTOMER)
        val miss = w.bank.handleRegistration(w.app.beginRegistration("bank-a", anotherValidCode(next), w.phone, PASSWORD))
        assertOtpFails<DigitalOtpException.RegistrationRejected> { w.app.confirmRegistration(miss) }
        val info = w.app.registerAt(w.bank.issuer, "bank-a", next, w.phone, PASSWORD)
        assertEquals(CredentialStatus.PENDING, info.status)
        assertEquals(info.serialNumber, w.bank.serialOf(CUSTOMER))
    }

    @Test
    fun `an expired or already used registration code fails at confirmRegistration, told apart from nothing else`() {
        val code = w.bank.issueRegistrationCode(CUSTOMER)
        val request = w.app.beginRegistration("bank-a", code, w.phone, PASSWORD)
        w.clock.advance(601) // valid for 10 minutes
        val expired = assertOtpFails<DigitalOtpException.RegistrationRejected> {
            w.app.confirmRegistration(w.bank.handleRegistration(request))
        }
        // The expired code is void for good.
        val again = w.bank.handleRegistration(w.app.beginRegistration("bank-a", code, w.phone, PASSWORD))
        assertOtpFails<DigitalOtpException.RegistrationRejected> { w.app.confirmRegistration(again) }
        assertTrue(w.store.isEmpty(), "failed registrations leave nothing, not even a device key: ${w.store.keys()}")
        assertEquals(null, w.bank.serialOf(CUSTOMER))
        assertEquals("expired registration code", w.bank.issuer.audit(AuditFilter(action = "register_mobile_otp", limit = 2u)).last().detail)

        // A used code: it registered once, it cannot register again, and the credential it
        // made is untouched by the refused attempt.
        val fresh = w.bank.issueRegistrationCode(CUSTOMER)
        val info = w.app.registerAt(w.bank.issuer, "bank-a", fresh, w.phone, PASSWORD)
        val replay = w.bank.handleRegistration(w.app.beginRegistration("bank-a", fresh, w.phone, OTHER_PASSWORD))
        val used = assertOtpFails<DigitalOtpException.RegistrationRejected> { w.app.confirmRegistration(replay) }
        assertEquals(listOf(info), w.app.credentials(w.phone))
        assertEquals(info.serialNumber, w.bank.serialOf(CUSTOMER))
        // Wrong, expired and used codes look alike on the phone: the bank answers them alike.
        val wrong = w.bank.handleRegistration(
            w.app.beginRegistration("bank-a", anotherValidCode(w.bank.issueRegistrationCode(CUSTOMER)), w.phone, PASSWORD),
        )
        val wrongCode = assertOtpFails<DigitalOtpException.RegistrationRejected> { w.app.confirmRegistration(wrong) }
        assertEquals(wrongCode.reason, expired.reason)
        assertEquals(wrongCode.reason, used.reason)
        assertEquals(1, w.store.keys(SOFTWARE_KEY_PREFIX).size, "only the registered credential's device key")
    }

    @Test
    fun `an altered bank response fails like a wrong code, garbage is InvalidResponse, and both end the attempt`() {
        val code = w.bank.issueRegistrationCode(CUSTOMER)
        for (field in listOf("grant", "evaluation")) {
            val response = w.bank.handleRegistration(w.app.beginRegistration("bank-a", code, w.phone, PASSWORD))
            assertOtpFails<DigitalOtpException.RegistrationRejected> { w.app.confirmRegistration(alterHexField(response, field)) }
            assertTrue(w.store.isEmpty(), "$field: nothing kept: ${w.store.keys()}")
            // The attempt is over: even the genuine response needs a new beginRegistration.
            assertOtpFails<DigitalOtpException.NoRegistrationInProgress> { w.app.confirmRegistration(response) }
        }
        // Garbage is InvalidResponse.
        for (garbage in listOf(ByteArray(0), "null".toByteArray(), ByteArray(10) { -1 }, "{}".toByteArray())) {
            w.app.beginRegistration("bank-a", code, w.phone, PASSWORD)
            assertOtpFails<DigitalOtpException.InvalidResponse> { w.app.confirmRegistration(garbage) }
            assertOtpFails<DigitalOtpException.NoRegistrationInProgress> { w.app.confirmRegistration(garbage) }
        }
        assertTrue(w.store.isEmpty(), "${w.store.keys()}")
        // The code survives the two altered answers (two of its five guesses).
        assertEquals(CredentialStatus.PENDING, w.app.registerAt(w.bank.issuer, "bank-a", code, w.phone, PASSWORD).status)
    }

    @Test
    fun `between confirmRegistration and completeRegistration the credential is REGISTERING - unusable, kept across a restart`() {
        val code = w.bank.issueRegistrationCode(CUSTOMER)
        val confirmation = w.app.confirmRegistration(
            w.bank.handleRegistration(w.app.beginRegistration("bank-a", code, w.phone, PASSWORD)),
        )
        val registering = w.app.credentials(w.phone).single()
        assertEquals(CredentialStatus.REGISTERING, registering.status)
        assertEquals("Bank A", registering.institutionName)
        assertOtpFails<DigitalOtpException.RegistrationIncomplete> { w.app.beginLoginCode("bank-a", PASSWORD, w.phone) }
        assertOtpFails<DigitalOtpException.RegistrationIncomplete> {
            w.app.beginTransactionCode("bank-a", PASSWORD, w.phone, transfer(1_000uL))
        }
        assertOtpFails<DigitalOtpException.RegistrationIncomplete> { w.app.confirmActivation("bank-a") }
        assertEquals(null, w.bank.serialOf(CUSTOMER), "the bank has not had the confirmation yet")
        assertEquals(0, w.bank.evaluations())

        val outcome = w.bank.handleRegistration(confirmation)
        assertEquals(registering.serialNumber, w.bank.serialOf(CUSTOMER))
        // An altered outcome is not the bank's answer (InvalidResponse) and changes nothing:
        // the genuine one may still come.
        assertOtpFails<DigitalOtpException.InvalidResponse> { w.app.completeRegistration("bank-a", alterHexField(outcome, "mac")) }
        assertEquals(CredentialStatus.REGISTERING, w.app.credentials(w.phone).single().status)

        // The app killed and opened again (a new DigitalOtp over the same store): the outcome completes it.
        w.appOver(w.store).use { restarted ->
            assertEquals(CredentialStatus.REGISTERING, restarted.credentials(w.phone).single().status)
            val info = restarted.completeRegistration("bank-a", outcome)
            assertEquals(CredentialStatus.PENDING, info.status)
            assertEquals(registering.serialNumber, info.serialNumber)
            assertOtpFails<DigitalOtpException.NoRegistrationInProgress> { restarted.completeRegistration("bank-a", outcome) }
            val login = w.login(app = restarted)
            assertTrue(w.bank.verifyLogin(CUSTOMER, login.code))
        }
    }

    @Test
    fun `an outcome the bank refuses deletes the registering credential - the same code confirmed on two phones`() {
        // The same code typed on two phones: both get a response, the first confirmation
        // registers, and the bank refuses the second (the code is used by then).
        val otherStore = TestStore()
        w.appOver(otherStore).use { other ->
            val code = w.bank.issueRegistrationCode(CUSTOMER)
            val first = w.app.beginRegistration("bank-a", code, w.phone, PASSWORD)
            val second = other.beginRegistration("bank-a", code, w.phone, OTHER_PASSWORD)
            val firstConfirmation = w.app.confirmRegistration(w.bank.handleRegistration(first))
            val secondConfirmation = other.confirmRegistration(w.bank.handleRegistration(second))
            assertEquals(CredentialStatus.REGISTERING, other.credentials(w.phone).single().status)
            val info = w.app.completeRegistration("bank-a", w.bank.handleRegistration(firstConfirmation))
            val refused = w.bank.handleRegistration(secondConfirmation)
            assertOtpFails<DigitalOtpException.RegistrationRejected> { other.completeRegistration("bank-a", refused) }
            assertEquals(emptyList<CredentialInfo>(), other.credentials(w.phone))
            assertEquals(emptyList<String>(), otherStore.keys(CREDENTIAL_PREFIX), "the refused credential is deleted")
            assertEquals(emptyList<String>(), otherStore.keys(SOFTWARE_KEY_PREFIX), "and its device key")
            assertEquals(info.serialNumber, w.bank.serialOf(CUSTOMER))
            assertTrue(w.bank.verifyLogin(CUSTOMER, w.login().code))
        }
    }

    @Test
    fun `a store failing at completeRegistration keeps the outcome usable, and an outcome edited to another serial is InvalidResponse`() {
        val confirmation = w.app.confirmRegistration(
            w.bank.handleRegistration(w.app.beginRegistration("bank-a", w.bank.issueRegistrationCode(CUSTOMER), w.phone, PASSWORD)),
        )
        val outcome = w.bank.handleRegistration(confirmation)
        val before = w.store.snapshot()
        w.store.failWrites = true
        try {
            assertOtpFails<DigitalOtpException.StorageFailed> { w.app.completeRegistration("bank-a", outcome) }
        } finally {
            w.store.failWrites = false
        }
        assertEquals(before, w.store.snapshot())
        assertEquals(listOf(CredentialStatus.REGISTERING), w.app.credentials(w.phone).map { it.status })
        // An outcome for another serial, for another bank, or garbage: refused, still registering.
        val serial = org.json.JSONObject(String(outcome, Charsets.UTF_8)).getString("serial_number")
        val otherSerial = serial.dropLast(1) + ((serial.last().digitToInt() + 1) % 10)
        val edited = String(outcome, Charsets.UTF_8).replace("\"$serial\"", "\"$otherSerial\"").toByteArray()
        assertFalse(edited.contentEquals(outcome))
        assertOtpFails<DigitalOtpException.InvalidResponse> { w.app.completeRegistration("bank-a", edited) }
        assertOtpFails<DigitalOtpException.InvalidResponse> { w.app.completeRegistration("bank-a", byteArrayOf(-1)) }
        assertOtpFails<DigitalOtpException.NotRegistered> { w.app.completeRegistration("bank-b", outcome) }
        assertEquals(listOf(CredentialStatus.REGISTERING), w.app.credentials(w.phone).map { it.status })
        // The same outcome completes once the store works.
        assertEquals(CredentialStatus.PENDING, w.app.completeRegistration("bank-a", outcome).status)
        assertTrue(w.bank.verifyLogin(CUSTOMER, w.login().code))
    }

    // --- the password, counted by the bank ------------------------------------------------

    @Test
    fun `wrong passwords are counted by the bank - restoring an earlier copy of the store between guesses does not reset the count`() {
        val serial = w.register().serialNumber
        val backup = w.store.copy()
        for (remaining in listOf(4u, 3u, 2u, 1u)) {
            w.store.restore(backup)
            // The fake clock moves one second: the bank takes each request once, in time order.
            w.clock.advance(1)
            assertEquals(5u, w.attemptsRemaining(), "the restored copy knows of no wrong guess")
            val e = assertOtpFails<DigitalOtpException.WrongPassword> { w.login(WRONG_PASSWORD) }
            assertEquals(remaining, e.attemptsRemaining, "the bank's count goes on")
        }
        // The fifth wrong guess on the restored copy locks it.
        w.store.restore(backup)
        w.clock.advance(1)
        assertOtpFails<DigitalOtpException.Locked> { w.login(WRONG_PASSWORD) }
        assertEquals(CredentialStatus.LOCKED, w.app.credentials(w.phone).single().status)
        // Even the right password on the earliest copy: the bank refuses, and the phone destroys the copy's seed.
        w.store.restore(backup)
        w.clock.advance(1)
        assertEquals(5u, w.attemptsRemaining())
        assertOtpFails<DigitalOtpException.Locked> { w.login(PASSWORD) }
        assertEquals(CredentialStatus.LOCKED, w.app.credentials(w.phone).single().status)
        assertTrue(w.store.keys(SOFTWARE_KEY_PREFIX).isEmpty(), "the device key is destroyed: ${w.store.keys()}")

        assertEquals(5, w.bank.evaluations(), "the bank evaluated five guesses, no more")
        assertEquals(DeviceState.CANCELLED, w.bank.device(serial)!!.state)
        assertEquals(RegistrationState.CANCELLED, w.bank.registrationState(serial))
        assertEquals(null, w.bank.serialOf(CUSTOMER), "only a new registration helps")
        assertEquals(emptyList<String>(), w.bank.issuer.verifyAudit().faults)
    }

    @Test
    fun `an accepted code clears the bank's count, and so does the next unlock after a right password`() {
        w.register()
        assertEquals(4u, assertOtpFails<DigitalOtpException.WrongPassword> { w.login(WRONG_PASSWORD) }.attemptsRemaining)
        assertEquals(3u, assertOtpFails<DigitalOtpException.WrongPassword> { w.login(WRONG_PASSWORD) }.attemptsRemaining)
        val beforeRight = w.store.copy()
        val login = w.login()
        assertEquals(5u, w.attemptsRemaining(), "the phone saw the right password")
        assertTrue(w.bank.verifyLogin(CUSTOMER, login.code))

        // The copy from before the right password holds no proof of it: only the accepted
        // code can have cleared the count (three evaluations were unconfirmed).
        w.store.restore(beforeRight)
        w.clock.advance(1)
        assertEquals(3u, w.attemptsRemaining(), "what the copy last heard")
        assertEquals(4u, assertOtpFails<DigitalOtpException.WrongPassword> { w.login(WRONG_PASSWORD) }.attemptsRemaining)

        // No code sent to the bank this time: the right password's unlock is confirmed by the
        // next request, which clears the count as well.
        assertEquals(3u, assertOtpFails<DigitalOtpException.WrongPassword> { w.login(WRONG_PASSWORD) }.attemptsRemaining)
        w.login()
        assertEquals(4u, assertOtpFails<DigitalOtpException.WrongPassword> { w.login(WRONG_PASSWORD) }.attemptsRemaining)
    }

    @Test
    fun `an altered bank answer is InvalidResponse, and the genuine answer still gives the code`() {
        w.register()
        val answer = w.bank.handleUnlock(w.app.beginLoginCode("bank-a", PASSWORD, w.phone))
        for (field in listOf("evaluation", "mac")) {
            assertOtpFails<DigitalOtpException.InvalidResponse> { w.app.completeLoginCode(alterHexField(answer, field)) }
        }
        for (garbage in listOf(ByteArray(0), "null".toByteArray(), "{}".toByteArray())) {
            assertOtpFails<DigitalOtpException.InvalidResponse> { w.app.completeLoginCode(garbage) }
        }
        val login = w.app.completeLoginCode(answer)
        assertTrue(w.bank.verifyLogin(CUSTOMER, login.code))
        // Answered: the same answer again finds no request.
        assertOtpFails<DigitalOtpException.NoCodeInProgress> { w.app.completeLoginCode(answer) }

        // A wrong password's answer edited to promise more attempts is refused too; the genuine one counts.
        val wrong = w.bank.handleUnlock(w.app.beginLoginCode("bank-a", WRONG_PASSWORD, w.phone))
        assertEquals(4L, numberField(wrong, "remaining"))
        val edited = String(wrong, Charsets.UTF_8).replace(Regex("\"remaining\"\\s*:\\s*4"), "\"remaining\":5").toByteArray()
        assertFalse(edited.contentEquals(wrong))
        assertOtpFails<DigitalOtpException.InvalidResponse> { w.app.completeLoginCode(edited) }
        assertEquals(4u, assertOtpFails<DigitalOtpException.WrongPassword> { w.app.completeLoginCode(wrong) }.attemptsRemaining)
        assertEquals(4u, w.attemptsRemaining())
    }

    @Test
    fun `a login and a transaction under way at once each find their own answer, and an answer is not taken for another kind`() {
        w.register()
        val tx = transfer(250_000uL)
        val loginRequest = w.app.beginLoginCode("bank-a", PASSWORD, w.phone)
        val txRequest = w.app.beginTransactionCode("bank-a", PASSWORD, w.phone, tx)
        val loginAnswer = w.bank.handleUnlock(loginRequest)
        val txAnswer = w.bank.handleUnlock(txRequest)
        // Completed in the other order: each answer finds its own request.
        val txCode = w.app.completeTransactionCode(txAnswer)
        assertEquals(transactionSummary(tx), txCode.summary)
        val login = w.app.completeLoginCode(loginAnswer)
        assertTrue(w.bank.verifyLogin(CUSTOMER, login.code))
        assertTrue(w.bank.verifyTransaction(CUSTOMER, txCode.code, tx))
        // An answer given to the other kind of step is not taken for it.
        w.clock.advance(30)
        val answer = w.bank.handleUnlock(w.app.beginLoginCode("bank-a", PASSWORD, w.phone))
        assertOtpFails<DigitalOtpException.NoCodeInProgress> { w.app.completeTransactionCode(answer) }
        assertOtpFails<DigitalOtpException.NoCodeInProgress> { w.app.completeChangePassword(answer) }
        assertTrue(w.bank.verifyLogin(CUSTOMER, w.app.completeLoginCode(answer).code), "the login still completes")
    }

    // --- device binding -------------------------------------------------------------------

    @Test
    fun `another phone number or device id is a DeviceMismatch`() {
        w.register()
        val others = listOf(DeviceInfo("010-1234-5679", DEVICE_ID), DeviceInfo(PHONE, "android-id-2"))
        for (other in others) {
            other.use {
                assertOtpFails<DigitalOtpException.DeviceMismatch> { w.login(device = it) }
                assertOtpFails<DigitalOtpException.DeviceMismatch> {
                    w.app.beginTransactionCode("bank-a", PASSWORD, it, transfer(1_000uL))
                }
                assertEquals(CredentialStatus.DEVICE_MISMATCH, w.app.credentials(it).single().status)
            }
        }
        // A mismatch is not a password failure, and nothing reached the bank.
        val mine = w.app.credentials(w.phone).single()
        assertEquals(CredentialStatus.PENDING, mine.status)
        assertEquals(5u, mine.attemptsRemaining)
        assertEquals(0, w.bank.evaluations())
        // Another way of writing the same number is the same device.
        DeviceInfo("+82 10 1234 5678", DEVICE_ID).use { same ->
            assertDoesNotThrow { w.login(device = same) }
        }
    }

    @Test
    fun `DeviceInfo normalizes the number and never shows it`() {
        DeviceInfo(PHONE, DEVICE_ID).use { d ->
            assertEquals(PHONE_E164, d.phoneNumberE164())
            val text = d.toString()
            for (part in listOf(PHONE, PHONE_E164, "01012345678", "1234", "5678", DEVICE_ID)) {
                assertFalse(text.contains(part), "toString() reveals \"$part\": $text")
            }
        }
        DeviceInfo("+82 10 1234 5678", DEVICE_ID).use { assertEquals(PHONE_E164, it.phoneNumberE164()) }
        assertOtpFails<DigitalOtpException.InvalidDevice> { DeviceInfo("12", DEVICE_ID) }
        assertOtpFails<DigitalOtpException.InvalidDevice> { DeviceInfo(PHONE, "") }
        assertOtpFails<DigitalOtpException.InvalidDevice> { DeviceInfo(PHONE, "id\u0000with-nul") }
    }

    // --- storage faults ---------------------------------------------------------------------

    /**
     * Registers bank A, then fails bank B's registration with [fault] switched on during
     * `confirmRegistration` (where the credential is stored): StorageFailed, the store
     * exactly as before (the new device key deleted too), bank A usable, and bank B
     * registrable once the store is healthy again.
     */
    private fun secondBankRegistrationFailsCleanly(fault: (Boolean) -> Unit): DigitalOtpException.StorageFailed {
        val serialA = w.register().serialNumber
        val before = w.store.snapshot()
        return w.bankB().use { bankB ->
            val request = w.app.beginRegistration("bank-b", bankB.issueRegistrationCode(CUSTOMER), w.phone, PASSWORD)
            val response = bankB.handleRegistration(request)
            fault(true)
            val e = try {
                assertOtpFails<DigitalOtpException.StorageFailed> { w.app.confirmRegistration(response) }
            } finally {
                fault(false)
            }
            assertEquals(before, w.store.snapshot(), "nothing half-written")
            assertEquals(listOf("bank-a"), w.app.credentials(w.phone).map { it.institutionId })
            val login = w.login()
            assertEquals(serialA, login.serialNumber)
            assertTrue(w.bank.verifyLogin(CUSTOMER, login.code), "bank A's credential is intact")
            // The failed attempt is over; a new one succeeds on a healthy store.
            assertOtpFails<DigitalOtpException.NoRegistrationInProgress> { w.app.confirmRegistration(response) }
            w.register(bank = bankB)
            assertEquals(listOf("bank-a", "bank-b"), w.app.credentials(w.phone).map { it.institutionId })
            e
        }
    }

    @Test
    fun `a store that throws HostException Failed on write - StorageFailed, nothing changed`() {
        val e = secondBankRegistrationFailsCleanly { w.store.failWrites = it }
        assertTrue(e.reason.contains("keystore unavailable"), e.reason)
    }

    @Test
    fun `a store that throws an unexpected RuntimeException on write - StorageFailed, nothing changed`() {
        val e = secondBankRegistrationFailsCleanly { w.store.throwUnexpected = it }
        assertTrue(e.reason.contains("unexpected error in a callback"), e.reason)
        assertTrue(e.reason.contains("keystore crashed"), e.reason)
    }

    @Test
    fun `a store that silently drops writes - StorageFailed, nothing changed`() {
        val e = secondBankRegistrationFailsCleanly { w.store.dropWrites = it }
        assertTrue(e.reason.contains("did not keep a write"), e.reason)
        // The request's time must be stored before the request leaves: a lost write means
        // no request at all, so the password is not tried.
        val evaluated = w.bank.evaluations()
        w.store.dropWrites = true
        try {
            assertOtpFails<DigitalOtpException.StorageFailed> { w.app.beginLoginCode("bank-a", WRONG_PASSWORD, w.phone) }
        } finally {
            w.store.dropWrites = false
        }
        assertOtpFails<DigitalOtpException.NoCodeInProgress> { w.app.completeLoginCode("{}".toByteArray()) }
        assertEquals(evaluated, w.bank.evaluations())
        assertEquals(5u, w.attemptsRemaining("bank-a"))
    }

    // --- several institutions, cancel, reset, password change --------------------------------

    @Test
    fun `two institutions - cancelling bank A leaves bank B usable`() {
        w.bankB().use { bankB ->
            val serialA = w.register().serialNumber
            val serialB = w.register(bank = bankB, password = OTHER_PASSWORD).serialNumber
            val list = w.app.credentials(w.phone)
            assertEquals(listOf("bank-a", "bank-b"), list.map { it.institutionId })
            assertEquals(listOf("Bank A", "Bank B"), list.map { it.institutionName })
            assertEquals(listOf(serialA, serialB), list.map { it.serialNumber })
            assertEquals(2, w.store.keys(SOFTWARE_KEY_PREFIX).size, "a device key per credential")
            // Each credential has its own password, counted by its own bank.
            val e = assertOtpFails<DigitalOtpException.WrongPassword> { w.login(PASSWORD, bank = bankB) }
            assertEquals(4u, e.attemptsRemaining)
            assertEquals(1, bankB.evaluations())
            assertEquals(0, w.bank.evaluations())
            val b = w.login(OTHER_PASSWORD, bank = bankB)
            assertEquals(serialB, b.serialNumber)
            assertTrue(bankB.verifyLogin(CUSTOMER, b.code))

            w.app.cancel("bank-a")
            assertOtpFails<DigitalOtpException.NotRegistered> { w.app.beginLoginCode("bank-a", PASSWORD, w.phone) }
            assertOtpFails<DigitalOtpException.NotRegistered> { w.app.cancel("bank-a") }
            assertEquals(listOf("bank-b"), w.app.credentials(w.phone).map { it.institutionId })
            assertEquals(1, w.store.keys(CREDENTIAL_PREFIX).size)
            assertEquals(1, w.store.keys(SOFTWARE_KEY_PREFIX).size, "bank A's device key went with it")

            w.clock.advance(30)
            val b2 = w.login(OTHER_PASSWORD, bank = bankB)
            assertTrue(bankB.verifyLogin(CUSTOMER, b2.code), "bank B still works")
            // The wrong password given for bank B was followed by a success: the count is reset.
            assertEquals(5u, w.app.credentials(w.phone).single().attemptsRemaining)
        }
    }

    @Test
    fun `resetAll deletes every credential and device key and empties the store`() {
        w.bankB().use { bankB ->
            w.register()
            w.register(bank = bankB)
            assertFalse(w.store.isEmpty())
            w.app.resetAll()
            assertTrue(w.store.isEmpty(), "left behind: ${w.store.keys()}")
            assertEquals(emptyList<CredentialInfo>(), w.app.credentials(w.phone))
            assertOtpFails<DigitalOtpException.NotRegistered> { w.app.beginLoginCode("bank-a", PASSWORD, w.phone) }
            assertOtpFails<DigitalOtpException.NotRegistered> { w.app.beginLoginCode("bank-b", PASSWORD, w.phone) }
            w.app.resetAll() // idempotent
        }
    }

    @Test
    fun `changing the password needs the old one, counts as two guesses, and follows the policy`() {
        val serial = w.register().serialNumber
        assertOtpFails<DigitalOtpException.WeakPassword> { w.app.beginChangePassword("bank-a", PASSWORD, "111111", w.phone) }
        assertEquals(0, w.bank.evaluations(), "a weak new password is refused before any request")
        val e = assertOtpFails<DigitalOtpException.WrongPassword> { w.changePassword(WRONG_PASSWORD, OTHER_PASSWORD) }
        assertEquals(3u, e.attemptsRemaining, "the bank evaluates both passwords: two guesses")
        w.changePassword(PASSWORD, OTHER_PASSWORD)
        assertEquals(5u, w.attemptsRemaining(), "a success resets the count")
        val old = assertOtpFails<DigitalOtpException.WrongPassword> { w.login(PASSWORD) }
        assertEquals(4u, old.attemptsRemaining, "the old password is wrong now; the change's success was confirmed")
        val login = w.login(OTHER_PASSWORD)
        assertEquals(serial, login.serialNumber)
        assertTrue(w.bank.verifyLogin(CUSTOMER, login.code), "same seed, new password")
    }

    @Test
    fun `changing the password with one attempt left - the bank confirms the old one alone, ChangePasswordAgain, then the change goes through`() {
        w.register()
        for (remaining in listOf(4u, 3u, 2u, 1u)) {
            assertEquals(remaining, assertOtpFails<DigitalOtpException.WrongPassword> { w.login(WRONG_PASSWORD) }.attemptsRemaining)
        }
        // Two guesses would pass the count: the bank evaluates the old password alone (one guess).
        val evaluated = w.bank.evaluations()
        assertOtpFails<DigitalOtpException.ChangePasswordAgain> { w.changePassword(PASSWORD, OTHER_PASSWORD) }
        assertEquals(evaluated + 1, w.bank.evaluations())
        val c = w.app.credentials(w.phone).single()
        assertEquals(CredentialStatus.PENDING to 5u, c.status to c.attemptsRemaining, "the old password was right")
        // The old password still opens the seed: nothing was re-sealed.
        w.changePassword(PASSWORD, OTHER_PASSWORD)
        assertTrue(w.bank.verifyLogin(CUSTOMER, w.login(OTHER_PASSWORD).code))
    }

    @Test
    fun `after the lock every request is answered Locked - a copy from before the fifth guess gets no sixth`() {
        w.register()
        repeat(4) { assertOtpFails<DigitalOtpException.WrongPassword> { w.login(WRONG_PASSWORD) } }
        val beforeFifth = w.store.copy()
        assertOtpFails<DigitalOtpException.Locked> { w.login(WRONG_PASSWORD) }
        // Put back the copy from before the fifth guess: the bank answers Locked, every time,
        // even to the right password.
        repeat(3) {
            w.store.restore(beforeFifth)
            w.clock.advance(1)
            assertEquals(1u, w.attemptsRemaining(), "the copy's view")
            assertOtpFails<DigitalOtpException.Locked> { w.login(PASSWORD) }
            assertEquals(CredentialStatus.LOCKED, w.app.credentials(w.phone).single().status)
        }
        assertEquals(5, w.bank.evaluations(), "five guesses, no more")
    }

    // --- concurrency and what is stored -------------------------------------------------------

    @Test
    fun `two unlocks under way at once from two threads - each answer finds its request, both guesses count`() {
        w.register()
        val pool = Executors.newFixedThreadPool(2)
        try {
            // Two threads begin at once; the bank takes each request once, in the order the
            // phone made them (a request not later than the last one seen is stale).
            val requests = onTwoThreadsAtOnce(pool) { w.app.beginLoginCode("bank-a", WRONG_PASSWORD, w.phone) }
            val answers = requests.sortedBy { numberField(it, "time_ms") }.map { w.bank.handleUnlock(it) }
            // Both answers completed at once; each thread takes the other thread's answer first-come.
            val queue = java.util.concurrent.ConcurrentLinkedQueue(answers.reversed())
            val errors = onTwoThreadsAtOnce(pool) { runCatching { w.app.completeLoginCode(queue.poll()) }.exceptionOrNull() }
            val remaining = errors.map { (it as? DigitalOtpException.WrongPassword)?.attemptsRemaining ?: error("not WrongPassword: $it") }
            assertEquals(listOf(3u, 4u), remaining.sorted())
            // Both were counted: the next wrong guess has two left.
            assertEquals(2u, assertOtpFails<DigitalOtpException.WrongPassword> { w.login(WRONG_PASSWORD) }.attemptsRemaining)
            assertEquals(2u, w.attemptsRemaining())
            assertOtpFails<DigitalOtpException.NoCodeInProgress> { w.app.completeLoginCode(answers[0]) }

            // And two threads with the right password both get the (same) code.
            val rightRequests = onTwoThreadsAtOnce(pool) { w.app.beginLoginCode("bank-a", PASSWORD, w.phone) }
            val rightAnswers = java.util.concurrent.ConcurrentLinkedQueue(
                rightRequests.sortedBy { numberField(it, "time_ms") }.map { w.bank.handleUnlock(it) },
            )
            val codes = onTwoThreadsAtOnce(pool) { w.app.completeLoginCode(rightAnswers.poll()).code }
            assertEquals(1, codes.toSet().size)
            assertEquals(5u, w.attemptsRemaining())
            assertTrue(w.bank.verifyLogin(CUSTOMER, codes[0]))
            // The accepted code cleared the bank's count.
            assertEquals(4u, assertOtpFails<DigitalOtpException.WrongPassword> { w.login(WRONG_PASSWORD) }.attemptsRemaining)
        } finally {
            pool.shutdownNow()
        }
    }

    @Test
    fun `the stored bytes never contain the phone number, the device id or the password`() {
        val code = w.bank.issueRegistrationCode(CUSTOMER)
        val info = w.app.registerAt(w.bank.issuer, "bank-a", code, w.phone, PASSWORD)
        w.login()
        w.transactionCode(transfer(1_500_000uL))
        assertOtpFails<DigitalOtpException.WrongPassword> { w.login(WRONG_PASSWORD) }
        w.changePassword(PASSWORD, OTHER_PASSWORD)

        // The documented layout: a store key, an index, one credential under a random name,
        // and here (software keys) the credential's device key.
        val keys = w.store.keys()
        assertEquals(4, keys.size, "$keys")
        assertTrue("digital-otp.v1.device-key" in keys && "digital-otp.v1.index" in keys, "$keys")
        assertEquals(1, w.store.keys(CREDENTIAL_PREFIX).size, "$keys")
        assertEquals(1, w.store.keys(SOFTWARE_KEY_PREFIX).size, "$keys")

        val needles = listOf(
            PHONE, PHONE_E164, "01012345678", "821012345678", "1012345678", DEVICE_ID,
            PASSWORD, OTHER_PASSWORD, WRONG_PASSWORD,
            code, code.replace("-", ""),
            // The blobs are encrypted: not even the serial number or a field name shows.
            info.serialNumber, "sealed_seed", "unlock_key", "홍길동",
        )
        for (needle in needles) {
            val bytes = needle.toByteArray(Charsets.UTF_8)
            for (key in keys) assertFalse(key.contains(needle), "key $key contains \"$needle\"")
            for (value in w.store.values()) {
                assertFalse(value.containsSequence(bytes), "a stored value contains \"$needle\"")
            }
        }
    }
}

private fun ByteArray.containsSequence(needle: ByteArray): Boolean {
    if (needle.isEmpty()) return true
    outer@ for (i in 0..size - needle.size) {
        for (j in needle.indices) if (this[i + j] != needle[j]) continue@outer
        return true
    }
    return false
}
