package org.digitalotp.demo.android

import android.app.Application
import android.os.Handler
import android.os.Looper
import org.digitalotp.DigitalOtp
import org.digitalotp.demo.fakebank.FakeInProcessBank
import org.digitalotp.demo.flow.AesGcmValueCipher
import org.digitalotp.demo.flow.FlowConfig
import org.digitalotp.demo.flow.FlowRunner
import org.digitalotp.demo.flow.OtpFlow
import org.digitalotp.demo.flow.SealedFileStore
import org.digitalotp.demo.flow.WallClock
import java.io.File
import java.util.concurrent.Executor

/**
 * Wires the app once per process: the sealed store (AndroidKeyStore key, files in
 * `noBackupFilesDir`), the device keys (AndroidKeyStore P-256 signing keys), the SDK, the
 * bank, and the flow with its background runner. The
 * flow outlives activities, so a rotation or a return from the background finds the
 * screen where it was.
 */
class DemoApplication : Application() {
    lateinit var runner: FlowRunner
        private set

    /** DEMO ONLY: the in-process fake bank (null in a real app, whose BankApi talks to its server). */
    var fakeBank: FakeInProcessBank? = null
        private set

    override fun onCreate() {
        super.onCreate()
        val key by lazy { KeystoreKey.getOrCreate(KEY_ALIAS) }
        val store = SealedFileStore(File(noBackupFilesDir, "digital-otp"), AesGcmValueCipher { key })
        // The credentials' signing keys: P-256 in the Android Keystore (StrongBox when present),
        // with their attestation chains for the bank. A bank that wants biometric unlock passes
        // requireUserAuthentication = true and an authorizer that shows a BiometricPrompt; a real
        // app also passes integrityTokenFor, which requests a Play Integrity token with the
        // challenge as its nonce (see KeystoreDeviceKeys.integrityToken).
        val keys = KeystoreDeviceKeys(this)
        val otp = DigitalOtp(store, keys)

        // DEMO ONLY: replace with your BankApi over the bank's server, and drop the fakebank module.
        val bank = FakeInProcessBank.persistent(File(noBackupFilesDir, "fake-bank"), WallClock)
        fakeBank = bank

        val main = Handler(Looper.getMainLooper())
        // A real app: its own institution id (the one its credentials carry), not the fake's.
        runner = FlowRunner(OtpFlow(otp, bank, WallClock, FlowConfig(bank.institutionId)), Executor { main.post(it) })
    }

    private companion object {
        const val KEY_ALIAS = "digital-otp-store"
    }
}
