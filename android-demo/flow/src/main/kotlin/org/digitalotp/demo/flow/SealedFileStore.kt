package org.digitalotp.demo.flow

import org.digitalotp.HostException
import org.digitalotp.SecureStore
import java.io.File
import java.io.FileOutputStream
import java.io.IOException
import java.nio.channels.FileChannel
import java.nio.file.AtomicMoveNotSupportedException
import java.nio.file.Files
import java.nio.file.StandardCopyOption
import java.nio.file.StandardOpenOption
import java.security.GeneralSecurityException
import java.security.SecureRandom
import javax.crypto.Cipher
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/**
 * Encrypts and authenticates stored values. [associatedData] binds a value to where it
 * is stored, so a value moved to another key does not open.
 */
interface ValueCipher {
    fun seal(plaintext: ByteArray, associatedData: ByteArray): ByteArray

    /** @throws GeneralSecurityException if [sealed] was altered, moved or sealed with another key */
    fun open(sealed: ByteArray, associatedData: ByteArray): ByteArray
}

/**
 * AES-256-GCM with a 128-bit tag under [key]: `iv length (1) | iv | ciphertext+tag`. The
 * cipher chooses the IV (a key from the AndroidKeyStore with randomized encryption refuses
 * one chosen by the caller). On Android [key] returns the AndroidKeyStore key, which never
 * leaves the keystore; the tests give a software key.
 */
class AesGcmValueCipher(private val key: () -> SecretKey) : ValueCipher {
    override fun seal(plaintext: ByteArray, associatedData: ByteArray): ByteArray {
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.ENCRYPT_MODE, key())
        cipher.updateAAD(associatedData)
        val body = cipher.doFinal(plaintext)
        val iv = cipher.iv
        check(iv.size in 12..32) { "unexpected GCM IV length" }
        return byteArrayOf(iv.size.toByte()) + iv + body
    }

    override fun open(sealed: ByteArray, associatedData: ByteArray): ByteArray {
        val ivLength = sealed.firstOrNull()?.toInt() ?: throw GeneralSecurityException("empty value")
        if (ivLength !in 12..32 || sealed.size < 1 + ivLength + TAG_BYTES) throw GeneralSecurityException("truncated value")
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.DECRYPT_MODE, key(), GCMParameterSpec(TAG_BYTES * 8, sealed, 1, ivLength))
        cipher.updateAAD(associatedData)
        return cipher.doFinal(sealed, 1 + ivLength, sealed.size - 1 - ivLength)
    }

    private companion object {
        const val TRANSFORMATION = "AES/GCM/NoPadding"
        const val TAG_BYTES = 16
    }
}

/**
 * The app's [SecureStore]: each value sealed with [cipher] (on Android, an AES-GCM key in
 * the AndroidKeyStore) and kept in its own file in [directory] (app-private; on Android
 * `noBackupFilesDir`, since a backup is useless without the keystore key).
 *
 * File `v1-<hex of the key name>.bin`: `"DOSF" | 1 | sealed value`, with the magic,
 * version and key name as associated data. Writes are atomic: a temporary file in the same
 * directory, fsync, rename over the old file, fsync of the directory; a crash leaves the
 * old value or the new one, never a mix. Leftover temporary files are removed on start.
 * Every failure, including a value that does not decrypt, is thrown as
 * [HostException.Failed], which the SDK reports as `StorageFailed`.
 */
class SealedFileStore(private val directory: File, private val cipher: ValueCipher) : SecureStore {
    private val random = SecureRandom()

    init {
        if (!directory.isDirectory && !directory.mkdirs()) throw IOException("cannot create the store directory")
        directory.listFiles { f -> f.name.contains(TEMP_MARK) }?.forEach { it.delete() }
    }

    @Synchronized
    override fun read(key: String): ByteArray? {
        val file = fileFor(key)
        val bytes = try {
            if (!file.exists()) return null
            file.readBytes()
        } catch (e: IOException) {
            throw HostException.Failed("cannot read a stored value")
        }
        if (bytes.size < HEADER.size || !bytes.copyOfRange(0, HEADER.size).contentEquals(HEADER)) {
            throw HostException.Failed("a stored value has an unknown format")
        }
        return try {
            cipher.open(bytes.copyOfRange(HEADER.size, bytes.size), associatedData(key))
        } catch (e: GeneralSecurityException) {
            throw HostException.Failed("a stored value does not decrypt (altered, moved, or its keystore key is gone)")
        }
    }

    @Synchronized
    override fun write(key: String, value: ByteArray) {
        val file = fileFor(key)
        val sealed = try {
            HEADER + cipher.seal(value, associatedData(key))
        } catch (e: GeneralSecurityException) {
            throw HostException.Failed("the keystore refused to encrypt")
        }
        val temp = File(directory, file.name + TEMP_MARK + java.lang.Long.toHexString(random.nextLong()))
        try {
            FileOutputStream(temp).use { out ->
                out.write(sealed)
                out.flush()
                out.fd.sync()
            }
            try {
                Files.move(temp.toPath(), file.toPath(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING)
            } catch (e: AtomicMoveNotSupportedException) {
                throw IOException("the file system cannot rename atomically", e)
            }
            syncDirectory()
        } catch (e: IOException) {
            temp.delete()
            throw HostException.Failed("cannot write a stored value")
        }
    }

    @Synchronized
    override fun delete(key: String) {
        try {
            if (Files.deleteIfExists(fileFor(key).toPath())) syncDirectory()
        } catch (e: IOException) {
            throw HostException.Failed("cannot delete a stored value")
        }
    }

    /** The file names in use (for tests and diagnostics). */
    @Synchronized
    fun fileNames(): List<String> = directory.list()?.sorted().orEmpty()

    private fun fileFor(key: String): File {
        val name = key.toByteArray(Charsets.UTF_8)
        if (name.isEmpty() || name.size > MAX_KEY_BYTES) throw HostException.Failed("storage key of unsupported length")
        return File(directory, "v1-" + name.joinToString("") { "%02x".format(it) } + ".bin")
    }

    private fun associatedData(key: String): ByteArray = HEADER + key.toByteArray(Charsets.UTF_8)

    /** Makes the rename durable (best effort where directories cannot be opened). */
    private fun syncDirectory() {
        try {
            FileChannel.open(directory.toPath(), StandardOpenOption.READ).use { it.force(true) }
        } catch (_: IOException) {
        } catch (_: UnsupportedOperationException) {
        }
    }

    private companion object {
        val HEADER = byteArrayOf('D'.code.toByte(), 'O'.code.toByte(), 'S'.code.toByte(), 'F'.code.toByte(), 1)
        const val TEMP_MARK = ".tmp-"
        const val MAX_KEY_BYTES = 100
    }
}
