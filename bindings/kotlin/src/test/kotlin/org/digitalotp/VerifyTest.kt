package org.digitalotp

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/** Verification returns the step or counter that matched, or null outside the window. */
class VerifyTest {

    private fun rfcSecret() = OtpSecret.fromHex(RFC_SEED_HEX)

    @Test
    fun `totp verify with window of one returns the neighbouring step`() {
        rfcSecret().use { secret ->
            Totp(secret, HashAlgorithm.SHA1, 8u, 30uL, 0uL).use { totp ->
                val now = 1_111_111_109uL
                val step = totp.timeStep(now)
                assertEquals(37_037_036uL, step)

                assertEquals(step, totp.verify(totp.codeAt(now).code, now, 1u, 1u))
                assertEquals(step - 1u, totp.verify(totp.codeForStep(step - 1u), now, 1u, 1u))
                assertEquals(step + 1u, totp.verify(totp.codeForStep(step + 1u), now, 1u, 1u))
                assertNull(totp.verify(totp.codeForStep(step - 2u), now, 1u, 1u))
                assertNull(totp.verify(totp.codeForStep(step + 2u), now, 1u, 1u))

                // The window is asymmetric on request, and exact by default.
                assertNull(totp.verify(totp.codeForStep(step - 1u), now, 0u, 0u))
                assertNull(totp.verify(totp.codeForStep(step + 1u), now, 1u, 0u))
                assertEquals(step + 2u, totp.verify(totp.codeForStep(step + 2u), now, 0u, 2u))
            }
        }
    }

    @Test
    fun `totp verify accepts the whole period of a step`() {
        rfcSecret().use { secret ->
            Totp(secret, HashAlgorithm.SHA1, 6u, 30uL, 0uL).use { totp ->
                // 999_999_990 is a multiple of 30: the step starts there.
                val code = totp.codeAt(1_000_000_010uL)
                assertEquals(999_999_990uL, code.validFrom)
                assertEquals(1_000_000_020uL, code.validUntil)
                assertEquals(10uL, code.secondsRemaining)
                for (t in code.validFrom until code.validUntil) {
                    assertEquals(code.step, totp.verify(code.code, t, 0u, 0u), "at $t")
                }
                assertNull(totp.verify(code.code, code.validUntil + 30uL, 0u, 0u))
            }
        }
    }

    @Test
    fun `totp with a non-zero T0 counts steps from T0`() {
        rfcSecret().use { secret ->
            Totp(secret, HashAlgorithm.SHA256, 6u, 60uL, 1_000uL).use { totp ->
                assertEquals(0uL, totp.timeStep(1_000uL))
                assertEquals(1uL, totp.timeStep(1_060uL))
                val code = totp.codeAt(1_075uL)
                assertEquals(1uL, code.step)
                assertEquals(1_060uL, code.validFrom)
                assertEquals(1_120uL, code.validUntil)
                assertEquals(45uL, code.secondsRemaining)
                assertEquals(HashAlgorithm.SHA256, totp.algorithm())
                assertEquals(6.toUByte(), totp.digits())
                assertEquals(60uL, totp.periodSeconds())
            }
        }
    }

    @Test
    fun `totp codeNow agrees with codeAt of the system clock`() {
        rfcSecret().use { secret ->
            Totp(secret, HashAlgorithm.SHA1, 6u, 30uL, 0uL).use { totp ->
                val before = (System.currentTimeMillis() / 1000).toULong()
                val now = totp.codeNow()
                val after = (System.currentTimeMillis() / 1000).toULong()
                assertTrue(now.step in totp.timeStep(before)..totp.timeStep(after))
                assertEquals(totp.codeForStep(now.step), now.code)
                assertEquals(6, now.code.length)
            }
        }
    }

    @Test
    fun `hotp verify with window of one returns the neighbouring counter`() {
        rfcSecret().use { secret ->
            Hotp(secret, HashAlgorithm.SHA1, 6u).use { hotp ->
                // RFC 4226 Appendix D: counter 5 is 254676.
                assertEquals(5uL, hotp.verify("254676", 5uL, 1u, 1u))
                assertEquals(5uL, hotp.verify("254676", 4uL, 1u, 1u))
                assertEquals(5uL, hotp.verify("254676", 6uL, 1u, 1u))
                assertNull(hotp.verify("254676", 3uL, 1u, 1u))
                assertNull(hotp.verify("254676", 7uL, 1u, 1u))
                assertNull(hotp.verify("254676", 4uL, 1u, 0u))
                assertEquals(5uL, hotp.verify("254676", 0uL, 0u, 5u))
            }
        }
    }

    @Test
    fun `hotp verify at the ends of the counter range does not wrap`() {
        rfcSecret().use { secret ->
            Hotp(secret, HashAlgorithm.SHA512, 10u).use { hotp ->
                val max = ULong.MAX_VALUE
                val code = hotp.generate(max)
                assertEquals(10, code.length)
                assertEquals(max, hotp.verify(code, max, 2u, 2u))
                assertEquals(max, hotp.verify(code, max - 1u, 0u, 1u))
                assertEquals(0uL, hotp.verify(hotp.generate(0uL), 0uL, 3u, 0u))
                assertNull(hotp.verify(hotp.generate(0uL), max, 0u, 100u))
            }
        }
    }

    @Test
    fun `codes depend on the secret`() {
        OtpSecret.generate().use { a ->
            OtpSecret.generate().use { b ->
                assertNotEquals(a, b)
                val ha = Hotp(a, HashAlgorithm.SHA1, 10u)
                val hb = Hotp(b, HashAlgorithm.SHA1, 10u)
                val differing = (0uL until 20uL).count { ha.generate(it) != hb.generate(it) }
                assertTrue(differing >= 19, "codes of two random secrets mostly differ")
                ha.close()
                hb.close()
            }
        }
    }
}
