package org.digitalotp.demo.android

import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import android.security.keystore.StrongBoxUnavailableException
import java.security.KeyStore
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey

/**
 * The AES-256-GCM key that seals the SDK's stored values, kept in the AndroidKeyStore:
 * generated inside it (in StrongBox where the phone has one), never exportable, usable
 * only for AES-GCM with keystore-chosen IVs, and only while the phone is unlocked
 * (Android 9+). No user authentication is bound to it: every code already needs the app
 * password, checked by the bank, and the credential's signing key (`KeystoreDeviceKeys`).
 *
 * It protects the stored values at rest only (a copied file, a backup, a lost phone that is
 * locked): code running as the app on an unlocked phone (root, malware) can have it decrypt.
 * That is not what stops offline password guessing — nothing stored lets a guess be tested
 * without the bank, which counts every one.
 *
 * Uninstalling the app deletes the key, and with it every stored credential: the customer
 * then registers again, which is the intended outcome.
 */
object KeystoreKey {
    private const val PROVIDER = "AndroidKeyStore"

    @Synchronized
    fun getOrCreate(alias: String): SecretKey {
        val keyStore = KeyStore.getInstance(PROVIDER).apply { load(null) }
        (keyStore.getKey(alias, null) as? SecretKey)?.let { return it }
        return try {
            generate(alias, strongBox = Build.VERSION.SDK_INT >= Build.VERSION_CODES.P)
        } catch (_: StrongBoxUnavailableException) {
            generate(alias, strongBox = false)
        }
    }

    private fun generate(alias: String, strongBox: Boolean): SecretKey {
        val spec = KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
            .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
            .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
            .setKeySize(256)
            .setRandomizedEncryptionRequired(true)
            .apply {
                if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.P) {
                    setUnlockedDeviceRequired(true)
                    setIsStrongBoxBacked(strongBox)
                }
            }
            .build()
        return KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, PROVIDER).run {
            init(spec)
            generateKey()
        }
    }
}
