package org.digitalotp

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.DynamicTest.dynamicTest
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestFactory
import java.net.URLDecoder

/** otpauth:// Key URIs: parsing, formatting, round trips and refusals. */
class OtpAuthUriTest {

    private val google = "otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example"

    @Test
    fun `parses the Google Authenticator example`() {
        OtpAuthUri.parse(google).use { uri ->
            assertEquals(
                OtpAuthParameters(
                    otpType = OtpType.TOTP,
                    issuer = "Example",
                    account = "alice@google.com",
                    algorithm = HashAlgorithm.SHA1,
                    digits = 6u,
                    periodSeconds = 30uL,
                    counter = null,
                ),
                uri.parameters(),
            )
            uri.secret().use { secret ->
                OtpSecret.fromBase32("JBSWY3DPEHPK3PXP").use { expected -> assertEquals(expected, secret) }
                assertEquals("JBSWY3DPEHPK3PXP", secret.toBase32())
                assertEquals(10u, secret.byteLength())
            }
        }
    }

    @Test
    fun `the issuer parameter wins over the label prefix`() {
        OtpAuthUri.parse("otpauth://totp/Label%20Bank:alice?secret=JBSWY3DPEHPK3PXP&issuer=Param%20Bank").use {
            assertEquals("Param Bank", it.parameters().issuer)
            assertEquals("alice", it.parameters().account)
        }
        // Without the parameter the label prefix is the issuer; without either there is none.
        OtpAuthUri.parse("otpauth://totp/Label%20Bank:%20alice?secret=JBSWY3DPEHPK3PXP").use {
            assertEquals("Label Bank", it.parameters().issuer)
            assertEquals("alice", it.parameters().account)
        }
        OtpAuthUri.parse("otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP").use {
            assertEquals(null, it.parameters().issuer)
            assertEquals("alice", it.parameters().account)
        }
    }

    @Test
    fun `parses every parameter, in any case, ignoring unknown ones`() {
        val text = "OTPAUTH://HOTP/ACME:bob?SECRET=gezdgnbvgy3tqojqgezdgnbvgy3tqojq&algorithm=sha256&digits=8" +
            "&counter=42&image=https%3A%2F%2Fexample.com%2Flogo.png"
        OtpAuthUri.parse(text).use { uri ->
            val p = uri.parameters()
            assertEquals(OtpType.HOTP, p.otpType)
            assertEquals("ACME", p.issuer)
            assertEquals("bob", p.account)
            assertEquals(HashAlgorithm.SHA256, p.algorithm)
            assertEquals(8.toUByte(), p.digits)
            assertEquals(42uL, p.counter)
            assertEquals(null, p.periodSeconds)
            uri.secret().use { s -> assertEquals(RFC_SEED_BASE32, s.toBase32()) }
        }
    }

    @Test
    fun `newTotp formats a URI that parses back to the same fields`() {
        OtpSecret.generate().use { secret ->
            OtpAuthUri.newTotp("Digital Bank", "alice@example.com", secret, HashAlgorithm.SHA256, 8u, 60uL).use { uri ->
                val text = uri.toUriString()
                assertTrue(text.startsWith("otpauth://totp/"), text)
                assertTrue(text.contains("secret=${secret.toBase32()}"), "the URI carries the secret")
                OtpAuthUri.parse(text).use { back ->
                    assertEquals(uri.parameters(), back.parameters())
                    assertEquals(
                        OtpAuthParameters(OtpType.TOTP, "Digital Bank", "alice@example.com", HashAlgorithm.SHA256, 8u, 60uL, null),
                        back.parameters(),
                    )
                    back.secret().use { assertEquals(secret, it) }
                    assertEquals(text, back.toUriString())
                }
            }
        }
    }

    @Test
    fun `newHotp formats a URI that parses back to the same fields`() {
        OtpSecret.fromHex(RFC_SEED_HEX).use { secret ->
            OtpAuthUri.newHotp(null, "bob", secret, HashAlgorithm.SHA1, 6u, 7uL).use { uri ->
                OtpAuthUri.parse(uri.toUriString()).use { back ->
                    assertEquals(
                        OtpAuthParameters(OtpType.HOTP, null, "bob", HashAlgorithm.SHA1, 6u, null, 7uL),
                        back.parameters(),
                    )
                    back.hotp().use { hotp ->
                        // RFC 4226 Appendix D: counter 7 is 162583.
                        assertEquals("162583", hotp.generate(back.parameters().counter!!))
                    }
                }
            }
        }
    }

    @Test
    fun `a non-ASCII issuer and account are percent-encoded and round-trip`() {
        OtpSecret.generate().use { secret ->
            OtpAuthUri.newTotp("한국은행", "홍길동 (개인)", secret, HashAlgorithm.SHA1, 6u, 30uL).use { uri ->
                val text = uri.toUriString()
                assertTrue(text.all { it.code < 128 }, "the URI is ASCII: $text")
                assertFalse(text.contains(' '), text)
                assertTrue(text.contains("%ED%95%9C%EA%B5%AD%EC%9D%80%ED%96%89"), text)
                assertTrue(URLDecoder.decode(text, Charsets.UTF_8).contains("한국은행:홍길동 (개인)"))
                OtpAuthUri.parse(text).use { back ->
                    assertEquals("한국은행", back.parameters().issuer)
                    assertEquals("홍길동 (개인)", back.parameters().account)
                    assertEquals(uri.parameters(), back.parameters())
                    back.secret().use { assertEquals(secret, it) }
                }
            }
        }
    }

    @Test
    fun `the URI's totp() generates the same codes as a Totp from the same secret`() {
        OtpAuthUri.parse(google).use { uri ->
            OtpSecret.fromBase32("JBSWY3DPEHPK3PXP").use { secret ->
                Totp(secret, HashAlgorithm.SHA1, 6u, 30uL, 0uL).use { expected ->
                    uri.totp().use { totp ->
                        for (t in listOf(0uL, 59uL, 1_111_111_109uL, 1_234_567_890uL, 2_000_000_000uL)) {
                            assertEquals(expected.codeAt(t), totp.codeAt(t), "at $t")
                        }
                        val now = totp.codeNow()
                        assertEquals(expected.codeForStep(now.step), now.code)
                        assertEquals(HashAlgorithm.SHA1, totp.algorithm())
                        assertEquals(6.toUByte(), totp.digits())
                        assertEquals(30uL, totp.periodSeconds())
                    }
                }
            }
        }
    }

    @Test
    fun `constructors refuse bad fields with InvalidParameter`() {
        OtpSecret.fromHex(RFC_SEED_HEX).use { secret ->
            assertOtpError<OtpException.InvalidParameter>(RFC_SEED_BASE32) {
                OtpAuthUri.newTotp("Bank", "alice", secret, HashAlgorithm.SHA1, 5u, 30uL)
            }
            assertOtpError<OtpException.InvalidParameter>(RFC_SEED_BASE32) {
                OtpAuthUri.newTotp("Bank", "alice", secret, HashAlgorithm.SHA1, 6u, 0uL)
            }
            assertOtpError<OtpException.InvalidParameter>(RFC_SEED_BASE32) {
                OtpAuthUri.newTotp("Bank:Evil", "alice", secret, HashAlgorithm.SHA1, 6u, 30uL)
            }
            assertOtpError<OtpException.InvalidParameter>(RFC_SEED_BASE32) {
                OtpAuthUri.newHotp("Bank", "  ", secret, HashAlgorithm.SHA1, 6u, 0uL)
            }
        }
    }

    /** Malformed URIs, each with the secret text it carries (which no message may contain). */
    @TestFactory
    fun `malformed URIs are InvalidUri without the secret in the message`(): List<DynamicTest> {
        val s = "JBSWY3DPEHPK3PXP"
        return listOf(
            "wrong scheme" to "https://totp/Example:alice?secret=$s",
            "no scheme" to "totp/Example:alice?secret=$s",
            "unknown type" to "otpauth://motp/Example:alice?secret=$s",
            "missing secret" to "otpauth://totp/Example:alice?issuer=Example",
            "empty secret" to "otpauth://totp/Example:alice?secret=",
            "secret not base32" to "otpauth://totp/Example:alice?secret=${s}1",
            "secret under 80 bits" to "otpauth://totp/Example:alice?secret=JBSWY3DPEHPK",
            "repeated secret" to "otpauth://totp/Example:alice?secret=$s&secret=$s",
            "hotp without counter" to "otpauth://hotp/Example:alice?secret=$s",
            "hotp with a non-numeric counter" to "otpauth://hotp/Example:alice?secret=$s&counter=x1",
            "hotp with a period" to "otpauth://hotp/Example:alice?secret=$s&counter=1&period=30",
            "totp with a counter" to "otpauth://totp/Example:alice?secret=$s&counter=1",
            "bad percent-encoding in the label" to "otpauth://totp/Exa%zzmple:alice?secret=$s",
            "truncated percent-encoding" to "otpauth://totp/Example:alice%4?secret=$s",
            "percent-encoded bytes that are not UTF-8" to "otpauth://totp/Example:al%FFice?secret=$s",
            "bad percent-encoding in the query" to "otpauth://totp/Example:alice?secret=$s&issuer=Ex%G1",
            "digits=5" to "otpauth://totp/Example:alice?secret=$s&digits=5",
            "digits=11" to "otpauth://totp/Example:alice?secret=$s&digits=11",
            "digits not a number" to "otpauth://totp/Example:alice?secret=$s&digits=six",
            "period=0" to "otpauth://totp/Example:alice?secret=$s&period=0",
            "unknown algorithm" to "otpauth://totp/Example:alice?secret=$s&algorithm=MD5",
            "missing account" to "otpauth://totp/Example:?secret=$s",
            "no label" to "otpauth://totp?secret=$s",
            "issuer with a colon" to "otpauth://totp/alice?secret=$s&issuer=A%3AB",
            "fragment" to "otpauth://totp/Example:alice?secret=$s#frag",
            "longer than 4096 bytes" to "otpauth://totp/Example:alice?secret=$s&image=" + "x".repeat(4100),
        ).map { (name, text) ->
            dynamicTest(name) {
                assertOtpError<OtpException.InvalidUri>(s, "JBSWY3DPEHPK", "EHPK3PXP") { OtpAuthUri.parse(text) }
            }
        }
    }
}
