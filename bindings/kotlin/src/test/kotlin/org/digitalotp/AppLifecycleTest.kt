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

/** One phone with the app (over a Kotlin store and clock) and bank A, sharing the clock. */
private class World : AutoCloseable {
    val clock = TestClock(T0)
    val store = TestStore()
    val app: DigitalOtp = DigitalOtp.withClock(store, clock)
    val bank = TestBank("bank-a", "Bank A", clock)
    val phone = DeviceInfo(PHONE, DEVICE_ID)

    /** The whole registration round trip: code at the bank, request, response, password. */
    fun register(
        customer: String = "customer-1",
        bank: TestBank = this.bank,
        password: String = PASSWORD,
        device: DeviceInfo = phone,
    ): CredentialInfo {
        val code = bank.issueRegistrationCode(customer)
        val request = app.beginRegistration(code, device)
        return app.completeRegistration(bank.handleRegistration(request), password)
    }

    /** Bank B, on the same clock. */
    fun bankB(): TestBank = TestBank("bank-b", "Bank B", clock)

    override fun close() {
        app.close()
        bank.close()
        phone.close()
    }
}

/**
 * The app side end to end from Kotlin, against the bank's `Issuer` (through [TestBank]), with a
 * `SecureStore` and a `Clock` implemented in Kotlin. Mirrors `tests/app_lifecycle.rs`.
 *
 * Every password check costs one PBKDF2 of 600,000 iterations (~0.2 s), so each test
 * keeps its count of `completeRegistration` / `generate*` / `changePassword` calls low.
 */
class AppLifecycleTest {
    private val w = World()

    @AfterEach
    fun closeWorld() = w.close()

    // --- the whole lifecycle ------------------------------------------------------------

    @Test
    fun `whole lifecycle - register, activate, log in, confirm a transfer, lock, register again`() {
        // The bank issues a registration code; the customer types it into the app.
        val code = w.bank.issueRegistrationCode("customer-1")
        assertTrue(Regex("""\d{4}-\d{4}-\d{4}""").matches(code), "displayed as 1234-5678-9012")
        checkRegistrationCode(code)
        val request = w.app.beginRegistration(code, w.phone)
        assertTrue(w.store.isEmpty(), "beginRegistration writes nothing")
        val response = w.bank.handleRegistration(request)
        val info = w.app.completeRegistration(response, PASSWORD)
        assertEquals(CredentialStatus.PENDING, info.status)
        assertEquals("bank-a", info.institutionId)
        assertEquals("Bank A", info.institutionName)
        assertEquals(5u, info.attemptsRemaining)
        assertTrue(info.validUntil > T0.toULong())
        val serial = info.serialNumber
        assertEquals(serial, w.bank.serialOf("customer-1"))
        assertEquals(RegistrationState.PENDING, w.bank.registrationState(serial))
        assertEquals(listOf(info), w.app.credentials(w.phone))

        // Activation: the first login code verifies at the bank.
        val login = w.app.generate("bank-a", PASSWORD, w.phone)
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
        val next = w.app.generate("bank-a", PASSWORD, w.phone)
        assertTrue(next.validFrom >= login.validUntil, "the next time step")
        assertTrue(w.bank.verifyLogin(CUSTOMER, next.code))

        // A transaction code is bound to the amount and the payee.
        val tx = transfer(1_500_000uL)
        val txCode = w.app.generateForTransaction("bank-a", PASSWORD, w.phone, tx)
        assertEquals(transactionSummary(tx), txCode.summary)
        assertEquals("Transfer KRW 1,500,000 to 홍길동 (account 110123456789)", txCode.summary)
        assertEquals(serial, txCode.serialNumber)
        assertTrue(Regex("""\d{8}""").matches(txCode.code), "an 8-digit transaction code")
        assertFalse(w.bank.verifyTransaction(CUSTOMER, txCode.code, transfer(1_500_001uL)), "another amount")
        assertFalse(w.bank.verifyTransaction(CUSTOMER, txCode.code, transfer(1_500_000uL, "110-123-456788")), "another payee")
        assertTrue(w.bank.verifyTransaction(CUSTOMER, txCode.code, transfer(1_500_000uL)))
        assertFalse(w.bank.verifyTransaction(CUSTOMER, txCode.code, transfer(1_500_000uL)), "replay")

        // The phone's storage as it is now (a backup, say): the old credential, usable.
        val oldPhone = w.store.copy()

        // Five wrong passwords lock it; then the right one is refused too.
        for (remaining in listOf(4u, 3u, 2u, 1u)) {
            val e = assertOtpFails<DigitalOtpException.WrongPassword> { w.app.generate("bank-a", WRONG_PASSWORD, w.phone) }
            assertEquals(remaining, e.attemptsRemaining)
        }
        assertOtpFails<DigitalOtpException.Locked> { w.app.generate("bank-a", WRONG_PASSWORD, w.phone) }
        assertOtpFails<DigitalOtpException.Locked> { w.app.generate("bank-a", PASSWORD, w.phone) }
        assertOtpFails<DigitalOtpException.Locked> { w.app.generateForTransaction("bank-a", PASSWORD, w.phone, tx) }
        val locked = w.app.credentials(w.phone).single()
        assertEquals(CredentialStatus.LOCKED, locked.status)
        assertEquals(0u, locked.attemptsRemaining)

        // Registering again with a new code restores service; the old serial is revoked.
        w.clock.advance(60)
        val again = w.register("customer-1")
        assertEquals(CredentialStatus.PENDING, again.status)
        assertNotEquals(serial, again.serialNumber)
        assertEquals(RegistrationState.REVOKED, w.bank.registrationState(serial))
        val revoked = w.bank.device(serial)!!
        assertEquals(DeviceState.CANCELLED, revoked.state)
        assertEquals("re-registered on a new device", revoked.registrations.last().endedReason)
        assertEquals(RegistrationState.PENDING, w.bank.registrationState(again.serialNumber))
        assertEquals(again.serialNumber, w.bank.serialOf("customer-1"))
        val fresh = w.app.generate("bank-a", PASSWORD, w.phone)
        assertEquals(again.serialNumber, fresh.serialNumber)
        // The old credential still makes codes (restored from the backup), but the bank
        // verifies the customer against the new one only.
        val stale = DigitalOtp.withClock(oldPhone, w.clock).use { it.generate("bank-a", PASSWORD, w.phone) }
        assertEquals(serial, stale.serialNumber)
        assertFalse(w.bank.verifyLogin(CUSTOMER, stale.code), "the old credential is revoked")
        assertTrue(w.bank.verifyLogin(CUSTOMER, fresh.code))
        assertEquals(RegistrationState.ACTIVE, w.bank.registrationState(again.serialNumber))
        w.app.confirmActivation("bank-a")
        val listed = w.app.credentials(w.phone).single()
        assertEquals(CredentialStatus.ACTIVE, listed.status)
        assertEquals(5u, listed.attemptsRemaining)
        assertEquals(1, w.store.keys(CREDENTIAL_PREFIX).size, "the locked credential was replaced")
    }

    // --- registration failures ----------------------------------------------------------

    @Test
    fun `a mistyped registration code is refused before any request is made`() {
        val code = w.bank.issueRegistrationCode("customer-1")
        checkRegistrationCode(code)
        // Change one digit: the Damm check digit catches every single-digit error.
        val chars = code.toCharArray()
        chars[0] = '0' + (chars[0].digitToInt() + 1) % 10
        val typo = String(chars)
        assertOtpFails<DigitalOtpException.InvalidRegistrationCode> { checkRegistrationCode(typo) }
        assertOtpFails<DigitalOtpException.InvalidRegistrationCode> { w.app.beginRegistration(typo, w.phone) }
        for (malformed in listOf("", "1234", "1234-5678-901", "abcd-efgh-ijkl", "1234-5678-90123")) {
            assertOtpFails<DigitalOtpException.InvalidRegistrationCode> { checkRegistrationCode(malformed) }
            assertOtpFails<DigitalOtpException.InvalidRegistrationCode> { w.app.beginRegistration(malformed, w.phone) }
        }
        // Nothing is in progress and nothing was written.
        assertOtpFails<DigitalOtpException.NoRegistrationInProgress> { w.app.completeRegistration("{}".toByteArray(), PASSWORD) }
        assertEquals(0, w.store.writeCalls.get())
    }

    @Test
    fun `weak passwords are refused and keep the registration in progress`() {
        for (weak in listOf("123456", "111111", "234567", "12345", "987654", "121212", "12345a", "1234567", "")) {
            assertOtpFails<DigitalOtpException.WeakPassword> { checkPasswordPolicy(weak) }
        }
        checkPasswordPolicy(PASSWORD)
        checkPasswordPolicy(OTHER_PASSWORD)

        val code = w.bank.issueRegistrationCode("customer-1")
        val response = w.bank.handleRegistration(w.app.beginRegistration(code, w.phone))
        for (weak in listOf("123456", "111111", "234567", "12345")) {
            val e = assertOtpFails<DigitalOtpException.WeakPassword> { w.app.completeRegistration(response, weak) }
            assertTrue(e.reason.isNotBlank())
        }
        assertEquals(0, w.store.writeCalls.get(), "a refused password writes nothing")
        // The app may ask again: the same response completes with a good password.
        assertEquals(CredentialStatus.PENDING, w.app.completeRegistration(response, PASSWORD).status)
    }

    @Test
    fun `an expired or already used registration code is rejected by the bank`() {
        val code = w.bank.issueRegistrationCode("customer-1")
        val request = w.app.beginRegistration(code, w.phone)
        w.clock.advance(601) // valid for 10 minutes
        val response = w.bank.handleRegistration(request)
        assertOtpFails<DigitalOtpException.RegistrationRejected> { w.app.completeRegistration(response, PASSWORD) }
        // The expired attempt consumed the code.
        val again = w.bank.handleRegistration(w.app.beginRegistration(code, w.phone))
        assertOtpFails<DigitalOtpException.RegistrationRejected> { w.app.completeRegistration(again, PASSWORD) }
        assertTrue(w.store.isEmpty(), "failed registrations write nothing")
        assertEquals(0, w.store.writeCalls.get())
        assertEquals(null, w.bank.serialOf("customer-1"))
    }

    @Test
    fun `a tampered bank response is refused, writes nothing and ends the attempt`() {
        val code = w.bank.issueRegistrationCode("customer-1")
        val response = w.bank.handleRegistration(w.app.beginRegistration(code, w.phone))
        val tampered = String(response, Charsets.UTF_8).replace("Bank A", "Bank B").toByteArray(Charsets.UTF_8)
        assertFalse(response.contentEquals(tampered), "the response names the bank")
        assertOtpFails<DigitalOtpException.InvalidResponse> { w.app.completeRegistration(tampered, PASSWORD) }
        assertTrue(w.store.isEmpty())
        assertEquals(0, w.store.writeCalls.get(), "not a single write")
        // The attempt is over: even the genuine response needs a new beginRegistration.
        assertOtpFails<DigitalOtpException.NoRegistrationInProgress> { w.app.completeRegistration(response, PASSWORD) }
        // Garbage is InvalidResponse too.
        for (garbage in listOf(ByteArray(0), "null".toByteArray(), ByteArray(10) { -1 })) {
            w.app.beginRegistration(w.bank.issueRegistrationCode("customer-1"), w.phone)
            assertOtpFails<DigitalOtpException.InvalidResponse> { w.app.completeRegistration(garbage, PASSWORD) }
        }
        assertTrue(w.store.isEmpty())
    }

    // --- device binding -------------------------------------------------------------------

    @Test
    fun `another phone number or device id is a DeviceMismatch`() {
        w.register()
        val others = listOf(DeviceInfo("010-1234-5679", DEVICE_ID), DeviceInfo(PHONE, "android-id-2"))
        for (other in others) {
            other.use {
                assertOtpFails<DigitalOtpException.DeviceMismatch> { w.app.generate("bank-a", PASSWORD, it) }
                assertOtpFails<DigitalOtpException.DeviceMismatch> {
                    w.app.generateForTransaction("bank-a", PASSWORD, it, transfer(1_000uL))
                }
                assertEquals(CredentialStatus.DEVICE_MISMATCH, w.app.credentials(it).single().status)
            }
        }
        // A mismatch is not a password failure.
        val mine = w.app.credentials(w.phone).single()
        assertEquals(CredentialStatus.PENDING, mine.status)
        assertEquals(5u, mine.attemptsRemaining)
        // Another way of writing the same number is the same device.
        DeviceInfo("+82 10 1234 5678", DEVICE_ID).use { same ->
            assertDoesNotThrow { w.app.generate("bank-a", PASSWORD, same) }
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
     * `completeRegistration`: StorageFailed, the store exactly as before, bank A usable,
     * and bank B registrable once the store is healthy again.
     */
    private fun secondBankRegistrationFailsCleanly(fault: (Boolean) -> Unit): DigitalOtpException.StorageFailed {
        val serialA = w.register().serialNumber
        val before = w.store.snapshot()
        return w.bankB().use { bankB ->
            val response = bankB.handleRegistration(w.app.beginRegistration(bankB.issueRegistrationCode("customer-1"), w.phone))
            fault(true)
            val e = try {
                assertOtpFails<DigitalOtpException.StorageFailed> { w.app.completeRegistration(response, PASSWORD) }
            } finally {
                fault(false)
            }
            assertEquals(before, w.store.snapshot(), "nothing half-written")
            assertEquals(listOf("bank-a"), w.app.credentials(w.phone).map { it.institutionId })
            val login = w.app.generate("bank-a", PASSWORD, w.phone)
            assertEquals(serialA, login.serialNumber)
            assertTrue(w.bank.verifyLogin(CUSTOMER, login.code), "bank A's credential is intact")
            // The failed attempt is over; a new one succeeds on a healthy store.
            assertOtpFails<DigitalOtpException.NoRegistrationInProgress> { w.app.completeRegistration(response, PASSWORD) }
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
        // A lost failure-count write means the password is not tried at all.
        w.store.dropWrites = true
        try {
            assertOtpFails<DigitalOtpException.StorageFailed> { w.app.generate("bank-a", WRONG_PASSWORD, w.phone) }
        } finally {
            w.store.dropWrites = false
        }
        assertEquals(5u, w.app.credentials(w.phone).first { it.institutionId == "bank-a" }.attemptsRemaining)
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
            // Each credential has its own password.
            assertOtpFails<DigitalOtpException.WrongPassword> { w.app.generate("bank-b", PASSWORD, w.phone) }
            val b = w.app.generate("bank-b", OTHER_PASSWORD, w.phone)
            assertEquals(serialB, b.serialNumber)
            assertTrue(bankB.verifyLogin(CUSTOMER, b.code))

            w.app.cancel("bank-a")
            assertOtpFails<DigitalOtpException.NotRegistered> { w.app.generate("bank-a", PASSWORD, w.phone) }
            assertOtpFails<DigitalOtpException.NotRegistered> { w.app.cancel("bank-a") }
            assertEquals(listOf("bank-b"), w.app.credentials(w.phone).map { it.institutionId })
            assertEquals(1, w.store.keys(CREDENTIAL_PREFIX).size)

            w.clock.advance(30)
            val b2 = w.app.generate("bank-b", OTHER_PASSWORD, w.phone)
            assertTrue(bankB.verifyLogin(CUSTOMER, b2.code), "bank B still works")
            // The wrong password given for bank B was followed by a success: the count is reset.
            assertEquals(5u, w.app.credentials(w.phone).single().attemptsRemaining)
        }
    }

    @Test
    fun `resetAll deletes every credential and empties the store`() {
        w.bankB().use { bankB ->
            w.register()
            w.register(bank = bankB)
            assertFalse(w.store.isEmpty())
            w.app.resetAll()
            assertTrue(w.store.isEmpty(), "left behind: ${w.store.keys()}")
            assertEquals(emptyList<CredentialInfo>(), w.app.credentials(w.phone))
            assertOtpFails<DigitalOtpException.NotRegistered> { w.app.generate("bank-a", PASSWORD, w.phone) }
            assertOtpFails<DigitalOtpException.NotRegistered> { w.app.generate("bank-b", PASSWORD, w.phone) }
            w.app.resetAll() // idempotent
        }
    }

    @Test
    fun `changePassword needs the old password and follows the policy`() {
        val serial = w.register().serialNumber
        assertOtpFails<DigitalOtpException.WeakPassword> { w.app.changePassword("bank-a", PASSWORD, "111111", w.phone) }
        val e = assertOtpFails<DigitalOtpException.WrongPassword> {
            w.app.changePassword("bank-a", WRONG_PASSWORD, OTHER_PASSWORD, w.phone)
        }
        assertEquals(4u, e.attemptsRemaining)
        w.app.changePassword("bank-a", PASSWORD, OTHER_PASSWORD, w.phone)
        assertEquals(5u, w.app.credentials(w.phone).single().attemptsRemaining, "a success resets the count")
        assertOtpFails<DigitalOtpException.WrongPassword> { w.app.generate("bank-a", PASSWORD, w.phone) }
        val login = w.app.generate("bank-a", OTHER_PASSWORD, w.phone)
        assertEquals(serial, login.serialNumber)
        assertTrue(w.bank.verifyLogin(CUSTOMER, login.code), "same seed, new password")
    }

    // --- concurrency and what is stored -------------------------------------------------------

    @Test
    fun `concurrent wrong passwords from two threads each count`() {
        w.register()
        val pool = Executors.newFixedThreadPool(2)
        try {
            val barrier = CyclicBarrier(2)
            val futures = (1..2).map {
                pool.submit(Callable {
                    barrier.await(10, TimeUnit.SECONDS)
                    runCatching { w.app.generate("bank-a", WRONG_PASSWORD, w.phone) }.exceptionOrNull()
                })
            }
            val errors = futures.map { it.get(30, TimeUnit.SECONDS) }
            val remaining = errors.map { (it as? DigitalOtpException.WrongPassword)?.attemptsRemaining ?: error("not WrongPassword: $it") }
            assertEquals(listOf(3u, 4u), remaining.sorted())
            assertEquals(3u, w.app.credentials(w.phone).single().attemptsRemaining)

            // And two threads with the right password both get the (same) code.
            val codes = (1..2).map {
                pool.submit(Callable {
                    barrier.await(10, TimeUnit.SECONDS)
                    w.app.generate("bank-a", PASSWORD, w.phone).code
                })
            }.map { it.get(30, TimeUnit.SECONDS) }
            assertEquals(1, codes.toSet().size)
            assertEquals(5u, w.app.credentials(w.phone).single().attemptsRemaining)
        } finally {
            pool.shutdownNow()
        }
    }

    @Test
    fun `the stored bytes never contain the phone number, the device id or the password`() {
        val code = w.bank.issueRegistrationCode("customer-1")
        val info = w.app.completeRegistration(w.bank.handleRegistration(w.app.beginRegistration(code, w.phone)), PASSWORD)
        w.app.generate("bank-a", PASSWORD, w.phone)
        w.app.generateForTransaction("bank-a", PASSWORD, w.phone, transfer(1_500_000uL))
        assertOtpFails<DigitalOtpException.WrongPassword> { w.app.generate("bank-a", WRONG_PASSWORD, w.phone) }
        w.app.changePassword("bank-a", PASSWORD, OTHER_PASSWORD, w.phone)

        // The documented layout: a device key, an index, one credential under a random name.
        val keys = w.store.keys()
        assertEquals(3, keys.size, "$keys")
        assertTrue("digital-otp.v1.device-key" in keys && "digital-otp.v1.index" in keys, "$keys")
        assertEquals(1, w.store.keys(CREDENTIAL_PREFIX).size, "$keys")

        val needles = listOf(
            PHONE, PHONE_E164, "01012345678", "821012345678", "1012345678", DEVICE_ID,
            PASSWORD, OTHER_PASSWORD, WRONG_PASSWORD,
            code, code.replace("-", ""),
            // The blobs are encrypted: not even the serial number or a field name shows.
            info.serialNumber, "sealed_seed", "홍길동",
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
