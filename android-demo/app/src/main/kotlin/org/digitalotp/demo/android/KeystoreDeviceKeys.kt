package org.digitalotp.demo.android

import android.content.Context
import android.content.pm.PackageManager
import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import android.security.keystore.StrongBoxUnavailableException
import org.digitalotp.DeviceKey
import org.digitalotp.DeviceKeys
import org.digitalotp.EvidenceKind
import org.digitalotp.HostException
import org.digitalotp.KeyEvidence
import org.digitalotp.demo.flow.P256
import java.security.KeyPairGenerator
import java.security.KeyStore
import java.security.PrivateKey
import java.security.Signature
import java.security.spec.ECGenParameterSpec

/**
 * The SDK's `DeviceKeys` over the Android Keystore: one P-256 signing key per credential,
 * generated inside the phone's secure hardware (StrongBox where the phone has one, else the
 * TEE) and never exportable. The SDK signs the registration's confirmation and every unlock
 * request with it, and the bank verifies the signatures with the public key it received at
 * registration: a copy of the app's files on another phone cannot make a single request.
 *
 * - `createKey`: `KeyGenParameterSpec` with purpose SIGN, `secp256r1`, digest SHA-256, the
 *   SDK's challenge as the attestation challenge, `setIsStrongBoxBacked(true)` when
 *   `PackageManager.FEATURE_STRONGBOX_KEYSTORE` is present (falling back to the TEE on
 *   `StrongBoxUnavailableException`). Returns the public key as the 65-byte SEC1 point
 *   (from the certificate's SubjectPublicKeyInfo) and, as `ANDROID_KEY_ATTESTATION`
 *   evidence, the key's attestation certificate chain (`KeyStore.getCertificateChain`,
 *   DER, leaf first), which the bank checks against Google's hardware attestation roots
 *   under its policy (the challenge, TEE or StrongBox, the app's package).
 * - `sign`: `SHA256withECDSA`, which gives the ASN.1 DER signature the SDK asks for.
 * - `deleteKey`: removes the entry (a missing one is not an error).
 *
 * Biometric unlock (optional, for banks that want it): with [requireUserAuthentication] the
 * key needs the user's strong biometric for every signature
 * (`setUserAuthenticationRequired(true)`, and on Android 11+
 * `setUserAuthenticationParameters(0, AUTH_BIOMETRIC_STRONG)`).
 * [authorizer] must then show a `BiometricPrompt` with the `Signature` as its `CryptoObject`
 * and return it once authenticated; `sign` blocks meanwhile, which is why the flow runs off
 * the main thread. The app password stays: the biometric is a second factor bound to the
 * key, not a replacement for the bank's count of password guesses. The demo leaves it off.
 *
 * Failures are thrown as `HostException.Failed` with the exception's class name only (no
 * key material); the SDK reports them as `KeyStoreFailed`.
 *
 * Compiled here against the Android 14 framework classes only: no phone or emulator has run
 * it (see the README).
 */
class KeystoreDeviceKeys(
    context: Context,
    /** Every signature needs the user's authentication (biometric unlock); needs [authorizer]. */
    private val requireUserAuthentication: Boolean = false,
    /** Shows the biometric prompt for a `Signature` (a `CryptoObject`) and returns it authenticated; blocking. */
    private val authorizer: ((Signature) -> Signature)? = null,
    /**
     * The Play Integrity token for a new key's challenge, or null. A real bank app requests
     * it here (see [integrityToken]); the demo has none.
     */
    private val integrityTokenFor: (challenge: ByteArray) -> String? = { null },
) : DeviceKeys {
    private val strongBox: Boolean =
        Build.VERSION.SDK_INT >= Build.VERSION_CODES.P &&
            context.packageManager.hasSystemFeature(PackageManager.FEATURE_STRONGBOX_KEYSTORE)

    init {
        require(!requireUserAuthentication || authorizer != null) { "user authentication needs an authorizer" }
    }

    override fun createKey(alias: String, challenge: ByteArray): DeviceKey = hostCall {
        try {
            generate(alias, challenge, strongBox)
        } catch (_: StrongBoxUnavailableException) {
            generate(alias, challenge, strongBox = false)
        }
        val keyStore = keyStore()
        val certificate = keyStore.getCertificate(alias) ?: throw HostException.Failed("the new key has no certificate")
        val publicKey = P256.pointFromSubjectPublicKeyInfo(certificate.publicKey.encoded)
        val chain = keyStore.getCertificateChain(alias)?.map { it.encoded }.orEmpty()
        val evidence = if (chain.size > 1) {
            KeyEvidence(
                kind = EvidenceKind.ANDROID_KEY_ATTESTATION,
                certificateChain = chain,
                integrityToken = integrityToken(challenge),
            )
        } else {
            // A self-signed certificate only: this phone gives no attestation (some emulators).
            KeyEvidence(kind = EvidenceKind.NONE)
        }
        DeviceKey(publicKey = publicKey, evidence = evidence)
    }

    override fun sign(alias: String, message: ByteArray): ByteArray = hostCall {
        val key = keyStore().getKey(alias, null) as? PrivateKey ?: throw HostException.Failed("no device key")
        val signature = Signature.getInstance(SIGNATURE_ALGORITHM).apply { initSign(key) }
        val ready = if (requireUserAuthentication) authorizer!!(signature) else signature
        ready.update(message)
        ready.sign()
    }

    override fun deleteKey(alias: String) = hostCall {
        val keyStore = keyStore()
        if (keyStore.containsAlias(alias)) keyStore.deleteEntry(alias)
    }

    /**
     * The Play Integrity token bound to [challenge]. A real bank app requests one here, with
     * the challenge as its nonce (base64url, as the Integrity API asks) — e.g.
     * `IntegrityManagerFactory.create(context).requestIntegrityToken(IntegrityTokenRequest
     * .builder().setNonce(nonce).build())`, awaited off the main thread — and the bank's
     * server decodes it with Google (the SDK's `IntegrityVerifier`), requiring a genuine,
     * unrooted device and the bank's own app. The demo has no Play Integrity client:
     * [integrityTokenFor] gives null, and the evidence carries no token.
     */
    private fun integrityToken(challenge: ByteArray): String? = integrityTokenFor(challenge)

    private fun generate(alias: String, challenge: ByteArray, strongBox: Boolean) {
        val spec = KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_SIGN)
            .setAlgorithmParameterSpec(ECGenParameterSpec("secp256r1"))
            .setDigests(KeyProperties.DIGEST_SHA256)
            .setAttestationChallenge(challenge)
            .apply {
                if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.P) setIsStrongBoxBacked(strongBox)
                if (requireUserAuthentication) {
                    setUserAuthenticationRequired(true)
                    if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) {
                        // Timeout 0: every signature is authorized by its own prompt.
                        setUserAuthenticationParameters(0, KeyProperties.AUTH_BIOMETRIC_STRONG)
                    }
                    // Before Android 11 the default is the same: authentication for every use.
                }
            }
            .build()
        KeyPairGenerator.getInstance(KeyProperties.KEY_ALGORITHM_EC, PROVIDER).run {
            initialize(spec)
            generateKeyPair() // replaces any key of this alias
        }
    }

    private fun keyStore(): KeyStore = KeyStore.getInstance(PROVIDER).apply { load(null) }

    /** Runs [block], reporting any failure as the documented `HostException.Failed`. */
    private inline fun <T> hostCall(block: () -> T): T = try {
        block()
    } catch (x: HostException) {
        throw x
    } catch (x: Exception) {
        throw HostException.Failed(x.javaClass.simpleName)
    }

    private companion object {
        const val PROVIDER = "AndroidKeyStore"
        const val SIGNATURE_ALGORITHM = "SHA256withECDSA"
    }
}
