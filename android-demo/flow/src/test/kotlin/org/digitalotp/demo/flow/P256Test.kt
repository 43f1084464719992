package org.digitalotp.demo.flow

import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.math.BigInteger
import java.security.KeyFactory
import java.security.KeyPairGenerator
import java.security.Signature
import java.security.interfaces.ECPublicKey
import java.security.spec.ECGenParameterSpec
import java.security.spec.X509EncodedKeySpec

/**
 * The encodings `KeystoreDeviceKeys` hands the SDK, checked with the JDK's own EC keys (the
 * Android Keystore gives the same X.509 SubjectPublicKeyInfo and DER signatures).
 */
class P256Test {
    private fun keyPair(curve: String = "secp256r1") =
        KeyPairGenerator.getInstance("EC").apply { initialize(ECGenParameterSpec(curve)) }.generateKeyPair()

    private fun unsigned32(n: BigInteger): ByteArray = n.toByteArray().let { b ->
        when {
            b.size == 32 -> b
            b.size > 32 -> b.copyOfRange(b.size - 32, b.size)
            else -> ByteArray(32 - b.size) + b
        }
    }

    @Test
    fun `the 65-byte point of a P-256 key is 04, x, y - and converts back to the same key`() {
        repeat(20) {
            val pair = keyPair()
            val point = P256.pointFromSubjectPublicKeyInfo(pair.public.encoded)
            assertEquals(65, point.size)
            val w = (pair.public as ECPublicKey).w
            assertArrayEquals(byteArrayOf(4) + unsigned32(w.affineX) + unsigned32(w.affineY), point)
            val back = KeyFactory.getInstance("EC").generatePublic(X509EncodedKeySpec(P256.subjectPublicKeyInfo(point)))
            assertArrayEquals(pair.public.encoded, back.encoded)
        }
    }

    @Test
    fun `SHA256withECDSA signatures are DER and verify under the converted key`() {
        val pair = keyPair()
        val message = "the registration's confirmation".toByteArray()
        val signature = Signature.getInstance("SHA256withECDSA").run { initSign(pair.private); update(message); sign() }
        assertEquals(0x30, signature[0].toInt(), "an ASN.1 SEQUENCE")
        assertEquals(signature.size - 2, signature[1].toInt(), "of r and s")
        val key = KeyFactory.getInstance("EC").generatePublic(
            X509EncodedKeySpec(P256.subjectPublicKeyInfo(P256.pointFromSubjectPublicKeyInfo(pair.public.encoded))),
        )
        assertTrue(Signature.getInstance("SHA256withECDSA").run { initVerify(key); update(message); verify(signature) })
    }

    @Test
    fun `another curve, a truncated or altered encoding is refused`() {
        assertThrows<IllegalArgumentException> { P256.pointFromSubjectPublicKeyInfo(keyPair("secp384r1").public.encoded) }
        val spki = keyPair().public.encoded
        assertThrows<IllegalArgumentException> { P256.pointFromSubjectPublicKeyInfo(spki.copyOf(spki.size - 1)) }
        assertThrows<IllegalArgumentException> { P256.pointFromSubjectPublicKeyInfo(spki.copyOf().also { it[3] = 0 }) }
        assertThrows<IllegalArgumentException> { P256.pointFromSubjectPublicKeyInfo(spki.copyOf().also { it[26] = 2 }) }
        assertThrows<IllegalArgumentException> { P256.subjectPublicKeyInfo(ByteArray(64)) }
    }
}
