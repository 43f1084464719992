package org.digitalotp.demo.flow

import org.digitalotp.Clock
import org.digitalotp.CustomerKind
import org.digitalotp.DeviceKey
import org.digitalotp.DeviceKeys
import org.digitalotp.EvidenceKind
import org.digitalotp.HostException
import org.digitalotp.Issuer
import org.digitalotp.IssuerException
import org.digitalotp.KeyEvidence
import org.digitalotp.NewCustomer
import org.digitalotp.RegistrationState
import org.digitalotp.Residency
import org.digitalotp.SecureStore
import org.digitalotp.Transaction
import org.digitalotp.Verification
import org.digitalotp.checkRegistrationCode
import org.digitalotp.generateMasterKey
import org.digitalotp.mobileVendorCode
import java.security.KeyPair
import java.security.KeyPairGenerator
import java.security.Signature
import java.security.spec.ECGenParameterSpec
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.atomic.AtomicLong

const val T0 = 1_800_000_000L
const val PHONE = "010-1234-5678"
const val DEVICE_ID = "android-id-1"
const val PASSWORD = "482915"
const val OTHER_PASSWORD = "730264"
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

    /** A copy of the whole content (a backup, or an image of the phone's storage). */
    fun copy(): MemoryStore = MemoryStore().also { backup -> map.forEach { (k, v) -> backup.map[k] = v.copyOf() } }

    /** Puts back exactly the content of [backup]: what restoring an old image of the phone does. */
    fun restore(backup: MemoryStore) {
        map.clear()
        backup.map.forEach { (k, v) -> map[k] = v.copyOf() }
    }
}

/**
 * The phone's key store in the tests, shaped like the Android layer's `KeystoreDeviceKeys`:
 * a P-256 signing key per alias from the JDK's EC provider, the public key as the 65-byte
 * point taken from its SubjectPublicKeyInfo ([P256.pointFromSubjectPublicKeyInfo]), DER
 * `SHA256withECDSA` signatures. Its keys live in this object, apart from the app's store,
 * the way the Keystore's live in the phone's hardware: a copy of the store does not carry
 * them, and a restart of the app keeps them. [failSign] fails the way a refused biometric
 * prompt or a broken keystore does.
 */
class JcaDeviceKeys : DeviceKeys {
    private val keys = ConcurrentHashMap<String, KeyPair>()

    @Volatile var failSign = false

    /** The challenge of every key created, oldest first. */
    val challenges = CopyOnWriteArrayList<ByteArray>()

    override fun createKey(alias: String, challenge: ByteArray): DeviceKey {
        challenges += challenge.copyOf()
        val pair = KeyPairGenerator.getInstance("EC").apply { initialize(ECGenParameterSpec("secp256r1")) }.generateKeyPair()
        keys[alias] = pair
        return DeviceKey(P256.pointFromSubjectPublicKeyInfo(pair.public.encoded), KeyEvidence(EvidenceKind.NONE))
    }

    override fun sign(alias: String, message: ByteArray): ByteArray {
        if (failSign) throw HostException.Failed("user authentication refused")
        val pair = keys[alias] ?: throw HostException.Failed("no device key")
        return Signature.getInstance("SHA256withECDSA").run {
            initSign(pair.private)
            update(message)
            sign()
        }
    }

    override fun deleteKey(alias: String) {
        keys.remove(alias)
    }

    fun aliases(): List<String> = keys.keys.sorted()
}

/** The Damm quasigroup of the registration code's check digit. */
private val DAMM = arrayOf(
    intArrayOf(0, 3, 1, 7, 5, 9, 8, 6, 4, 2), intArrayOf(7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    intArrayOf(4, 2, 0, 6, 8, 7, 1, 3, 5, 9), intArrayOf(1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    intArrayOf(6, 1, 2, 3, 0, 4, 5, 9, 7, 8), intArrayOf(3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    intArrayOf(5, 8, 6, 9, 7, 2, 0, 1, 3, 4), intArrayOf(8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    intArrayOf(9, 4, 3, 8, 6, 1, 7, 2, 0, 5), intArrayOf(2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

/**
 * A registration code other than [code] whose check digit is right ([n] picks one of
 * several): the phone cannot tell it from the right one, only the bank's key confirmation.
 */
fun anotherValidCode(code: String, n: Int = 1): String {
    val digits = code.filter(Char::isDigit).map(Char::digitToInt).toMutableList()
    digits[5] = (digits[5] + n) % 10
    val body = digits.take(11)
    val all = (body + body.fold(0) { interim, d -> DAMM[interim][d] }).joinToString("")
    return "${all.substring(0, 4)}-${all.substring(4, 8)}-${all.substring(8)}".also {
        check(it != code)
        checkRegistrationCode(it)
    }
}

/**
 * The bank of the tests: a real [Issuer] in memory (fresh master key) with one
 * institution and one customer, implementing [BankApi] as the bank's server would (the
 * customer known from the session: [CUSTOMER]), plus the staff-side and web calls the
 * tests check with. [down] makes every [BankApi] call fail as a lost network would;
 * [dropConfirmations] loses the registration's confirmation on its way to the bank,
 * [loseOutcomes] the bank's outcome on its way back (the bank has registered the phone);
 * [tamperUnlocks] alters the bank's unlock answers on the way.
 */
class TestBank(clock: Clock, val institutionId: String = INSTITUTION, name: String = "Bank A") : BankApi, AutoCloseable {
    val issuer: Issuer = Issuer.inMemory(generateMasterKey(), clock)

    @Volatile var down = false
    @Volatile var dropConfirmations = false
    @Volatile var loseOutcomes = false
    @Volatile var tamperUnlocks = false

    /** The `type` of every registration message that reached the bank ("request", "confirmation"), in order. */
    val registrationMessages = mutableListOf<String>()
    val registerCalls: Int get() = registrationMessages.size

    /** Unlock requests that reached the bank. */
    var unlockCalls = 0
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

    override fun registrationMessage(message: ByteArray): ByteArray {
        if (down) throw BankUnavailableException("timeout")
        val type = Regex("\"type\"\\s*:\\s*\"(\\w+)\"").find(String(message, Charsets.UTF_8))?.groupValues?.get(1) ?: "?"
        if (type == "confirmation" && dropConfirmations) throw BankUnavailableException("connection reset")
        registrationMessages += type
        val answer = issuer.handleRegistration(APP_CHANNEL, message)
        if (type == "confirmation" && loseOutcomes) throw BankUnavailableException("timeout")
        return answer
    }

    override fun unlock(request: ByteArray): ByteArray {
        if (down) throw BankUnavailableException("timeout")
        unlockCalls++
        val answer = issuer.handleUnlock(APP_CHANNEL, request)
        if (!tamperUnlocks) return answer
        // A man in the middle's edit that keeps the answer well-formed: one hex digit of its MAC.
        val text = String(answer, Charsets.UTF_8)
        val digit = Regex("\"mac\"\\s*:\\s*\"([0-9a-f])").find(text)!!.groups[1]!!
        return text.replaceRange(digit.range, if (digit.value == "0") "1" else "0").toByteArray()
    }

    /** What the bank recorded about the last unlock request ("evaluation 3; 2 wrong app passwords left", or a refusal). */
    fun lastUnlockDetail(): String? = issuer.audit(org.digitalotp.AuditFilter(action = "unlock", limit = 1u)).firstOrNull()?.detail

    /** The bank's count as its audit says it: the evaluations it made (each one a password guess). */
    fun evaluations(): Int = issuer.audit(org.digitalotp.AuditFilter(action = "unlock")).count { it.outcome == "ok" }

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

    companion object {
        const val APP_CHANNEL = "mobile-app"
    }
}

/** A transfer of [amount] won to 홍길동. */
fun transfer(amount: ULong = 1_500_000uL, account: String = "110-123-456789") =
    Transaction(amountMinor = amount, currency = "KRW", payeeAccount = account, payeeName = "홍길동")

inline fun <reified T : Screen> Screen.expect(): T {
    if (this !is T) throw AssertionError("expected ${T::class.simpleName}, got $this")
    return this
}
