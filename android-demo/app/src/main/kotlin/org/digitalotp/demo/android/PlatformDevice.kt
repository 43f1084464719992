package org.digitalotp.demo.android

import android.Manifest
import android.annotation.SuppressLint
import android.content.Context
import android.content.pm.PackageManager
import android.provider.Settings
import android.telephony.TelephonyManager

/** The phone number and device id the OTP is bound to, as the platform gives them. */
object PlatformDevice {
    /** The runtime permission the line number needs (Android 8+). */
    const val PHONE_NUMBER_PERMISSION = Manifest.permission.READ_PHONE_NUMBERS

    fun mayReadLineNumber(context: Context): Boolean =
        context.checkSelfPermission(PHONE_NUMBER_PERMISSION) == PackageManager.PERMISSION_GRANTED

    /**
     * The SIM's line number, or null: permission refused, no SIM, or (often) a SIM that
     * does not carry its number. The flow then asks the customer to type it.
     */
    @SuppressLint("MissingPermission", "HardwareIds")
    fun lineNumber(context: Context): String? {
        if (!mayReadLineNumber(context)) return null
        val telephony = context.getSystemService(TelephonyManager::class.java) ?: return null
        return try {
            @Suppress("DEPRECATION") // SubscriptionManager.getPhoneNumber on Android 13+ needs a subscription id; same source.
            telephony.line1Number?.takeIf { it.isNotBlank() }
        } catch (_: SecurityException) {
            null
        }
    }

    /**
     * `Settings.Secure.ANDROID_ID`: on Android 8+ unique per app signing key, user and
     * device, and reset by a factory reset. The SDK stores only a salted hash of it.
     */
    @SuppressLint("HardwareIds")
    fun deviceId(context: Context): String =
        Settings.Secure.getString(context.contentResolver, Settings.Secure.ANDROID_ID)
            ?.takeIf { it.isNotBlank() }
            ?: error("the platform gave no ANDROID_ID")
}
