package org.digitalotp.demo.flow

/**
 * The encodings the SDK's `DeviceKeys` trait asks for, from what the JCA (and the Android
 * Keystore, a JCA provider) gives: plain Kotlin, so the JVM tests check them with the
 * JDK's own EC keys (`P256Test`), and the Android layer's `KeystoreDeviceKeys` uses them.
 */
object P256 {
    /**
     * The DER header of a P-256 SubjectPublicKeyInfo, up to its point: `SEQUENCE {
     * SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING (no unused bits) … }`.
     */
    private val SPKI_HEADER = byteArrayOf(
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86.toByte(), 0x48, 0xCE.toByte(), 0x3D, 0x02, 0x01, 0x06, 0x08, 0x2A,
        0x86.toByte(), 0x48, 0xCE.toByte(), 0x3D, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    )

    /** The length of an uncompressed SEC1 point: `04 ‖ x ‖ y`. */
    const val POINT_SIZE = 65

    /**
     * The 65-byte SEC1 uncompressed point of a P-256 public key, from its X.509
     * SubjectPublicKeyInfo (`PublicKey.getEncoded()`, `Certificate.getPublicKey().getEncoded()`):
     * the last 65 bytes of the 91-byte encoding. Refuses anything else (another curve, a
     * compressed point), rather than hand the SDK a key the bank would not verify.
     */
    fun pointFromSubjectPublicKeyInfo(spki: ByteArray): ByteArray {
        require(spki.size == SPKI_HEADER.size + POINT_SIZE) { "not a P-256 public key (${spki.size} bytes)" }
        require(spki.copyOf(SPKI_HEADER.size).contentEquals(SPKI_HEADER)) { "not a P-256 SubjectPublicKeyInfo" }
        val point = spki.copyOfRange(SPKI_HEADER.size, spki.size)
        require(point[0] == 0x04.toByte()) { "not an uncompressed point" }
        return point
    }

    /** The SubjectPublicKeyInfo of a 65-byte point (the inverse, for verifying with the JCA). */
    fun subjectPublicKeyInfo(point: ByteArray): ByteArray {
        require(point.size == POINT_SIZE && point[0] == 0x04.toByte()) { "not an uncompressed P-256 point" }
        return SPKI_HEADER + point
    }
}
