package org.digitalotp

/**
 * A bank for the app-side tests (the Kotlin twin of `tests/common/bank.rs`): an in-memory
 * [Issuer] with a fresh master key and one institution; customers are registered on
 * demand (individual, domestic, phone 010-1234-5678, the number the tests' app uses),
 * codes are issued non-face-to-face, the app's registration and unlock messages are
 * answered on the `mobile-app` channel, and verification goes by customer, as a bank's
 * web or app channel does.
 */
class TestBank(val institutionId: String, name: String, clock: Clock) : AutoCloseable {
    val issuer: Issuer = Issuer.inMemory(generateMasterKey(), clock)

    init {
        issuer.addInstitution(ADMIN, institutionId, name)
    }

    /** Registers [customer] if needed and issues an app registration code (`1234-5678-9012`). */
    fun issueRegistrationCode(customer: String): String {
        try {
            issuer.registerCustomer(
                STAFF,
                NewCustomer(
                    institutionId = institutionId,
                    customerId = customer,
                    name = "홍길동",
                    kind = CustomerKind.INDIVIDUAL,
                    residency = Residency.DOMESTIC,
                    phoneNumber = CUSTOMER_PHONE,
                ),
            )
        } catch (_: IssuerException.CustomerExists) {
        }
        return issuer.issueNonFaceToFace(STAFF, institutionId, customer, "kyc-test")
    }

    /**
     * The bank's answer to one of the app's registration messages: to the request, the
     * response; to the confirmation, the outcome.
     */
    fun handleRegistration(message: ByteArray): ByteArray = issuer.handleRegistration(APP_CHANNEL, message)

    /** The bank's answer to the app's unlock request (every code needs one; the bank counts the guess). */
    fun handleUnlock(request: ByteArray): ByteArray = issuer.handleUnlock(APP_CHANNEL, request)

    /** The password guesses the bank evaluated (the `ok` entries of its `unlock` audit). */
    fun evaluations(): Int = issuer.audit(AuditFilter(action = "unlock")).count { it.outcome == "ok" }

    /** Whether [customer]'s current OTP at this bank accepts the login [code]. */
    fun verifyLogin(customer: String, code: String): Boolean =
        issuer.verifyLogin("web", institutionId, customer, code) == Verification.ACCEPTED

    /** Whether [customer]'s current OTP at this bank accepts [code] for exactly [transaction]. */
    fun verifyTransaction(customer: String, code: String, transaction: Transaction): Boolean =
        issuer.verifyTransaction("web", institutionId, customer, code, transaction) == Verification.ACCEPTED

    /** The staff view of the mobile OTP [serial], or null if the bank has none by that serial. */
    fun device(serial: String): DeviceReport? = try {
        issuer.deviceInquiry(STAFF, institutionId, MOBILE_VENDOR, serial)
    } catch (_: IssuerException.UnknownDevice) {
        null
    }

    /** The state of the mobile OTP [serial]'s latest registration at this bank (PENDING, ACTIVE, REVOKED…). */
    fun registrationState(serial: String): RegistrationState? = device(serial)?.registrations?.last()?.state

    /** The serial of [customer]'s current (pending or active) OTP at this bank, or null. */
    fun serialOf(customer: String): String? =
        issuer.customerInquiry(STAFF, institutionId, customer).devices.firstOrNull { d ->
            d.registrations.any { it.customerId == customer && it.institutionId == institutionId && it.isCurrent() }
        }?.serialNumber

    override fun close() = issuer.close()

    companion object {
        /** Vendor code of the SDK's mobile OTPs. */
        const val MOBILE_VENDOR = "DOTP"
        /** The phone number on record for every customer, as the app's [DeviceInfo] gives it. */
        const val CUSTOMER_PHONE = "010-1234-5678"
        /** The channel the app's messages come in by. */
        const val APP_CHANNEL = "mobile-app"
        private const val ADMIN = "test-admin"
        private const val STAFF = "test-staff"

        private fun Registration.isCurrent() =
            state == RegistrationState.PENDING || state == RegistrationState.ACTIVE
    }
}
