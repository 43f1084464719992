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
