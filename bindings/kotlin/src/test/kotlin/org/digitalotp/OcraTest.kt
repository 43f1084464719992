package org.digitalotp

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.DynamicTest.dynamicTest
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestFactory
import java.security.MessageDigest

/** OCRA (RFC 6287): suite parsing, PIN handling, verification windows, input errors. */
class OcraTest {

    /** RFC 6287's 32- and 64-byte keys: "1234567890" repeated, as hex. */
    private val key32Hex = asciiHex("1234567890".repeat(4).take(32))
    private val key64Hex = asciiHex("1234567890".repeat(7).take(64))

    private fun asciiHex(s: String) = s.toByteArray().joinToString("") { "%02x".format(it) }

    @Test
    fun `parseOcraSuite reports every field`() {
        val info = parseOcraSuite("OCRA-1:HOTP-SHA512-8:C-QN08-PSHA256-S128-T30S")
        assertEquals(
            OcraSuiteInfo(
                suite = "OCRA-1:HOTP-SHA512-8:C-QN08-PSHA256-S128-T30S",
                algorithm = HashAlgorithm.SHA512,
                digits = 8u,
                usesCounter = true,
                questionFormat = OcraQuestionFormat.NUMERIC,
                questionLength = 8u,
                pinHash = HashAlgorithm.SHA256,
                sessionLength = 128.toUShort(),
                timeStepSeconds = 30uL,
            ),
            info,
        )
    }

    @Test
    fun `parseOcraSuite of a minimal suite leaves the optional parts null`() {
        val info = parseOcraSuite("OCRA-1:HOTP-SHA1-6:QA64")
        assertEquals(HashAlgorithm.SHA1, info.algorithm)
        assertEquals(6.toUByte(), info.digits)
        assertEquals(false, info.usesCounter)
        assertEquals(OcraQuestionFormat.ALPHANUMERIC, info.questionFormat)
        assertEquals(64.toUByte(), info.questionLength)
        assertNull(info.pinHash)
        assertNull(info.sessionLength)
        assertNull(info.timeStepSeconds)

        val hex = parseOcraSuite("OCRA-1:HOTP-SHA256-10:QH40-T2H")
        assertEquals(OcraQuestionFormat.HEX, hex.questionFormat)
        assertEquals(10.toUByte(), hex.digits)
        assertEquals(7_200uL, hex.timeStepSeconds)
    }

    @Test
    fun `Ocra suite() matches parseOcraSuite and timeStepsAt uses the suite step`() {
        OtpSecret.fromHex(key64Hex).use { key ->
            Ocra("OCRA-1:HOTP-SHA512-8:QN08-T1M", key).use { ocra ->
                assertEquals(parseOcraSuite("OCRA-1:HOTP-SHA512-8:QN08-T1M"), ocra.suite())
                // RFC 6287 Appendix C: "Mar 25 2008, 12:06:30 GMT" is T = 132d0b6 minutes.
                assertEquals(0x132d0b6uL, ocra.timeStepsAt(1_206_446_790uL))
            }
            Ocra("OCRA-1:HOTP-SHA512-8:C-QN08", key).use { ocra ->
                assertNull(ocra.timeStepsAt(1_206_446_790uL))
            }
        }
    }

    @Test
    fun `PIN and PIN hash give the same response`() {
        val suite = "OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1"
        val pinHash = MessageDigest.getInstance("SHA-1").digest("1234".toByteArray())
        OtpSecret.fromHex(key32Hex).use { key ->
            Ocra(suite, key).use { ocra ->
                OcraPin.plain("1234").use { pin ->
                    OcraPin.hashed(pinHash).use { hashed ->
                        for (counter in 0uL..9uL) {
                            val input = OcraInput(question = "12345678", counter = counter)
                            val withPin = ocra.generate(input, pin)
                            val withHash = ocra.generate(input, hashed)
                            assertEquals(withPin, withHash, "counter $counter")
                            // Either form verifies the other's response.
                            assertEquals(counter, ocra.verify(withPin, input, 0u, 0u, hashed))
                            assertEquals(counter, ocra.verify(withHash, input, 0u, 0u, pin))
                        }
                        // RFC 6287 Appendix C, counter 0.
                        val first = OcraInput(question = "12345678", counter = 0uL)
                        assertEquals("65347737", ocra.generate(first, hashed))
                        assertEquals(0uL, ocra.verify("65347737", first, 0u, 0u, hashed))
                        assertEquals(0uL, ocra.verify("65347737", first, 0u, 0u, pin = pin))
                    }
                }
                // Another PIN gives another response, and does not verify the right one.
                OcraPin.plain("1235").use { other ->
                    val first = OcraInput(question = "12345678", counter = 0uL)
                    assertNotEquals("65347737", ocra.generate(first, other))
                    assertNull(ocra.verify("65347737", first, 0u, 0u, other))
                }
            }
        }
    }

    @Test
    fun `OcraPin prints redacted and OcraInput has no PIN to print`() {
        val pinHash = MessageDigest.getInstance("SHA-1").digest("987654".toByteArray())
        val pinHashHex = pinHash.joinToString("") { "%02x".format(it) }
        OcraPin.plain("987654").use { pin ->
            assertEquals("<redacted PIN>", pin.toString())
            assertEquals("<redacted PIN>", "$pin")
            assertFalse(pin.toString().contains("987654"))
        }
        OcraPin.hashed(pinHash).use { hashed ->
            assertEquals("<redacted PIN>", hashed.toString())
            assertFalse(hashed.toString().contains(pinHashHex, ignoreCase = true))
        }
        // The record itself has no PIN field, so its data-class toString cannot show one.
        val input = OcraInput(question = "12345678", counter = 3uL, timeSteps = 5uL)
        val text = input.toString()
        assertTrue(text.contains("12345678"), text)
        assertFalse(text.contains("pin", ignoreCase = true), text)
        assertFalse(text.contains("987654"), text)
        val fields = OcraInput::class.java.declaredFields.map { it.name }.filter { !it.startsWith("$") }
        assertTrue(fields.none { it.contains("pin", ignoreCase = true) }, "OcraInput fields: $fields")
    }

    @Test
    fun `verify moves the timestamp within the window`() {
        OtpSecret.fromHex(key64Hex).use { key ->
            Ocra("OCRA-1:HOTP-SHA512-8:QN08-T1M", key).use { ocra ->
                val t = 0x132d0b6uL
                // RFC 6287 Appendix C: question 00000000 at T = 132d0b6 gives 95209754.
                assertEquals("95209754", ocra.generate(OcraInput(question = "00000000", timeSteps = t)))
                val at = { steps: ULong -> OcraInput(question = "00000000", timeSteps = steps) }
                assertEquals(t, ocra.verify("95209754", at(t), 0u, 0u))
                // The server's clock is one step ahead or behind the client's.
                assertEquals(t, ocra.verify("95209754", at(t + 1u), 1u, 1u))
                assertEquals(t, ocra.verify("95209754", at(t - 1u), 1u, 1u))
                assertNull(ocra.verify("95209754", at(t + 2u), 1u, 1u))
                assertNull(ocra.verify("95209754", at(t - 2u), 1u, 1u))
                assertNull(ocra.verify("95209754", at(t + 1u), 0u, 0u))
                assertEquals(t, ocra.verify("95209754", at(t + 5u), 5u, 0u))
                assertNull(ocra.verify("95209754", at(t + 5u), 0u, 5u))
                // Another question does not match.
                assertNull(ocra.verify("95209754", OcraInput(question = "11111111", timeSteps = t), 3u, 3u))
            }
        }
    }

    @Test
    fun `verify moves the counter within the window when there is no timestamp`() {
        OtpSecret.fromHex(key64Hex).use { key ->
            Ocra("OCRA-1:HOTP-SHA512-8:C-QN08", key).use { ocra ->
                val r = ocra.generate(OcraInput(question = "00000000", counter = 7uL))
                assertEquals(7uL, ocra.verify(r, OcraInput(question = "00000000", counter = 6uL), 0u, 1u))
                assertNull(ocra.verify(r, OcraInput(question = "00000000", counter = 6uL), 1u, 0u))
            }
        }
    }

    @Test
    fun `session data enters the response`() {
        OtpSecret.fromHex(key32Hex).use { key ->
            Ocra("OCRA-1:HOTP-SHA256-6:QA08-S004", key).use { ocra ->
                val a = ocra.generate(OcraInput(question = "CHAL1234", session = byteArrayOf(1, 2, 3, 4)))
                val b = ocra.generate(OcraInput(question = "CHAL1234", session = byteArrayOf(1, 2, 3, 5)))
                assertEquals(6, a.length)
                assertNotEquals(a, b)
                assertEquals(0uL, ocra.verify(a, OcraInput(question = "CHAL1234", session = byteArrayOf(1, 2, 3, 4)), 0u, 0u))
            }
        }
    }

    /** Invalid suites, each with a part of the text the reason must name. */
    @TestFactory
    fun `invalid suites are InvalidOcraSuite naming the part`(): List<DynamicTest> = listOf(
        "OCRA-2:HOTP-SHA1-6:QN08" to "OCRA-2",
        "ocra-1:HOTP-SHA1-6:QN08" to "ocra-1",
        "OCRA-1:HOTP-MD5-6:QN08" to "HOTP-MD5-6",
        "OCRA-1:TOTP-SHA1-6:QN08" to "TOTP-SHA1-6",
        "OCRA-1:HOTP-SHA1-3:QN08" to "'3'",
        "OCRA-1:HOTP-SHA1-11:QN08" to "'11'",
        "OCRA-1:HOTP-SHA1-0:QN08" to "'0'",
        "OCRA-1:HOTP-SHA1-6:QX08" to "QX08",
        "OCRA-1:HOTP-SHA1-6:QN03" to "QN03",
        "OCRA-1:HOTP-SHA1-6:QN65" to "QN65",
        "OCRA-1:HOTP-SHA1-6:C" to "question",
        "OCRA-1:HOTP-SHA1-6:C-PSHA1" to "question",
        "OCRA-1:HOTP-SHA1-6:QN08-PMD5" to "PMD5",
        "OCRA-1:HOTP-SHA1-6:QN08-S000" to "S000",
        "OCRA-1:HOTP-SHA1-6:QN08-S513" to "S513",
        "OCRA-1:HOTP-SHA1-6:QN08-T60M" to "T60M",
        "OCRA-1:HOTP-SHA1-6:QN08-T49H" to "T49H",
        "OCRA-1:HOTP-SHA1-6:QN08-T1D" to "T1D",
        "OCRA-1:HOTP-SHA1-6:QN08-T1M-PSHA1" to "PSHA1",
        "OCRA-1:HOTP-SHA1-6:QN08-PSHA1-PSHA1" to "PSHA1",
        "OCRA-1:HOTP-SHA1-6:QN08-X" to "'X'",
        "OCRA-1:HOTP-SHA1-6" to "three parts",
        "OCRA-1:HOTP-SHA1-6:QN08:C" to "three parts",
        "" to "three parts",
    ).map { (suite, part) ->
        dynamicTest("suite \"$suite\"") {
            val e = assertOtpError<OtpException.InvalidOcraSuite> { parseOcraSuite(suite) }
            assertReasonMentions(e, part)
            OtpSecret.fromHex(RFC_SEED_HEX).use { key ->
                assertOtpError<OtpException.InvalidOcraSuite>(RFC_SEED_HEX) { Ocra(suite, key) }
            }
        }
    }

    /** One input that does not match its suite; [pin] is made fresh for each call. */
    private class BadInput(val name: String, val suite: String, val input: OcraInput, val pin: (() -> OcraPin)? = null)

    /** Inputs that do not match the suite: missing or extra parts, bad questions. */
    @TestFactory
    fun `inputs that do not match the suite are InvalidOcraInput`(): List<DynamicTest> {
        val sha1Pin = MessageDigest.getInstance("SHA-1").digest("1234".toByteArray())
        val q = OcraInput(question = "12345678")
        return listOf(
            BadInput("counter missing", "OCRA-1:HOTP-SHA1-6:C-QN08", q),
            BadInput("counter not allowed", "OCRA-1:HOTP-SHA1-6:QN08", OcraInput(question = "12345678", counter = 1uL)),
            BadInput("PIN missing", "OCRA-1:HOTP-SHA256-8:QN08-PSHA1", q),
            BadInput("PIN missing (with a counter)", "OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1", OcraInput(question = "12345678", counter = 1uL)),
            BadInput("PIN not allowed", "OCRA-1:HOTP-SHA1-6:QN08", q) { OcraPin.plain("987654") },
            BadInput("PIN hash not allowed", "OCRA-1:HOTP-SHA1-6:QN08", q) { OcraPin.hashed(sha1Pin) },
            BadInput("PIN hash of the wrong length", "OCRA-1:HOTP-SHA256-8:QN08-PSHA256", q) { OcraPin.hashed(sha1Pin) },
            BadInput("PIN hash too short", "OCRA-1:HOTP-SHA256-8:QN08-PSHA1", q) { OcraPin.hashed(sha1Pin.copyOf(5)) },
            BadInput("empty PIN hash", "OCRA-1:HOTP-SHA256-8:QN08-PSHA1", q) { OcraPin.hashed(ByteArray(0)) },
            BadInput("timestamp missing", "OCRA-1:HOTP-SHA512-8:QN08-T1M", q),
            BadInput("timestamp not allowed", "OCRA-1:HOTP-SHA1-6:QN08", OcraInput(question = "12345678", timeSteps = 5uL)),
            BadInput("session missing", "OCRA-1:HOTP-SHA1-6:QN08-S064", q),
            BadInput(
                "session of the wrong length",
                "OCRA-1:HOTP-SHA1-6:QN08-S064",
                OcraInput(question = "12345678", session = ByteArray(63)),
            ),
            BadInput("session not allowed", "OCRA-1:HOTP-SHA1-6:QN08", OcraInput(question = "12345678", session = ByteArray(4))),
            BadInput("numeric question with letters", "OCRA-1:HOTP-SHA1-6:QN08", OcraInput(question = "1234ABCD")),
            BadInput("hex question with non-hex letters", "OCRA-1:HOTP-SHA1-6:QH08", OcraInput(question = "1234WXYZ")),
            BadInput("alphanumeric question with punctuation", "OCRA-1:HOTP-SHA1-6:QA08", OcraInput(question = "CHAL-123")),
            BadInput("empty question", "OCRA-1:HOTP-SHA1-6:QA08", OcraInput(question = "")),
            BadInput("question over 128 bytes", "OCRA-1:HOTP-SHA1-6:QA64", OcraInput(question = "A".repeat(129))),
        ).map { case ->
            dynamicTest(case.name) {
                OtpSecret.fromHex(key64Hex).use { key ->
                    Ocra(case.suite, key).use { ocra ->
                        case.pin?.invoke().use { pin ->
                            assertOtpError<OtpException.InvalidOcraInput>("987654", "1234", key64Hex) {
                                ocra.generate(case.input, pin)
                            }
                            assertOtpError<OtpException.InvalidOcraInput>("987654", "1234", key64Hex) {
                                ocra.verify("123456".padEnd(ocra.suite().digits.toInt(), '0'), case.input, 1u, 1u, pin)
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    fun `a PIN hash of the right length is accepted`() {
        // Not the right PIN, but a valid input: the response is just another one.
        OtpSecret.fromHex(key32Hex).use { key ->
            Ocra("OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1", key).use { ocra ->
                OcraPin.hashed(ByteArray(20)).use { zeros ->
                    val input = OcraInput(question = "12345678", counter = 0uL)
                    val r = ocra.generate(input, zeros)
                    assertEquals(8, r.length)
                    assertNotEquals("65347737", r)
                }
            }
        }
    }

    @Test
    fun `malformed OCRA responses are MalformedCode`() {
        OtpSecret.fromHex(key32Hex).use { key ->
            Ocra("OCRA-1:HOTP-SHA256-8:QA08", key).use { ocra ->
                val input = OcraInput(question = "CLI22220SRV11110")
                for (bad in listOf("1234567", "123456789", "1234567a")) {
                    assertOtpError<OtpException.MalformedCode>(bad) { ocra.verify(bad, input, 0u, 0u) }
                }
            }
        }
    }
}
