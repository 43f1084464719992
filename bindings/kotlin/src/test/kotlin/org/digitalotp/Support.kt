package org.digitalotp

import org.json.JSONObject
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.fail
import java.io.File

/** The RFC 4226 / RFC 6238 SHA-1 seed, "12345678901234567890". */
const val RFC_SEED_HEX = "3132333435363738393031323334353637383930"

/** The same seed in base32. */
const val RFC_SEED_BASE32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

/** Shared helpers: the vector files, hex decoding, typed-exception assertions. */
object Support {
    /** `tests/vectors` of the repository, as the pom passes it (or relative to the module). */
    val vectorsDir: File by lazy {
        val dir = File(System.getProperty("digitalotp.vectors.dir") ?: "../../tests/vectors")
        require(dir.isDirectory) { "vector directory not found: ${dir.absolutePath}" }
        dir
    }

    /** The `vectors` array of `tests/vectors/<name>.json`, checked to hold exactly [expected] entries. */
    fun vectors(name: String, expected: Int): List<JSONObject> {
        val file = File(vectorsDir, "$name.json")
        require(file.isFile) { "vector file not found: ${file.absolutePath}" }
        val array = JSONObject(file.readText(Charsets.UTF_8)).getJSONArray("vectors")
        val list = (0 until array.length()).map { array.getJSONObject(it) }
        assertEquals(expected, list.size, "number of vectors in ${file.name}")
        return list
    }

    fun hexToBytes(hex: String): ByteArray {
        require(hex.length % 2 == 0) { "odd hex length" }
        return ByteArray(hex.length / 2) { hex.substring(2 * it, 2 * it + 2).toInt(16).toByte() }
    }

    fun algorithm(name: String): HashAlgorithm = hashAlgorithmFromName(name)
}

/**
 * Asserts that [block] throws exactly the [OtpException] subclass [T], that its message
 * and reason are non-empty, and that neither mentions any of [mustNotContain]
 * (secrets, codes, PINs given to the call).
 */
inline fun <reified T : OtpException> assertOtpError(
    vararg mustNotContain: String,
    noinline block: () -> Unit,
): T {
    val e = assertThrows<T>(block)
    val texts = listOfNotNull(e.message, e.toString(), reasonOf(e))
    assertTrue(e.message?.isNotBlank() == true, "exception ${e::class.simpleName} has no message")
    for (secret in mustNotContain) {
        for (text in texts) {
            assertFalse(
                text.contains(secret, ignoreCase = true),
                "${e::class.simpleName} message reveals sensitive text: $text",
            )
        }
    }
    return e
}

/** The `reason` field of every variant that has one. */
fun reasonOf(e: OtpException): String? = when (e) {
    is OtpException.InvalidSecret -> e.reason
    is OtpException.InvalidParameter -> e.reason
    is OtpException.MalformedCode -> e.reason
    is OtpException.InvalidOcraSuite -> e.reason
    is OtpException.InvalidOcraInput -> e.reason
    is OtpException.InvalidUri -> e.reason
    is OtpException.RandomSourceFailed -> null
}

fun assertReasonMentions(e: OtpException, vararg parts: String) {
    val reason = reasonOf(e) ?: fail("${e::class.simpleName} has no reason")
    for (part in parts) {
        assertTrue(reason.contains(part), "reason \"$reason\" should mention \"$part\"")
    }
}

// --- the app's round trips with a bank ---------------------------------------------------

/**
 * The whole registration with [issuer] on [channel]: `beginRegistration` (the code, the
 * phone, the new app password) → request → response → `confirmRegistration` →
 * confirmation → outcome → `completeRegistration`.
 */
fun DigitalOtp.registerAt(
    issuer: Issuer,
    institutionId: String,
    code: String,
    device: DeviceInfo,
    password: String,
    channel: String = TestBank.APP_CHANNEL,
): CredentialInfo {
    val request = beginRegistration(institutionId, code, device, password)
    val confirmation = confirmRegistration(issuer.handleRegistration(channel, request))
    return completeRegistration(institutionId, issuer.handleRegistration(channel, confirmation))
}

/** A login code: the unlock request, the bank's answer, the code. */
fun DigitalOtp.loginCodeAt(
    issuer: Issuer,
    institutionId: String,
    password: String,
    device: DeviceInfo,
    channel: String = TestBank.APP_CHANNEL,
): LoginCode = completeLoginCode(issuer.handleUnlock(channel, beginLoginCode(institutionId, password, device)))

/** A transaction code for [transaction]: the unlock request, the bank's answer, the code. */
fun DigitalOtp.transactionCodeAt(
    issuer: Issuer,
    institutionId: String,
    password: String,
    device: DeviceInfo,
    transaction: Transaction,
    channel: String = TestBank.APP_CHANNEL,
): TransactionCode = completeTransactionCode(
    issuer.handleUnlock(channel, beginTransactionCode(institutionId, password, device, transaction)),
)

/** A change of the app password: the unlock request (two guesses), the bank's answer. */
fun DigitalOtp.changePasswordAt(
    issuer: Issuer,
    institutionId: String,
    oldPassword: String,
    newPassword: String,
    device: DeviceInfo,
    channel: String = TestBank.APP_CHANNEL,
) = completeChangePassword(issuer.handleUnlock(channel, beginChangePassword(institutionId, oldPassword, newPassword, device)))

// --- registration codes and messages -----------------------------------------------------

private val DAMM = arrayOf(
    intArrayOf(0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    intArrayOf(7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    intArrayOf(4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    intArrayOf(1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    intArrayOf(6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    intArrayOf(3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    intArrayOf(5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    intArrayOf(8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    intArrayOf(9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    intArrayOf(2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

/**
 * Another registration code than [code] that passes the phone's check (its Damm check
 * digit is recomputed): the first digit changed. The phone sends it; only the bank's key
 * confirmation can tell it is wrong.
 */
fun anotherValidCode(code: String): String {
    val digits = code.filter(Char::isDigit).map(Char::digitToInt).toMutableList()
    require(digits.size == 12) { "not a registration code" }
    digits[0] = (digits[0] + 1) % 10
    val body = digits.take(11)
    val check = body.fold(0) { interim, d -> DAMM[interim][d] }
    val all = (body + check).joinToString("")
    return "${all.substring(0, 4)}-${all.substring(4, 8)}-${all.substring(8, 12)}"
}

/**
 * [message] (a JSON message of the SDK) with the first hex digit of its string field
 * [field] changed: a man in the middle's edit that keeps the message well-formed.
 */
fun alterHexField(message: ByteArray, field: String): ByteArray {
    val text = String(message, Charsets.UTF_8)
    val match = Regex("\"" + Regex.escape(field) + "\"\\s*:\\s*\"([0-9a-f])").find(text)
        ?: error("no hex field $field in the message")
    val digit = match.groups[1]!!
    val other = if (digit.value == "0") "1" else "0"
    val altered = text.replaceRange(digit.range, other)
    check(altered != text)
    return altered.toByteArray(Charsets.UTF_8)
}

/** The number field [field] of the JSON [message]. */
fun numberField(message: ByteArray, field: String): Long =
    JSONObject(String(message, Charsets.UTF_8)).getLong(field)
