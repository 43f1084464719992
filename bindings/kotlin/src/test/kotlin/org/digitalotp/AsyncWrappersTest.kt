package org.digitalotp

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.Executors

private const val T0 = 1_800_000_000L
private const val PHONE = "010-1234-5678"
private const val DEVICE_ID = "android-id-1"
private const val PASSWORD = "482915"
private const val NEW_PASSWORD = "730264"
private const val WRONG_PASSWORD = "000001"
private const val CUSTOMER = "customer-1"

/**
 * A [SecureStore] that remembers the thread of every call the SDK makes into it: the
 * thread a DigitalOtp call ran on (Rust calls the store on the thread that called it).
 */
private class ThreadRecordingStore(private val inner: TestStore = TestStore()) : SecureStore {
    private val threads = ConcurrentLinkedQueue<Thread>()

    override fun read(key: String): ByteArray? = inner.read(key).also { threads.add(Thread.currentThread()) }

    override fun write(key: String, value: ByteArray) {
        threads.add(Thread.currentThread())
        inner.write(key, value)
    }

    override fun delete(key: String) {
        threads.add(Thread.currentThread())
        inner.delete(key)
    }

    /** The threads of the calls since the last [drain], and forgets them. */
    fun drain(): List<Thread> = generateSequence { threads.poll() }.toList()
}

/** [block]'s DigitalOtpException of type [T] (a suspending assertThrows). */
private suspend inline fun <reified T : DigitalOtpException> assertSuspendThrows(block: suspend () -> Unit): T {
    try {
        block()
    } catch (e: DigitalOtpException) {
        if (e is T) return e
        throw AssertionError("expected ${T::class.simpleName}, got ${e::class.simpleName}", e)
    }
    throw AssertionError("expected ${T::class.simpleName}, nothing was thrown")
}

/**
 * The suspending wrappers of bindings/kotlin/src/coroutines (shipped in the AAR): each runs
 * the blocking DigitalOtp call on the dispatcher it is given, never on the calling thread,
 * and returns what the blocking call returns or throws what it throws.
 */
class AsyncWrappersTest {
    private val clock = TestClock(T0)
    private val store = ThreadRecordingStore()
    private val app = DigitalOtp.withClock(store, softwareDeviceKeys(store), clock)
    private val bank = TestBank("bank-a", "Bank A", clock)
    private val phone = DeviceInfo(PHONE, DEVICE_ID)

    @AfterEach
    fun close() {
        app.close()
        bank.close()
        phone.close()
    }

    /** The store calls since the last check all ran on threads that [isWorker] accepts, and never on [caller]. */
    private fun assertRanOn(call: String, caller: Thread, isWorker: (Thread) -> Boolean) {
        val threads = store.drain()
        assertTrue(threads.isNotEmpty(), "$call made no store call to observe")
        assertFalse(caller in threads, "$call ran on the calling thread ${caller.name}")
        val others = threads.filterNot(isWorker).map { it.name }.distinct()
        assertTrue(others.isEmpty(), "$call ran on unexpected threads $others")
    }

    @Test
    fun `the blocking calls run on the caller's thread`() {
        store.drain()
        app.credentials(phone)
        assertEquals(listOf(Thread.currentThread()), store.drain().distinct())
        assertThrows<DigitalOtpException.NotRegistered> { app.beginLoginCode("bank-z", PASSWORD, phone) }
        assertEquals(listOf(Thread.currentThread()), store.drain().distinct())
    }

    @Test
    fun `every wrapper runs on Dispatchers IO and returns or throws what the blocking call does`() = runBlocking {
        val caller = Thread.currentThread()
        val io: CoroutineDispatcher = Dispatchers.IO
        // Dispatchers.IO shares the threads of Dispatchers.Default ("DefaultDispatcher-worker-N").
        val check = { call: String -> assertRanOn(call, caller) { it.name.startsWith("DefaultDispatcher-worker-") } }
        store.drain()

        // Registration: three steps, then the same list as the blocking credentials().
        val request = app.beginRegistration(io, "bank-a", bank.issueRegistrationCode(CUSTOMER), phone, PASSWORD)
        check("beginRegistration")
        val confirmation = app.confirmRegistration(io, bank.handleRegistration(request))
        check("confirmRegistration")
        val info = app.completeRegistration(io, "bank-a", bank.handleRegistration(confirmation))
        check("completeRegistration")
        assertEquals(CredentialStatus.PENDING, info.status)
        assertEquals(info.serialNumber, bank.serialOf(CUSTOMER))
        val listed = app.credentials(io, phone)
        check("credentials")
        assertEquals(listOf(info), listed)
        assertEquals(app.credentials(phone), listed)
        store.drain()

        // A login code: the same code as the blocking call makes in the same time step, and
        // the bank accepts it.
        val login = app.completeLoginCode(io, bank.handleUnlock(app.beginLoginCode(io, "bank-a", PASSWORD, phone)))
        check("beginLoginCode + completeLoginCode")
        val blockingLogin = app.loginCodeAt(bank.issuer, "bank-a", PASSWORD, phone)
        store.drain()
        assertEquals(blockingLogin.code, login.code)
        assertEquals(info.serialNumber, login.serialNumber)
        assertEquals(blockingLogin.validUntil, login.validUntil)
        assertTrue(bank.verifyLogin(CUSTOMER, login.code))
        app.confirmActivation(io, "bank-a")
        check("confirmActivation")
        assertEquals(CredentialStatus.ACTIVE, app.credentials(phone).single().status)
        store.drain()

        // A transaction code, bound to its transaction.
        val transfer = Transaction(amountMinor = 1_500_000uL, currency = "KRW", payeeAccount = "110-123-456789", payeeName = "홍길동")
        val unlock = app.beginTransactionCode(io, "bank-a", PASSWORD, phone, transfer)
        check("beginTransactionCode")
        val txCode = app.completeTransactionCode(io, bank.handleUnlock(unlock))
        check("completeTransactionCode")
        assertEquals(transactionSummary(transfer), txCode.summary)
        assertTrue(bank.verifyTransaction(CUSTOMER, txCode.code, transfer))

        // The errors are the blocking calls' errors: a wrong password counts at the bank
        // either way, and an unknown bank is NotRegistered.
        val wrong = assertSuspendThrows<DigitalOtpException.WrongPassword> {
            app.completeLoginCode(io, bank.handleUnlock(app.beginLoginCode(io, "bank-a", WRONG_PASSWORD, phone)))
        }
        check("a wrong password")
        assertEquals(4u, wrong.attemptsRemaining)
        val wrongAgain = assertThrows<DigitalOtpException.WrongPassword> { app.loginCodeAt(bank.issuer, "bank-a", WRONG_PASSWORD, phone) }
        assertEquals(3u, wrongAgain.attemptsRemaining)
        store.drain()
        val unknown = assertSuspendThrows<DigitalOtpException.NotRegistered> { app.beginLoginCode(io, "bank-z", PASSWORD, phone) }
        check("an unknown bank")
        val unknownBlocking = assertThrows<DigitalOtpException.NotRegistered> { app.beginLoginCode("bank-z", PASSWORD, phone) }
        assertEquals(unknownBlocking.message, unknown.message)
        store.drain()

        // A change of password: afterwards only the new one opens the seed.
        val change = app.beginChangePassword(io, "bank-a", PASSWORD, NEW_PASSWORD, phone)
        check("beginChangePassword")
        app.completeChangePassword(io, bank.handleUnlock(change))
        check("completeChangePassword")
        clock.advance(30)
        assertTrue(bank.verifyLogin(CUSTOMER, app.loginCodeAt(bank.issuer, "bank-a", NEW_PASSWORD, phone).code))
        store.drain()

        // Removing the credential, then every credential.
        app.cancel(io, "bank-a")
        check("cancel")
        assertEquals(emptyList<CredentialInfo>(), app.credentials(phone))
        clock.advance(60)
        app.registerAt(bank.issuer, "bank-a", bank.issueRegistrationCode(CUSTOMER), phone, PASSWORD)
        assertEquals(1, app.credentials(phone).size)
        store.drain()
        app.resetAll(io)
        check("resetAll")
        assertEquals(emptyList<CredentialInfo>(), app.credentials(phone))
    }

    @Test
    fun `a dispatcher the app supplies runs the calls`() {
        // The worker by identity: kotlinx-coroutines' debug mode (on under -ea) appends
        // " @coroutine#N" to the names of the threads running coroutines.
        val workers = ConcurrentLinkedQueue<Thread>()
        val executor = Executors.newSingleThreadExecutor { Thread(it, "dotp-test-worker").also(workers::add) }
        executor.asCoroutineDispatcher().use { worker ->
            runBlocking {
                val caller = Thread.currentThread()
                val check = { call: String -> assertRanOn(call, caller) { it in workers } }
                store.drain()
                val request = app.beginRegistration(worker, "bank-a", bank.issueRegistrationCode(CUSTOMER), phone, PASSWORD)
                check("beginRegistration")
                val confirmation = app.confirmRegistration(worker, bank.handleRegistration(request))
                check("confirmRegistration")
                val info = app.completeRegistration(worker, "bank-a", bank.handleRegistration(confirmation))
                check("completeRegistration")
                val login = app.completeLoginCode(worker, bank.handleUnlock(app.beginLoginCode(worker, "bank-a", PASSWORD, phone)))
                check("a login code")
                assertEquals(info.serialNumber, login.serialNumber)
                assertTrue(bank.verifyLogin(CUSTOMER, login.code))
                assertEquals(CredentialStatus.PENDING, app.credentials(worker, phone).single().status)
                check("credentials")
                app.confirmActivation(worker, "bank-a")
                check("confirmActivation")
                assertEquals(CredentialStatus.ACTIVE, app.credentials(phone).single().status)
            }
        }
        assertTrue(executor.isShutdown)
    }
}
