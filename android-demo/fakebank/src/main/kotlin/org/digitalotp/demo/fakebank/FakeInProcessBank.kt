package org.digitalotp.demo.fakebank

import org.digitalotp.AttestationPolicy
import org.digitalotp.AuditFilter
import org.digitalotp.Clock
import org.digitalotp.CustomerKind
import org.digitalotp.DeviceInfo
import org.digitalotp.Issuer
import org.digitalotp.IssuerException
import org.digitalotp.NewCustomer
import org.digitalotp.RegistrationState
import org.digitalotp.Requirement
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
 * check). It answers the app's registration messages with [Issuer.handleRegistration] and
 * its unlock requests with [Issuer.handleUnlock] (where the bank counts the password
 * guesses), and verifies codes with the issuer ([Issuer.verifyLogin],
 * [Issuer.verifyTransaction]), finding the customer of a credential by its serial number
 * (a real bank knows the customer from its login session). The Android twin of the iOS
 * demo's `FakeBankApi`.
 *
 * Key attestation: the fake checks the device key's evidence under [attestation], by
 * default `WARN` with no trust anchors: every key is accepted and recorded as not
 * attested ([registrationRecord]). A real bank's server sets `REQUIRE` with Google's
 * hardware attestation roots (`androidRoots`), its app's package (`androidPackages`) and,
 * with an `IntegrityVerifier`, a passing Play Integrity verdict.
 */
class FakeInProcessBank(
    private val issuer: Issuer,
    /** The institution it serves (added, or renamed, when the fake is made); give it to the flow's [org.digitalotp.demo.flow.FlowConfig]. */
    val institutionId: String = DEMO_INSTITUTION_ID,
    institutionName: String = DEMO_INSTITUTION_NAME,
    /** What it asks of the device keys' attestation (see the class comment). */
    attestation: AttestationPolicy = AttestationPolicy(requirement = Requirement.WARN),
) : BankApi, AutoCloseable {
    init {
        issuer.addInstitution(STAFF, institutionId, institutionName)
        issuer.setAttestationPolicy(STAFF, institutionId, attestation, false)
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

    /**
     * The issuer's answer to one of the app's registration messages: to the request, the
     * response (a wrong, expired or used code gets one too, which fails on the phone); to
     * the confirmation, the outcome (registered, or refused).
     */
    override fun registrationMessage(message: ByteArray): ByteArray = issuer.handleRegistration(CHANNEL, message)

    /**
     * The issuer's answer to the app's unlock request: the evaluation of the password's
     * OPRF after counting the guess, or a refusal (locked after five wrong passwords,
     * cancelled, lost, stale).
     */
    override fun unlock(request: ByteArray): ByteArray = issuer.handleUnlock(CHANNEL, request)

    /**
     * DEMO: what the fake bank recorded when it registered the OTP [serialNumber] (the
     * customer, and whether its device key was attested and where: `device key attested
     * (StrongBox)`, `device key not attested`), or null for an unknown serial number.
     */
    fun registrationRecord(serialNumber: String): String? =
        issuer.audit(AuditFilter(action = "register_mobile_otp", subject = "device:${mobileVendorCode()}:$serialNumber"))
            .firstOrNull { it.outcome == "ok" }
            ?.detail

    /**
     * DEMO: the fake bank's record of every unlock request of the OTP [serialNumber], newest
     * first: each evaluation with the wrong passwords it still allows, and the refusals.
     */
    fun unlockRecords(serialNumber: String): List<String> =
        issuer.audit(AuditFilter(action = "unlock", subject = "device:${mobileVendorCode()}:$serialNumber")).map { it.detail }

    /**
     * Whether the issuer accepts [code] as a login of the OTP [serialNumber] at
     * [institutionId]. A code is accepted once; the first accepted one activates a pending
     * registration. An unknown serial number or institution is a refusal.
     */
    override fun verifyLogin(institutionId: String, serialNumber: String, code: String): Boolean {
        val customer = customerOf(serialNumber, institutionId) ?: return false
        return issuer.verifyLogin(CHANNEL, institutionId, customer, code) == Verification.ACCEPTED
    }

    /**
     * Whether the issuer accepts [code] for exactly [transaction] (amount, currency and
     * payee as the code was made for) from the OTP [serialNumber] at [institutionId].
     */
    override fun verifyTransfer(institutionId: String, serialNumber: String, code: String, transaction: Transaction): Boolean {
        val customer = customerOf(serialNumber, institutionId) ?: return false
        return issuer.verifyTransaction(CHANNEL, institutionId, customer, code, transaction) == Verification.ACCEPTED
    }

    /**
     * The customer whose current (pending or active) registration at [institutionId] is the
     * mobile OTP [serialNumber], or null.
     */
    private fun customerOf(serialNumber: String, institutionId: String): String? = try {
        issuer.deviceInquiry(CHANNEL, institutionId, mobileVendorCode(), serialNumber)
            .registrations
            .lastOrNull {
                it.institutionId == institutionId &&
                    (it.state == RegistrationState.PENDING || it.state == RegistrationState.ACTIVE)
            }
            ?.customerId
    } catch (_: IssuerException.UnknownDevice) {
        null
    } catch (_: IssuerException.UnknownInstitution) {
        null
    }

    override fun close() = issuer.close()

    companion object {
        /** The demo bank's institution id. */
        const val DEMO_INSTITUTION_ID = "demo-bank"

        /** Its display name. */
        const val DEMO_INSTITUTION_NAME = "Demo Bank"

        private const val STAFF = "demo-staff"
        private const val CHANNEL = "demo-app"

        /** DEMO: a fake bank that forgets everything when the process ends (tests). */
        fun inMemory(
            clock: Clock? = null,
            attestation: AttestationPolicy = AttestationPolicy(requirement = Requirement.WARN),
        ): FakeInProcessBank = FakeInProcessBank(Issuer.inMemory(generateMasterKey(), clock), attestation = attestation)

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
