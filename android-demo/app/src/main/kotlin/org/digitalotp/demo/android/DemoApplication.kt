package org.digitalotp.demo.android

import android.app.Application
import android.content.pm.PackageManager
import android.os.Build
import android.os.Bundle
import android.os.Handler
import android.os.Looper
import org.digitalotp.DigitalOtp
import org.digitalotp.demo.fakebank.FakeInProcessBank
import org.digitalotp.demo.flow.AesGcmValueCipher
import org.digitalotp.demo.flow.BankApi
import org.digitalotp.demo.flow.FlowConfig
import org.digitalotp.demo.flow.FlowRunner
import org.digitalotp.demo.flow.OtpFlow
import org.digitalotp.demo.flow.SealedFileStore
import org.digitalotp.demo.flow.WallClock
import org.digitalotp.demo.servicebank.ServiceBankApi
import org.digitalotp.demo.servicebank.ServiceBankSettings
import java.io.File
import java.util.concurrent.Executor

/**
 * Wires the app once per process: the sealed store (AndroidKeyStore key, files in
 * `noBackupFilesDir`), the device keys (AndroidKeyStore P-256 signing keys), the SDK, the
 * bank, and the flow with its background runner. The
 * flow outlives activities, so a rotation or a return from the background finds the
 * screen where it was.
 *
 * DEMO ONLY, the bank ([bank]): with an issuer service configured at build time (Gradle
 * properties → the manifest's `<meta-data>`, [ServiceBankSettings], README.md), the
 * service over HTTP through [ServiceBankApi], which plays the bank's backend with a
 * channel key a real app never holds; otherwise the in-process fake bank, labelled as a
 * preview. A real app has neither: its BankApi talks to its own backend.
 */
class DemoApplication : Application() {
    lateinit var runner: FlowRunner
        private set

    /** DEMO ONLY: the bank the demo runs against, for the screens' label and demo buttons. */
    lateinit var bank: DemoBank
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

        // DEMO ONLY: replace with your BankApi over the bank's own backend, and drop the
        // fakebank and servicebank modules.
        val demoBank = when (val choice = ServiceBankSettings.choose(manifestMetaData()::getString)) {
            is ServiceBankSettings.Choice.Service -> DemoBank.Service(choice.settings, choice.api)
            is ServiceBankSettings.Choice.Preview ->
                DemoBank.Preview(FakeInProcessBank.persistent(File(noBackupFilesDir, "fake-bank"), WallClock), choice.reason)
        }
        bank = demoBank

        val main = Handler(Looper.getMainLooper())
        // A real app: its own institution id (the one its credentials carry).
        runner = FlowRunner(OtpFlow(otp, demoBank.api, WallClock, FlowConfig(demoBank.institutionId)), Executor { main.post(it) })
    }

    /** The application's `<meta-data>` (AndroidManifest.xml), empty when it has none. */
    private fun manifestMetaData(): Bundle {
        val info = if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.TIRAMISU) {
            packageManager.getApplicationInfo(packageName, PackageManager.ApplicationInfoFlags.of(PackageManager.GET_META_DATA.toLong()))
        } else {
            @Suppress("DEPRECATION")
            packageManager.getApplicationInfo(packageName, PackageManager.GET_META_DATA)
        }
        return info.metaData ?: Bundle()
    }

    private companion object {
        const val KEY_ALIAS = "digital-otp-store"
    }
}

/** DEMO ONLY: the bank the demo app was built to talk to. */
sealed interface DemoBank {
    /** What the flow calls. */
    val api: BankApi

    /** The institution the flow uses (FlowConfig). */
    val institutionId: String

    /** One line at the top of every screen: which bank this is. */
    val label: String

    /** `dotp issuer serve` over HTTP, as configured at build time. */
    class Service(val settings: ServiceBankSettings, override val api: ServiceBankApi) : DemoBank {
        override val institutionId: String get() = settings.institution
        override val label: String
            get() = "DEMO: issuer service ${settings.url}, institution ${settings.institution}, customer ${settings.customer} (the app holds a channel key: never in a real app)"
    }

    /** The in-process fake bank: for trying the screens only. */
    class Preview(val fake: FakeInProcessBank, val reason: String) : DemoBank {
        override val api: BankApi get() = fake
        override val institutionId: String get() = fake.institutionId
        override val label: String get() = "PREVIEW ($reason): the bank is a fake inside the app"
    }
}
