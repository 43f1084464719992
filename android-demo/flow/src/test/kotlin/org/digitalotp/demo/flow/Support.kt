package org.digitalotp.demo.flow

import org.digitalotp.Clock
import org.digitalotp.CustomerKind
import org.digitalotp.HostException
import org.digitalotp.Issuer
import org.digitalotp.IssuerException
import org.digitalotp.NewCustomer
import org.digitalotp.RegistrationState
import org.digitalotp.Residency
import org.digitalotp.SecureStore
import org.digitalotp.Transaction
import org.digitalotp.Verification
import org.digitalotp.generateMasterKey
import org.digitalotp.mobileVendorCode
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.atomic.AtomicLong

const val T0 = 1_800_000_000L
const val PHONE = "010-1234-5678"
const val DEVICE_ID = "android-id-1"
const val PASSWORD = "482915"
const val WRONG_PASSWORD = "000001"
const val CUSTOMER = "customer-1"
const val INSTITUTION = "bank-a"

/** A [Clock] in Kotlin that stays where it is set, shared by the app, the bank and the flow. */
class TestClock(start: Long = T0) : Clock {
    private val now = AtomicLong(start)
    override fun nowUnixSeconds(): ULong = now.get().toULong()
    val seconds: Long get() = now.get()
    fun advance(seconds: Long) {
        now.addAndGet(seconds)
    }
}

/** An in-memory [SecureStore] in Kotlin; [failWrites] makes every write fail as a broken keystore would. */
class MemoryStore : SecureStore {
    private val map = ConcurrentHashMap<String, ByteArray>()

    @Volatile var failWrites = false

    /** Every call to `write`, whatever its outcome. */
    @Volatile var writes = 0

    override fun read(key: String): ByteArray? = map[key]?.copyOf()

    override fun write(key: String, value: ByteArray) {
        writes++
        if (failWrites) throw HostException.Failed("keystore unavailable")
        map[key] = value.copyOf()
    }

    override fun delete(key: String) {
        map.remove(key)
    }

    fun keys(): List<String> = map.keys.sorted()
}

/**
 * The bank of the tests: a real [Issuer] in memory (fresh master key) with one
 * institution and one customer, implementing [BankApi] as the bank's server would (the
 * customer known from the session: [CUSTOMER]), plus the staff-side and web calls the
 * tests check with. [down] makes every [BankApi] call fail as a lost network would.
 */
class TestBank(clock: Clock, val institutionId: String = INSTITUTION, name: String = "Bank A") : BankApi, AutoCloseable {
    val issuer: Issuer = Issuer.inMemory(generateMasterKey(), clock)

    @Volatile var down = false
    var registerCalls = 0
        private set

    /** The codes that reached the bank through [BankApi] (login and transfer), in order. */
    val submittedCodes = mutableListOf<String>()

    init {
        issuer.addInstitution("admin", institutionId, name)
        issuer.registerCustomer(
            "staff",
            NewCustomer(institutionId, CUSTOMER, "홍길동", CustomerKind.INDIVIDUAL, Residency.DOMESTIC, PHONE),
        )
    }

    /** A new app registration code for the customer, as the bank's web or branch hands it out. */
    fun issueRegistrationCode(): String = issuer.issueNonFaceToFace("staff", institutionId, CUSTOMER, "kyc-test")

    override fun register(request: ByteArray): ByteArray {
        registerCalls++
        if (down) throw BankUnavailableException("timeout")
        return issuer.handleRegistration("mobile-app", request)
    }

    override fun verifyLogin(institutionId: String, serialNumber: String, code: String): Boolean {
        if (down) throw BankUnavailableException("timeout")
        submittedCodes += code
        return isTheCustomers(institutionId, serialNumber) && webLogin(code)
    }

    override fun verifyTransfer(institutionId: String, serialNumber: String, code: String, transaction: Transaction): Boolean {
        if (down) throw BankUnavailableException("timeout")
        submittedCodes += code
        return isTheCustomers(institutionId, serialNumber) && webTransfer(code, transaction)
    }

    /** [code] typed into the bank's web login: accepted or not (each code once). */
    fun webLogin(code: String): Boolean =
        issuer.verifyLogin("web", institutionId, CUSTOMER, code) == Verification.ACCEPTED

    /** [code] typed to confirm [transaction] on the bank's web site: accepted or not. */
    fun webTransfer(code: String, transaction: Transaction): Boolean =
        issuer.verifyTransaction("web", institutionId, CUSTOMER, code, transaction) == Verification.ACCEPTED

    /** Whether [serial] at [institution] is the session customer's current (pending or active) OTP. */
    private fun isTheCustomers(institution: String, serial: String): Boolean =
        institution == institutionId && registrationState(serial) in setOf(RegistrationState.PENDING, RegistrationState.ACTIVE)

    /** The state of the latest registration of the mobile OTP [serial] at this bank. */
    fun registrationState(serial: String): RegistrationState? = try {
        issuer.deviceInquiry("staff", institutionId, mobileVendorCode(), serial).registrations.last().state
    } catch (_: IssuerException.UnknownDevice) {
        null
    }

    override fun close() = issuer.close()
}

/** A transfer of [amount] won to 홍길동. */
fun transfer(amount: ULong = 1_500_000uL, account: String = "110-123-456789") =
    Transaction(amountMinor = amount, currency = "KRW", payeeAccount = account, payeeName = "홍길동")

inline fun <reified T : Screen> Screen.expect(): T {
    if (this !is T) throw AssertionError("expected ${T::class.simpleName}, got $this")
    return this
}
