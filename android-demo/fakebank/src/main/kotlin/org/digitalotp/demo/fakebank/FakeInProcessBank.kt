package org.digitalotp.demo.fakebank

import org.digitalotp.Clock
import org.digitalotp.CustomerKind
import org.digitalotp.DeviceInfo
import org.digitalotp.Issuer
import org.digitalotp.IssuerException
import org.digitalotp.NewCustomer
import org.digitalotp.Residency
import org.digitalotp.Transaction
import org.digitalotp.Verification
import org.digitalotp.demo.flow.BankApi
import org.digitalotp.generateMasterKey
import org.digitalotp.mobileVendorCode
import java.io.File
import java.nio.file.Files
import java.nio.file.StandardCopyOption

/**
 * ============================  DEMO ONLY — DO NOT SHIP  ============================
 *
 * A fake bank that runs the SDK's issuer *inside the app process*, so the demo's screens
 * can be tried without a server. A real bank app implements [BankApi] over its own server
 * (which runs the issuer, or the bank's OTP centre), removes this module, and builds the
 * native library WITHOUT the `issuer` feature. Everything here defeats the design's point:
 * the bank's seeds, master key and verification would all sit on the customer's phone.
 *
 * The fake has one institution ([institutionId]) and creates a customer per phone number
 * when it issues a registration code (non-face-to-face, as after an online identity
 * check). It finds the customer of a credential by its serial number, so the app needs
 * to tell it nothing else.
 */
class FakeInProcessBank(
    private val issuer: Issuer,
    override val institutionId: String = "demo-bank",
    institutionName: String = "Demo Bank",
) : BankApi, AutoCloseable {
    init {
        issuer.addInstitution(STAFF, institutionId, institutionName)
    }

    /**
     * DEMO: what the bank's branch or web site would hand the customer: a new app
     * registration code (`1234-5678-9012`, valid 10 minutes) for the customer with
     * [phoneNumber], created on first use.
     */
    fun issueRegistrationCode(phoneNumber: String): String {
        val e164 = DeviceInfo(phoneNumber, "fake-bank").use { it.phoneNumberE164() }
        val customer = "demo-customer-" + e164.filter(Char::isDigit)
        try {
            issuer.registerCustomer(
                STAFF,
                NewCustomer(institutionId, customer, "Demo Customer", CustomerKind.INDIVIDUAL, Residency.DOMESTIC, e164),
            )
        } catch (_: IssuerException.CustomerExists) {
        }
        return issuer.issueNonFaceToFace(STAFF, institutionId, customer, "demo-identity-check")
    }

    override fun register(request: ByteArray): ByteArray = issuer.handleRegistration(CHANNEL, request)

    override fun activate(serialNumber: String, firstCode: String): Boolean = verifyLogin(serialNumber, firstCode)

    /** DEMO: whether the bank accepts [code] as a login of the OTP [serialNumber] (a code is accepted once). */
    fun verifyLogin(serialNumber: String, code: String): Boolean {
        val customer = customerOf(serialNumber) ?: return false
        return issuer.verifyLogin(CHANNEL, institutionId, customer, code) == Verification.ACCEPTED
    }

    /** DEMO: whether the bank accepts [code] for exactly [transaction]. */
    fun verifyTransfer(serialNumber: String, code: String, transaction: Transaction): Boolean {
        val customer = customerOf(serialNumber) ?: return false
        return issuer.verifyTransaction(CHANNEL, institutionId, customer, code, transaction) == Verification.ACCEPTED
    }

    private fun customerOf(serialNumber: String): String? = try {
        issuer.deviceInquiry(STAFF, institutionId, mobileVendorCode(), serialNumber)
            .registrations.lastOrNull { it.institutionId == institutionId }?.customerId
    } catch (_: IssuerException) {
        null
    }

    override fun close() = issuer.close()

    companion object {
        private const val STAFF = "demo-staff"
        private const val CHANNEL = "demo-app"

        /** DEMO: a fake bank that forgets everything when the process ends (tests). */
        fun inMemory(clock: Clock? = null): FakeInProcessBank = FakeInProcessBank(Issuer.inMemory(generateMasterKey(), clock))

        /**
         * DEMO: a fake bank kept in SQLite under [directory], so it survives app restarts.
         * Its master key is kept in a plain file next to the database — acceptable only
         * because this bank is fake.
         */
        fun persistent(directory: File, clock: Clock? = null): FakeInProcessBank {
            directory.mkdirs()
            val keyFile = File(directory, "fake-bank-master-key.hex")
            if (!keyFile.exists()) {
                val temp = File(directory, keyFile.name + ".tmp")
                temp.writeText(generateMasterKey())
                Files.move(temp.toPath(), keyFile.toPath(), StandardCopyOption.ATOMIC_MOVE)
            }
            val issuer = Issuer.openSqlite(File(directory, "fake-bank.db").path, keyFile.readText().trim(), clock)
            return FakeInProcessBank(issuer)
        }
    }
}
