package org.digitalotp

import com.sun.jna.NativeLibrary
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.io.File

/** OtpSecret: generation, encodings, redacted printing, equality, lifetime. */
class OtpSecretTest {

    @Test
    fun `the native library is the one freshly built in target`() {
        // Force loading, then ask JNA which file it opened.
        OtpSecret.fromHex(RFC_SEED_HEX).close()
        val dir = File(System.getProperty("digitalotp.native.dir") ?: "../../target/debug").canonicalFile
        val loaded = NativeLibrary.getInstance("digital_otp").file?.canonicalFile
        assertEquals(dir, loaded?.parentFile, "libdigital_otp loaded from $loaded, expected from $dir")
    }

    @Test
    fun `generate gives 20 random bytes`() {
        OtpSecret.generate().use { a ->
            OtpSecret.generate().use { b ->
                assertEquals(20u, a.byteLength())
                assertEquals(32, a.toBase32().length)
                assertTrue(a.toBase32().matches(Regex("[A-Z2-7]{32}")), "unpadded upper-case base32")
                assertNotEquals(a, b)
            }
        }
        OtpSecret.generateWithLength(64u).use { assertEquals(64u, it.byteLength()) }
    }

    @Test
    fun `toString is redacted`() {
        OtpSecret.fromBase32(RFC_SEED_BASE32).use { secret ->
            val printed = secret.toString()
            assertEquals("<redacted secret>", printed)
            assertFalse(printed.contains(RFC_SEED_BASE32))
            assertFalse("$secret".contains("GEZDGNBV"))
        }
        OtpSecret.generate().use { secret ->
            val b32 = secret.toBase32()
            assertFalse(secret.toString().contains(b32))
            assertFalse(secret.toString().contains(b32.substring(0, 8)))
        }
    }

    @Test
    fun `secrets are equal by content, whatever the encoding they came from`() {
        OtpSecret.fromHex(RFC_SEED_HEX).use { hex ->
            OtpSecret.fromBase32(RFC_SEED_BASE32).use { b32 ->
                OtpSecret.fromBytes("12345678901234567890".toByteArray()).use { bytes ->
                    // Lower case, spaces, hyphens and padding are tolerated.
                    OtpSecret.fromBase32("gezd gnbv-gy3t qojq gezd gnbv gy3t qojq").use { loose ->
                        OtpSecret.fromHex(RFC_SEED_HEX.uppercase()).use { upperHex ->
                            for (other in listOf(b32, bytes, loose, upperHex)) {
                                assertEquals(hex, other)
                                assertEquals(other, hex)
                            }
                            assertEquals(hex, hex)
                            assertEquals(RFC_SEED_BASE32, hex.toBase32())
                            assertEquals(20u, hex.byteLength())
                        }
                    }
                }
            }
        }
        OtpSecret.fromBase32("GEZDGNBVGY3TQOJQGE======").use { padded ->
            OtpSecret.fromHex("3132333435363738393031").use { assertEquals(padded, it) }
            assertEquals("GEZDGNBVGY3TQOJQGE", padded.toBase32())
        }
        OtpSecret.fromHex(RFC_SEED_HEX).use { a ->
            OtpSecret.fromHex("3132333435363738393031323334353637383931").use { b -> assertNotEquals(a, b) }
            OtpSecret.fromHex(RFC_SEED_HEX + "00").use { longer -> assertNotEquals(a, longer) }
            assertFalse(a.equals(RFC_SEED_HEX))
            assertFalse(a.equals(null))
        }
    }

    @Test
    fun `a closed secret can no longer be used`() {
        val secret = OtpSecret.fromHex(RFC_SEED_HEX)
        secret.close()
        assertThrows<IllegalStateException> { secret.toBase32() }
        secret.close() // closing twice is harmless
    }

    @Test
    fun `objects stay usable after the secret they were built from is closed`() {
        val totp = OtpSecret.fromHex(RFC_SEED_HEX).use { Totp(it, HashAlgorithm.SHA1, 8u, 30uL, 0uL) }
        totp.use { assertEquals("94287082", it.codeAt(59uL).code) }
    }
}
