package org.digitalotp

import java.io.ByteArrayOutputStream
import java.security.KeyPair
import java.security.KeyPairGenerator
import java.security.MessageDigest
import java.security.PrivateKey
import java.security.Signature
import java.security.spec.ECGenParameterSpec
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.CopyOnWriteArrayList

/** A new P-256 key pair from the JDK's provider. */
fun newP256KeyPair(): KeyPair =
    KeyPairGenerator.getInstance("EC").apply { initialize(ECGenParameterSpec("secp256r1")) }.generateKeyPair()

/**
 * The 65-byte SEC1 uncompressed point (`04 ‖ x ‖ y`) of a P-256 public key from its X.509
 * SubjectPublicKeyInfo encoding (`PublicKey.getEncoded()`): the SPKI of a P-256 key is a
 * fixed 26-byte header followed by the point. The Android demo's Keystore implementation
 * converts the same way.
 */
fun p256Point(spki: ByteArray): ByteArray {
    require(spki.size == P256_SPKI_HEADER.size + 65 && spki.copyOf(P256_SPKI_HEADER.size).contentEquals(P256_SPKI_HEADER)) {
        "not a P-256 SubjectPublicKeyInfo"
    }
    return spki.copyOfRange(spki.size - 65, spki.size)
}

/** The DER header of a P-256 SubjectPublicKeyInfo up to its point (id-ecPublicKey, prime256v1, BIT STRING). */
val P256_SPKI_HEADER: ByteArray = byteArrayOf(
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86.toByte(), 0x48, 0xCE.toByte(), 0x3D, 0x02, 0x01, 0x06, 0x08, 0x2A,
    0x86.toByte(), 0x48, 0xCE.toByte(), 0x3D, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
)

/** ECDSA P-256 SHA-256 of [message] with [key], ASN.1 DER (what the JDK's `SHA256withECDSA` gives). */
fun signP256(key: PrivateKey, message: ByteArray): ByteArray =
    Signature.getInstance("SHA256withECDSA").run {
        initSign(key)
        update(message)
        sign()
    }

/**
 * A [DeviceKeys] written in Kotlin over the JDK's EC provider, shaped like the Android
 * demo's `KeystoreDeviceKeys`: a P-256 key per alias, the public key as 65 bytes SEC1 taken
 * from the SPKI, DER `SHA256withECDSA` signatures. The private keys stay in this object
 * (in memory), standing in for the phone's secure hardware: a copy of the app's store does
 * not carry them.
 *
 * [evidence] makes the platform's evidence for each new key (default: none); [failCreate]
 * and [failSign] make the "hardware" fail the documented way ([HostException.Failed]),
 * [truncatePublicKey] hands back a malformed public key.
 * Every call is recorded, for the tests to check what the SDK asked.
 */
class JcaDeviceKeys(
    @Volatile var evidence: (publicKey: ByteArray, challenge: ByteArray) -> KeyEvidence = { _, _ -> KeyEvidence(EvidenceKind.NONE) },
) : DeviceKeys {
    private val keys = ConcurrentHashMap<String, KeyPair>()

    @Volatile var failCreate = false
    @Volatile var failSign = false
    /** `createKey` returns the public key without its last byte (a broken platform layer). */
    @Volatile var truncatePublicKey = false

    /** (alias, challenge) of every `createKey`, oldest first. */
    val created = CopyOnWriteArrayList<Pair<String, ByteArray>>()
    /** The alias of every `sign`, oldest first. */
    val signed = CopyOnWriteArrayList<String>()
    /** The alias of every `deleteKey`, oldest first. */
    val deleted = CopyOnWriteArrayList<String>()

    override fun createKey(alias: String, challenge: ByteArray): DeviceKey {
        created += alias to challenge.copyOf()
        if (failCreate) throw HostException.Failed("secure hardware unavailable")
        val pair = newP256KeyPair()
        keys[alias] = pair
        val point = p256Point(pair.public.encoded)
        val given = if (truncatePublicKey) point.copyOf(64) else point
        return DeviceKey(given, evidence(point, challenge))
    }

    override fun sign(alias: String, message: ByteArray): ByteArray {
        signed += alias
        if (failSign) throw HostException.Failed("user authentication required")
        val pair = keys[alias] ?: throw HostException.Failed("no device key")
        return signP256(pair.private, message)
    }

    override fun deleteKey(alias: String) {
        deleted += alias
        keys.remove(alias)
    }

    /** The aliases of the keys this "hardware" holds now, sorted. */
    fun aliases(): List<String> = keys.keys.sorted()

    /** The public key (65 bytes) of [alias], or null. */
    fun publicKey(alias: String): ByteArray? = keys[alias]?.let { p256Point(it.public.encoded) }

    /** Replaces the key of [alias] by a new one (another phone's key under the same name). */
    fun replaceKey(alias: String) {
        keys[alias] = newP256KeyPair()
    }
}

/**
 * Android Key Attestation chains made in the test, under a test root standing in for
 * Google's: a leaf certificate for the device key with the KeyDescription extension
 * (OID 1.3.6.1.4.1.11129.2.1.17: the challenge, the security level, the app's package in
 * the attestationApplicationId), signed by [root], which is self-signed. The Kotlin twin of
 * `digital_otp::issuer::attestation::testing::android_chain`, written with a small DER
 * encoder and the JDK's signatures.
 */
class TestAttestationRoot(private val name: String = "Test Key Attestation Root") {
    private val pair = newP256KeyPair()

    /** The root certificate (DER): a trust anchor for an `AttestationPolicy`. */
    val der: ByteArray = certificate(
        subject = name,
        issuer = name,
        spki = pair.public.encoded,
        extensions = emptyList(),
        signer = pair.private,
    )

    /**
     * The chain (leaf first, DER) attesting [devicePublicKey] (65 bytes) at [level] (0
     * software, 1 TEE, 2 StrongBox) with [challenge], for [packageName].
     */
    fun chain(devicePublicKey: ByteArray, challenge: ByteArray, level: Int, packageName: String = TEST_PACKAGE): List<ByteArray> {
        val leaf = certificate(
            subject = "Android Keystore Key",
            issuer = name,
            spki = P256_SPKI_HEADER + devicePublicKey,
            extensions = listOf(Der.extension(KEY_DESCRIPTION_OID, keyDescription(level, challenge, packageName))),
            signer = pair.private,
        )
        return listOf(leaf, der)
    }

    /** [chain] wrapped as the evidence a `DeviceKeys` returns. */
    fun evidence(devicePublicKey: ByteArray, challenge: ByteArray, level: Int, packageName: String = TEST_PACKAGE): KeyEvidence =
        KeyEvidence(EvidenceKind.ANDROID_KEY_ATTESTATION, chain(devicePublicKey, challenge, level, packageName))

    companion object {
        const val SOFTWARE = 0
        const val TRUSTED_ENVIRONMENT = 1
        const val STRONG_BOX = 2
        const val TEST_PACKAGE = "org.example.bank"
        private const val KEY_DESCRIPTION_OID = "1.3.6.1.4.1.11129.2.1.17"

        /** The KeyDescription of Android's attestation schema (version 200), as the issuer parses it. */
        fun keyDescription(level: Int, challenge: ByteArray, packageName: String): ByteArray {
            val packageInfo = Der.sequence(Der.octets(packageName.toByteArray()), Der.integer(1))
            val digests = Der.set(Der.octets(MessageDigest.getInstance("SHA-256").digest("test app signing certificate".toByteArray())))
            val applicationId = Der.sequence(Der.set(packageInfo), digests)
            val softwareEnforced = Der.sequence(
                // creationDateTime [701]: a tag the issuer does not use, to be skipped.
                Der.tlv(byteArrayOf(0xBF.toByte(), 0x85.toByte(), 0x3D), Der.integer(1_700_000_000_000L)),
                // attestationApplicationId [709]
                Der.tlv(byteArrayOf(0xBF.toByte(), 0x85.toByte(), 0x45), Der.octets(applicationId)),
            )
            val version = Der.integer(200)
            val securityLevel = Der.tlv(0x0A, byteArrayOf(level.toByte()))
            return Der.sequence(
                version, securityLevel, version, securityLevel,
                Der.octets(challenge), Der.octets(ByteArray(0)),
                softwareEnforced, Der.sequence(),
            )
        }

        private var serial = 1L

        /** An X.509 v3 certificate, ECDSA-SHA256, valid 2020–2049. */
        private fun certificate(subject: String, issuer: String, spki: ByteArray, extensions: List<ByteArray>, signer: PrivateKey): ByteArray {
            val algorithm = Der.sequence(Der.oid("1.2.840.10045.4.3.2"))
            val fields = mutableListOf(
                Der.explicit(0, Der.integer(2)),
                Der.integer(synchronized(this) { serial++ }),
                algorithm,
                Der.name(issuer),
                Der.sequence(Der.utcTime("200101000000Z"), Der.utcTime("491231235959Z")),
                Der.name(subject),
                spki,
            )
            if (extensions.isNotEmpty()) fields += Der.explicit(3, Der.sequence(*extensions.toTypedArray()))
            val tbs = Der.sequence(*fields.toTypedArray())
            return Der.sequence(tbs, algorithm, Der.bitString(signP256(signer, tbs)))
        }
    }
}

/** Just enough DER to write certificates. */
object Der {
    fun tlv(tag: Int, content: ByteArray): ByteArray = tlv(byteArrayOf(tag.toByte()), content)

    fun tlv(tag: ByteArray, content: ByteArray): ByteArray {
        val out = ByteArrayOutputStream()
        out.write(tag)
        val n = content.size
        when {
            n < 0x80 -> out.write(n)
            n < 0x100 -> { out.write(0x81); out.write(n) }
            else -> { out.write(0x82); out.write(n shr 8); out.write(n and 0xFF) }
        }
        out.write(content)
        return out.toByteArray()
    }

    fun sequence(vararg items: ByteArray): ByteArray = tlv(0x30, items.fold(ByteArray(0)) { a, b -> a + b })
    fun set(vararg items: ByteArray): ByteArray = tlv(0x31, items.fold(ByteArray(0)) { a, b -> a + b })
    fun octets(bytes: ByteArray): ByteArray = tlv(0x04, bytes)
    fun bitString(bytes: ByteArray): ByteArray = tlv(0x03, byteArrayOf(0) + bytes)
    fun utcTime(text: String): ByteArray = tlv(0x17, text.toByteArray())
    fun explicit(number: Int, content: ByteArray): ByteArray = tlv(0xA0 or number, content)

    fun integer(value: Long): ByteArray = tlv(0x02, java.math.BigInteger.valueOf(value).toByteArray())

    fun oid(dotted: String): ByteArray {
        val arcs = dotted.split('.').map { it.toLong() }
        val out = ByteArrayOutputStream()
        out.write((arcs[0] * 40 + arcs[1]).toInt())
        for (arc in arcs.drop(2)) {
            val groups = mutableListOf<Int>()
            var v = arc
            do {
                groups += (v and 0x7F).toInt()
                v = v shr 7
            } while (v > 0)
            groups.reversed().forEachIndexed { i, g -> out.write(if (i < groups.size - 1) g or 0x80 else g) }
        }
        return tlv(0x06, out.toByteArray())
    }

    /** A Name with one common name (UTF8String). */
    fun name(commonName: String): ByteArray =
        sequence(set(sequence(oid("2.5.4.3"), tlv(0x0C, commonName.toByteArray()))))

    fun extension(id: String, value: ByteArray): ByteArray = sequence(oid(id), octets(value))
}
