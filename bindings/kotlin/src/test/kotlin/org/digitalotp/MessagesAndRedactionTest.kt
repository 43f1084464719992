package org.digitalotp

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.DynamicTest.dynamicTest
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestFactory
import org.junit.jupiter.api.assertThrows

/**
 * Issue 15, items 13 and 14 in Kotlin: every exception's `message` is the Rust sentence
 * (UniFFI alone gives "" for a variant without fields and "reason=…" for the others), and
 * the records that carry a code or a transfer's details print only what is not secret
 * (a `data class` prints every property). Both come from the project's uniffi-bindgen
 * (src/bin/uniffi-bindgen/kotlin.rs).
 */
class MessagesAndRedactionTest {

    private val reason = "the input is too short"

    /**
     * Every variant of [error], built through Java reflection (no kotlin-reflect here):
     * without fields, or with one `reason`. The ones with other fields are tested by name below.
     */
    private fun variants(error: Class<out Exception>): List<Pair<String, Exception?>> =
        error.declaredClasses.filter { error.isAssignableFrom(it) }.map { variant ->
            val constructors = variant.constructors
            val name = "${error.simpleName}.${variant.simpleName}"
            val bare = constructors.firstOrNull { it.parameterCount == 0 }
            val withReason = constructors.firstOrNull { it.parameterTypes.contentEquals(arrayOf(String::class.java)) }
            name to (bare?.newInstance() ?: withReason?.newInstance(reason)) as Exception?
        }

    private val errors = listOf(
        OtpException::class.java,
        DigitalOtpException::class.java,
        HostException::class.java,
        IssuerException::class.java,
    )

    @TestFactory
    fun `every variant's message is a sentence`(): List<DynamicTest> {
        val (built, others) = errors.flatMap { variants(it) }.partition { it.second != null }
        assertTrue(built.size >= 45, "only ${built.size} variants found: ${built.map { it.first }}")
        // The two whose field is a number, tested by name below.
        assertEquals(
            setOf("DigitalOtpException.WrongPassword", "IssuerException.WrongVerificationCode"),
            others.map { it.first }.toSet(),
        )
        return built.map { (name, built) ->
            val e = built!!
            dynamicTest(name) {
                val message = e.message
                assertTrue(!message.isNullOrBlank(), "$name has an empty message")
                assertFalse(message!!.contains("="), "$name reads as a field listing: $message")
                assertEquals(message, e.toString(), name)
                assertEquals(message, e.localizedMessage, name)
                if (e.javaClass.constructors.none { it.parameterCount == 0 }) {
                    assertTrue(message.contains(reason), "$name leaves its reason out: $message")
                }
            }
        }
    }

    @Test
    fun `variants without fields read as their Rust sentence`() {
        assertEquals("the OTP is locked after 5 wrong passwords; register again", DigitalOtpException.Locked().message)
        assertEquals(
            "this OTP was registered on another phone number or device; register again on this one",
            DigitalOtpException.DeviceMismatch().message,
        )
        assertEquals("unknown institution", IssuerException.UnknownInstitution().message)
        assertEquals("no OTP device with this vendor code and serial number", IssuerException.UnknownDevice().message)
    }

    @Test
    fun `fields are part of the sentence and stay readable`() {
        val one = DigitalOtpException.WrongPassword(1u)
        assertEquals("wrong password; 1 attempt remains before the OTP is locked", one.message)
        assertEquals(1u, one.attemptsRemaining)
        assertEquals("wrong password; 4 attempts remain before the OTP is locked", DigitalOtpException.WrongPassword(4u).message)
        assertEquals("the verification code is wrong; 2 attempts remain", IssuerException.WrongVerificationCode(2u).message)
        assertEquals("disk full", HostException.Failed("disk full").message)
        assertEquals("unexpected error in a callback: boom", HostException.Unexpected("boom").message)
    }

    @Test
    fun `an error raised by the library reads as a sentence`() {
        val e = assertThrows<OtpException.InvalidSecret> { OtpSecret.fromHex("313233343536373839") }
        assertTrue(e.message!!.startsWith("invalid secret: "), e.message)
    }

    // --- redacted records ----------------------------------------------------------

    private val code = "739164"
    private val summary = "KRW 1,500,000 to 홍길동 (account 110-123-456789)"

    @Test
    fun `a login code prints its serial number and validity, never the code`() {
        val login = LoginCode(code, "OTP-0001", 1_700_000_000u, 1_700_000_030u, 12u)
        for (text in listOf(login.toString(), "$login", listOf(login).toString())) {
            assertFalse(text.contains(code), text)
        }
        assertEquals("LoginCode(serialNumber=OTP-0001, validUntil=1700000030, secondsRemaining=12, ..)", login.toString())
        assertEquals(code, login.code)
        assertEquals(login, login.copy())
    }

    @Test
    fun `a transaction code prints neither the code nor the summary`() {
        val tx = TransactionCode(code, summary, "OTP-0001", 1_700_000_000u, 1_700_000_030u, 12u)
        val text = tx.toString()
        for (secret in listOf(code, "홍길동", "110-123-456789", "1,500,000")) {
            assertFalse(text.contains(secret), "$secret in $text")
        }
        assertEquals("TransactionCode(serialNumber=OTP-0001, validUntil=1700000030, secondsRemaining=12, ..)", text)
    }

    @Test
    fun `a transaction prints its amount and currency, never the payee, account or memo`() {
        val transaction = Transaction(1_500_000u, "KRW", "110-123-456789", "홍길동", "rent for December")
        val text = transaction.toString()
        for (secret in listOf("110-123-456789", "홍길동", "rent")) {
            assertFalse(text.contains(secret), "$secret in $text")
        }
        assertEquals("Transaction(amountMinor=1500000, currency=KRW, ..)", text)
        assertEquals("홍길동", transaction.payeeName)
    }
}
