package org.digitalotp

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.DynamicTest.dynamicTest
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestFactory
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.ValueSource

/**
 * Bad input is refused with the specific OtpException subclass, and no message
 * contains the secret, code or PIN that was passed in.
 */
class ErrorsTest {

    private fun rfcSecret() = OtpSecret.fromHex(RFC_SEED_HEX)

    // --- secrets -------------------------------------------------------------------

    @TestFactory
    fun `malformed or short secrets are InvalidSecret`(): List<DynamicTest> = listOf(
        // 40 and 72 bits: under the 80-bit minimum.
        "base32 of 40 bits" to { OtpSecret.fromBase32("JBSWY3DP") },
        "base32 of 72 bits" to { OtpSecret.fromBase32("JBSWY3DPEHPK3PI") },
        "hex of 72 bits" to { OtpSecret.fromHex("313233343536373839") },
        "bytes of 72 bits" to { OtpSecret.fromBytes(ByteArray(9) { 0x5a }) },
        "empty base32" to { OtpSecret.fromBase32("") },
        "empty hex" to { OtpSecret.fromHex("") },
        "empty bytes" to { OtpSecret.fromBytes(ByteArray(0)) },
        "base32 with 1, 8, 0 and 9" to { OtpSecret.fromBase32("JBSWY3DPEHPK3P18") },
        "base32 with punctuation" to { OtpSecret.fromBase32("JBSWY3DP!EHPK3PXP") },
        "base32 with padding in the middle" to { OtpSecret.fromBase32("JBSWY3DP==EHPK3PXP") },
        "base32 of impossible length" to { OtpSecret.fromBase32("JBSWY3DPEHPK3PXPA") },
        "hex with non-hex letters" to { OtpSecret.fromHex("31323334353637383930zz") },
        "hex of odd length" to { OtpSecret.fromHex("31323334353637383930313") },
        "generated secret under 160 bits" to { OtpSecret.generateWithLength(19u) },
        "generated secret over 1024 bytes" to { OtpSecret.generateWithLength(1025u) },
    ).map { (name, block) ->
        dynamicTest(name) {
            assertOtpError<OtpException.InvalidSecret>(
                "JBSWY3DP", "EHPK3P", "3132333435", "zz",
            ) { block().close() }
        }
    }

    @Test
    fun `secret error messages never echo the text`() {
        val secretText = "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U-X"
        val e = assertOtpError<OtpException.InvalidSecret>(secretText, "MFRGGZDF", "OBYXE43U") {
            OtpSecret.fromBase32(secretText)
        }
        assertReasonMentions(e, "base32")
        val hex = "00112233445566778899aabbccddeeffgg"
        assertOtpError<OtpException.InvalidSecret>(hex, "00112233", "ccddeeff") { OtpSecret.fromHex(hex) }
    }

    // --- HOTP/TOTP parameters ----------------------------------------------------------

    @ParameterizedTest(name = "digits {0}")
    @ValueSource(ints = [0, 5, 11, 255])
    fun `digits outside 6 to 10 are InvalidParameter`(digits: Int) {
        rfcSecret().use { secret ->
            val e = assertOtpError<OtpException.InvalidParameter>(RFC_SEED_HEX, RFC_SEED_BASE32) {
                Hotp(secret, HashAlgorithm.SHA1, digits.toUByte())
            }
            assertReasonMentions(e, "digits")
            assertOtpError<OtpException.InvalidParameter>(RFC_SEED_HEX, RFC_SEED_BASE32) {
                Totp(secret, HashAlgorithm.SHA256, digits.toUByte(), 30uL, 0uL)
            }
        }
    }

    @ParameterizedTest(name = "period {0}")
    @ValueSource(longs = [0, 3601, Long.MAX_VALUE])
    fun `period outside 1 to 3600 is InvalidParameter`(period: Long) {
        rfcSecret().use { secret ->
            val e = assertOtpError<OtpException.InvalidParameter>(RFC_SEED_HEX) {
                Totp(secret, HashAlgorithm.SHA1, 6u, period.toULong(), 0uL)
            }
            assertReasonMentions(e, "period")
        }
    }

    @Test
    fun `window wider than 100 is InvalidParameter`() {
        rfcSecret().use { secret ->
            Totp(secret, HashAlgorithm.SHA1, 6u, 30uL, 0uL).use { totp ->
                val code = totp.codeAt(59uL).code
                assertEquals(1uL, totp.verify(code, 59uL, 100u, 100u))
                assertOtpError<OtpException.InvalidParameter>(code) { totp.verify(code, 59uL, 101u, 0u) }
                assertOtpError<OtpException.InvalidParameter>(code) { totp.verify(code, 59uL, 0u, 101u) }
                assertOtpError<OtpException.InvalidParameter>(code) { totp.verify(code, 59uL, UInt.MAX_VALUE, 0u) }
            }
            Hotp(secret, HashAlgorithm.SHA1, 6u).use { hotp ->
                assertOtpError<OtpException.InvalidParameter>("755224") { hotp.verify("755224", 0uL, 101u, 1u) }
                assertOtpError<OtpException.InvalidParameter>("755224") { hotp.verify("755224", 0uL, 1u, 101u) }
            }
            Ocra("OCRA-1:HOTP-SHA1-6:C-QN08", secret).use { ocra ->
                val input = OcraInput(question = "12345678", counter = 0uL)
                val response = ocra.generate(input)
                assertOtpError<OtpException.InvalidParameter>(response) { ocra.verify(response, input, 101u, 0u) }
            }
        }
    }

    @ParameterizedTest(name = "code \"{0}\"")
    @ValueSource(strings = ["12345a", "12345", "1234567", "", " 755224", "755224 ", "-75522", "７５５２２４", "75522.", "0x7552"])
    fun `malformed codes are MalformedCode`(code: String) {
        rfcSecret().use { secret ->
            Hotp(secret, HashAlgorithm.SHA1, 6u).use { hotp ->
                val e = assertOtpError<OtpException.MalformedCode>(*nonBlank(code)) { hotp.verify(code, 0uL, 1u, 1u) }
                assertReasonMentions(e, "6")
            }
            Totp(secret, HashAlgorithm.SHA1, 6u, 30uL, 0uL).use { totp ->
                assertOtpError<OtpException.MalformedCode>(*nonBlank(code)) { totp.verify(code, 59uL, 1u, 1u) }
            }
        }
    }

    @Test
    fun `a code of another length is MalformedCode even if it is a real code`() {
        rfcSecret().use { secret ->
            Hotp(secret, HashAlgorithm.SHA1, 8u).use { hotp ->
                // "84755224" is the 8-digit HOTP for counter 0; a 6-digit suffix is malformed.
                assertEquals("84755224", hotp.generate(0uL))
                assertOtpError<OtpException.MalformedCode>("755224") { hotp.verify("755224", 0uL, 0u, 0u) }
            }
        }
    }

    @Test
    fun `time before T0 is InvalidParameter`() {
        rfcSecret().use { secret ->
            Totp(secret, HashAlgorithm.SHA1, 6u, 30uL, 1_000uL).use { totp ->
                val e = assertOtpError<OtpException.InvalidParameter> { totp.codeAt(999uL) }
                assertReasonMentions(e, "T0")
                assertOtpError<OtpException.InvalidParameter> { totp.timeStep(0uL) }
                val code = totp.codeForStep(0uL)
                assertOtpError<OtpException.InvalidParameter>(code) { totp.verify(code, 999uL, 1u, 1u) }
                assertEquals(0uL, totp.verify(code, 1_000uL, 0u, 0u))
            }
            // A T0 in the future: codeNow is refused too.
            Totp(secret, HashAlgorithm.SHA1, 6u, 30uL, ULong.MAX_VALUE).use { totp ->
                assertOtpError<OtpException.InvalidParameter> { totp.codeNow() }
            }
        }
    }

    @Test
    fun `times beyond the range of 64-bit steps are InvalidParameter`() {
        rfcSecret().use { secret ->
            Totp(secret, HashAlgorithm.SHA1, 6u, 1uL, 0uL).use { totp ->
                assertOtpError<OtpException.InvalidParameter> { totp.codeAt(ULong.MAX_VALUE) }
            }
        }
    }

    @ParameterizedTest(name = "algorithm \"{0}\"")
    @ValueSource(strings = ["MD5", "SHA3", "SHA-384", "", "SHA 1"])
    fun `unknown hash names are InvalidParameter`(name: String) {
        assertOtpError<OtpException.InvalidParameter> { hashAlgorithmFromName(name) }
    }

    @Test
    fun `hash names parse in any case with an optional hyphen`() {
        assertEquals(HashAlgorithm.SHA1, hashAlgorithmFromName("sha1"))
        assertEquals(HashAlgorithm.SHA256, hashAlgorithmFromName("SHA-256"))
        assertEquals(HashAlgorithm.SHA512, hashAlgorithmFromName("sha-512"))
    }

    @Test
    fun `a totp URI refuses hotp() and an hotp URI refuses totp()`() {
        OtpAuthUri.parse("otpauth://totp/A:b?secret=$RFC_SEED_BASE32").use { uri ->
            assertOtpError<OtpException.InvalidParameter>(RFC_SEED_BASE32) { uri.hotp() }
        }
        OtpAuthUri.parse("otpauth://hotp/A:b?secret=$RFC_SEED_BASE32&counter=1").use { uri ->
            assertOtpError<OtpException.InvalidParameter>(RFC_SEED_BASE32) { uri.totp() }
        }
    }

    private fun nonBlank(s: String): Array<String> = if (s.isBlank()) emptyArray() else arrayOf(s.trim())
}
