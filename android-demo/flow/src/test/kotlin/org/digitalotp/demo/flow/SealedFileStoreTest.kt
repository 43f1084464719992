package org.digitalotp.demo.flow

import org.digitalotp.CredentialStatus
import org.digitalotp.DeviceInfo
import org.digitalotp.DigitalOtp
import org.digitalotp.DigitalOtpException
import org.digitalotp.HostException
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import java.io.File
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey

/**
 * The app's store (values sealed with AES-GCM, one file each, atomic writes), with a
 * software AES key standing in for the AndroidKeyStore one; and the SDK running on it.
 */
class SealedFileStoreTest {
    @TempDir
    lateinit var dir: File

    private val key = newKey()

    private fun newKey(): SecretKey = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()

    private fun store(k: SecretKey = key) = SealedFileStore(dir, AesGcmValueCipher { k })

    private fun File.onlyFile(): File = listFiles()!!.single()

    @Test
    fun `values round-trip, are replaced and deleted, a missing key reads null`() {
        val s = store()
        assertNull(s.read("digital-otp.v1.index"))
        s.write("digital-otp.v1.index", byteArrayOf(1, 2, 3))
        assertArrayEquals(byteArrayOf(1, 2, 3), s.read("digital-otp.v1.index"))
        s.write("digital-otp.v1.index", ByteArray(0))
        assertArrayEquals(ByteArray(0), s.read("digital-otp.v1.index"))
        s.write("digital-otp.v1.device-key", ByteArray(1000) { it.toByte() })
        assertEquals(2, s.fileNames().size)
        s.delete("digital-otp.v1.index")
        s.delete("digital-otp.v1.index") // deleting a missing key succeeds
        assertNull(s.read("digital-otp.v1.index"))
        // A new store over the same directory and key reads what was written.
        assertArrayEquals(ByteArray(1000) { it.toByte() }, store().read("digital-otp.v1.device-key"))
    }

    @Test
    fun `files hold ciphertext only, and no temporary file is left behind`() {
        val s = store()
        val secret = "sealed-seed-material-0123456789".toByteArray()
        s.write("digital-otp.v1.credential.abc", secret)
        s.write("digital-otp.v1.credential.abc", secret) // same value twice: a fresh IV each time
        val file = dir.onlyFile()
        assertTrue(file.name.startsWith("v1-") && file.name.endsWith(".bin"), file.name)
        val bytes = file.readBytes()
        assertEquals("DOSF", String(bytes, 0, 4))
        assertFalse(String(bytes, Charsets.ISO_8859_1).contains("sealed-seed"), "plaintext on disk")
        assertEquals(5 + 1 + 12 + secret.size + 16, bytes.size, "header, IV length, IV, ciphertext, tag")
    }

    @Test
    fun `an altered value, a value moved to another key, or another key's value is refused`() {
        val s = store()
        s.write("a", "first".toByteArray())
        s.write("b", "second".toByteArray())
        val fileA = File(dir, "v1-61.bin") // hex of "a"
        val fileB = File(dir, "v1-62.bin")

        // Moved: b's file under a's name.
        val original = fileA.readBytes()
        fileB.copyTo(fileA, overwrite = true)
        assertThrows<HostException.Failed> { s.read("a") }

        // Altered: one bit of the ciphertext.
        fileA.writeBytes(original.copyOf().also { it[it.size - 1] = (it[it.size - 1].toInt() xor 1).toByte() })
        assertThrows<HostException.Failed> { s.read("a") }

        // Truncated, or not a store file.
        fileA.writeBytes(original.copyOf(10))
        assertThrows<HostException.Failed> { s.read("a") }
        fileA.writeBytes("hello".toByteArray())
        assertThrows<HostException.Failed> { s.read("a") }

        // Another keystore key (the app reinstalled, or the key deleted).
        fileA.writeBytes(original)
        assertEquals("first", String(s.read("a")!!))
        assertThrows<HostException.Failed> { store(newKey()).read("a") }
    }

    @Test
    fun `a temporary file left by a crash is ignored and removed on start`() {
        store().write("k", "old".toByteArray())
        val name = dir.onlyFile().name
        File(dir, "$name.tmp-0123456789abcdef").writeBytes("half-written".toByteArray())
        val s = store()
        assertEquals(listOf(name), s.fileNames())
        assertEquals("old", String(s.read("k")!!))
    }

    @Test
    fun `a write into a directory that is gone fails as HostException`() {
        val s = store()
        dir.deleteRecursively()
        assertThrows<HostException.Failed> { s.write("k", byteArrayOf(1)) }
        assertThrows<HostException.Failed> { s.read("x".repeat(101)) }
    }

    @Test
    fun `the SDK on the sealed store - register, restart, codes - another keystore key is a storage failure`() {
        val clock = TestClock()
        TestBank(clock).use { bank ->
            DeviceInfo(PHONE, DEVICE_ID).use { device ->
                val keys = JcaDeviceKeys()
                val serial = DigitalOtp.withClock(store(), keys, clock).use { otp ->
                    val request = otp.beginRegistration(bank.institutionId, bank.issueRegistrationCode(), device, PASSWORD)
                    val confirmation = otp.confirmRegistration(bank.registrationMessage(request))
                    otp.completeRegistration(bank.institutionId, bank.registrationMessage(confirmation)).serialNumber
                }
                assertEquals(3, dir.listFiles()!!.size, "store key, index and one credential (the device key is in the key store)")

                DigitalOtp.withClock(store(), keys, clock).use { otp ->
                    val info = otp.credentials(device).single()
                    assertEquals(serial, info.serialNumber)
                    assertEquals(CredentialStatus.PENDING, info.status)
                    val code = otp.completeLoginCode(bank.unlock(otp.beginLoginCode(bank.institutionId, PASSWORD, device))).code
                    assertTrue(bank.webLogin(code))
                }
                DigitalOtp.withClock(store(newKey()), keys, clock).use { otp ->
                    assertThrows<DigitalOtpException.StorageFailed> { otp.credentials(device) }
                }
            }
        }
    }
}
