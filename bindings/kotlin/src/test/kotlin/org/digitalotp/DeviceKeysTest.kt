package org.digitalotp

import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.security.KeyFactory
import java.security.Signature
import java.security.spec.X509EncodedKeySpec
import java.util.Base64
import java.util.concurrent.CopyOnWriteArrayList

private const val T0 = 1_800_000_000L
private const val PHONE = "010-1234-5678"
private const val DEVICE_ID = "android-id-1"
private const val PASSWORD = "482915"
private const val OTHER_PASSWORD = "730264"
private const val WRONG_PASSWORD = "000001"
private const val CUSTOMER = "customer-1"
private const val OFFICER = "security-officer"
private const val KEY_ALIAS_PREFIX = "digital-otp.v2.key."

/**
 * The bank's decoder of Play Integrity tokens, written in Kotlin. The tests' "tokens" are
 * `nonce-base64:device:app` with `device`/`app` either `ok` or `no`; a real bank calls
 * Google's `decodeIntegrityToken` here.
 */
private class FakeIntegrityVerifier : IntegrityVerifier {
    val decoded = CopyOnWriteArrayList<String>()

    override fun decode(token: String): IntegrityVerdict {
        decoded += token
        val parts = token.split(':')
        if (parts.size != 3) throw HostException.Failed("not a token")
        return IntegrityVerdict(Base64.getDecoder().decode(parts[0]), parts[1] == "ok", parts[2] == "ok")
    }

    companion object {
        fun token(nonce: ByteArray, device: Boolean = true, app: Boolean = true): String =
            Base64.getEncoder().encodeToString(nonce) + ":" + (if (device) "ok" else "no") + ":" + (if (app) "ok" else "no")
    }
}

/**
 * The `DeviceKeys` foreign trait implemented in Kotlin ([JcaDeviceKeys]: JDK P-256 keys,
 * SPKI → 65-byte point, DER `SHA256withECDSA`, the shape of the Android demo's Keystore
 * implementation) and the platform evidence it returns, passed through to the bank's
 * attestation policy: generated Android Key Attestation chains under a test root
 * ([TestAttestationRoot]), Play Integrity tokens decoded by a Kotlin [IntegrityVerifier].
 * Mirrors the attestation attack of `tests/attacks.rs`.
 */
class DeviceKeysTest {
    private val clock = TestClock(T0)
    private val integrity = FakeIntegrityVerifier()
    private val issuer = Issuer.inMemory(generateMasterKey(), clock, null, integrity)
    private val store = TestStore()
    private val keys = JcaDeviceKeys()
    private val app = DigitalOtp.withClock(store, keys, clock)
    private val phone = DeviceInfo(PHONE, DEVICE_ID)
    private val root = TestAttestationRoot()

    init {
        for ((id, name) in listOf("bank-a" to "Bank A", "bank-b" to "Bank B")) {
            issuer.addInstitution("test-admin", id, name)
            issuer.registerCustomer("test-staff", NewCustomer(id, CUSTOMER, "홍길동", CustomerKind.INDIVIDUAL, Residency.DOMESTIC, PHONE))
        }
    }

    @AfterEach
    fun close() {
        app.close()
        phone.close()
        issuer.close()
    }

    private fun code(institutionId: String = "bank-a"): String =
        issuer.issueNonFaceToFace("test-staff", institutionId, CUSTOMER, "kyc-test")

    private fun register(code: String = code(), institutionId: String = "bank-a", password: String = PASSWORD): CredentialInfo =
        app.registerAt(issuer, institutionId, code, phone, password)

    /** The request, the response, the confirmation (the outcome is left to the caller). */
    private fun confirm(code: String, institutionId: String = "bank-a", on: DigitalOtp = app): ByteArray =
        on.confirmRegistration(issuer.handleRegistration(TestBank.APP_CHANNEL, on.beginRegistration(institutionId, code, phone, PASSWORD)))

    private fun login(password: String = PASSWORD, on: DigitalOtp = app, institutionId: String = "bank-a"): LoginCode =
        on.loginCodeAt(issuer, institutionId, password, phone)

    private fun verify(code: String, institutionId: String = "bank-a"): Boolean =
        issuer.verifyLogin("web", institutionId, CUSTOMER, code) == Verification.ACCEPTED

    private fun require(roots: List<ByteArray> = listOf(root.der), integrity: Boolean = false, institutionId: String = "bank-a") =
        issuer.setAttestationPolicy(
            OFFICER,
            institutionId,
            AttestationPolicy(requirement = Requirement.REQUIRE, androidRoots = roots, androidPackages = listOf(TestAttestationRoot.TEST_PACKAGE)),
            integrity,
        )

    private fun registrations(): List<AuditRecord> = issuer.audit(AuditFilter(action = "register_mobile_otp"))

    private fun evaluations(): Int = issuer.audit(AuditFilter(action = "unlock")).count { it.outcome == "ok" }

    private fun serialOf(institutionId: String = "bank-a"): String? =
        issuer.customerInquiry("test-staff", institutionId, CUSTOMER).devices.firstOrNull { d ->
            d.registrations.any { it.state == RegistrationState.PENDING || it.state == RegistrationState.ACTIVE }
        }?.serialNumber

    // --- what the SDK asks of the platform ------------------------------------------------------

    @Test
    fun `one P-256 key per credential, made with a 32-byte challenge, signs the confirmation and every unlock, and goes with its credential`() {
        val info = register()
        val (alias, challenge) = keys.created.single()
        assertTrue(alias.startsWith(KEY_ALIAS_PREFIX), alias)
        assertEquals(32, challenge.size)
        assertEquals(listOf(alias), keys.signed, "the confirmation is signed")
        assertEquals(listOf(alias), keys.aliases())
        assertTrue(store.keys().none { it.contains(alias) }, "the key is in the platform, not in the store: ${store.keys()}")
        assertTrue(store.keys("digital-otp.v2.software-key.").isEmpty())

        // Every code is an unlock signed by the device key; the bank checks the signature.
        val login = login()
        assertEquals(info.serialNumber, login.serialNumber)
        assertTrue(verify(login.code))
        clock.advance(30)
        app.transactionCodeAt(issuer, "bank-a", PASSWORD, phone, Transaction(10_000uL, "KRW", "110-123-456789", "홍길동"))
        app.changePasswordAt(issuer, "bank-a", PASSWORD, OTHER_PASSWORD, phone)
        assertOtpFailsWrongPassword { login(PASSWORD) }
        assertEquals(List(5) { alias }, keys.signed, "the confirmation, then one signature per unlock request")

        // Another bank: another key, another challenge.
        register(code("bank-b"), "bank-b")
        val (aliasB, challengeB) = keys.created.last()
        assertNotEquals(alias, aliasB)
        assertFalse(challenge.contentEquals(challengeB))
        assertEquals(listOf(alias, aliasB).sorted(), keys.aliases())

        // Cancelling a credential deletes its key; resetAll deletes them all.
        app.cancel("bank-a")
        assertTrue(alias in keys.deleted)
        assertEquals(listOf(aliasB), keys.aliases())
        app.resetAll()
        assertEquals(emptyList<String>(), keys.aliases())
        assertTrue(store.isEmpty(), "${store.keys()}")
    }

    @Test
    fun `the device key's signature is what the bank verifies - the same store with another phone's key under the alias gets no evaluation`() {
        register()
        val alias = keys.aliases().single()
        // What the SDK signs verifies under the public key it registered (DER SHA256withECDSA).
        val publicKey = KeyFactory.getInstance("EC").generatePublic(X509EncodedKeySpec(P256_SPKI_HEADER + keys.publicKey(alias)!!))
        val message = "a message".toByteArray()
        val signature = keys.sign(alias, message)
        assertTrue(Signature.getInstance("SHA256withECDSA").run { initVerify(publicKey); update(message); verify(signature) })

        // A copy of the store on another phone, whose hardware has no such key: no request leaves.
        val copy = store.copy()
        DigitalOtp.withClock(copy, JcaDeviceKeys(), clock).use { elsewhere ->
            val e = assertThrows<DigitalOtpException.KeyStoreFailed> { elsewhere.beginLoginCode("bank-a", PASSWORD, phone) }
            assertTrue(e.reason.contains("no device key"), e.reason)
        }
        // And with another key under the same alias, the bank refuses the request unevaluated:
        // the password is not tried, and nothing counts against the customer.
        keys.replaceKey(alias)
        val request = app.beginLoginCode("bank-a", PASSWORD, phone)
        val answer = issuer.handleUnlock(TestBank.APP_CHANNEL, request)
        assertThrows<DigitalOtpException> { app.completeLoginCode(answer) }
        assertEquals(0, evaluations())
        val refused = issuer.audit(AuditFilter(action = "unlock")).single()
        assertEquals("rejected" to "the device key's signature does not verify", refused.outcome to refused.detail)
        assertEquals(5u, app.credentials(phone).single().attemptsRemaining)
    }

    @Test
    fun `a failing key store is KeyStoreFailed - nothing is stored and nothing is sent or counted`() {
        keys.failCreate = true
        val code = code()
        val e = assertThrows<DigitalOtpException.KeyStoreFailed> { app.beginRegistration("bank-a", code, phone, PASSWORD) }
        assertTrue(e.reason.contains("secure hardware unavailable"), e.reason)
        assertEquals(0, store.writeCalls.get())
        assertThrows<DigitalOtpException.NoRegistrationInProgress> { app.confirmRegistration("{}".toByteArray()) }
        keys.failCreate = false

        // Signing fails at the confirmation: the new key is deleted, no credential kept, and
        // the bank never had a confirmation.
        keys.failSign = true
        val request = app.beginRegistration("bank-a", code, phone, PASSWORD)
        val response = issuer.handleRegistration(TestBank.APP_CHANNEL, request)
        assertThrows<DigitalOtpException.KeyStoreFailed> { app.confirmRegistration(response) }
        assertEquals(emptyList<String>(), keys.aliases())
        assertTrue(store.isEmpty(), "${store.keys()}")
        assertNull(serialOf())
        keys.failSign = false

        // A platform layer that hands back a malformed public key: refused before any request.
        keys.truncatePublicKey = true
        assertThrows<DigitalOtpException.KeyStoreFailed> { app.beginRegistration("bank-a", code, phone, PASSWORD) }
        assertEquals(emptyList<String>(), keys.aliases(), "the key it made is deleted")
        keys.truncatePublicKey = false

        // The same code still registers (the failed confirmation cost one of its five guesses).
        register(code)
        // Signing fails at an unlock (a biometric prompt refused, say): no request, no guess counted.
        keys.failSign = true
        assertThrows<DigitalOtpException.KeyStoreFailed> { app.beginLoginCode("bank-a", WRONG_PASSWORD, phone) }
        keys.failSign = false
        assertThrows<DigitalOtpException.NoCodeInProgress> { app.completeLoginCode("{}".toByteArray()) }
        assertEquals(0, evaluations())
        assertEquals(5u, app.credentials(phone).single().attemptsRemaining)
        assertTrue(verify(login().code))
    }

    // --- the platform's evidence, checked by the bank -------------------------------------------

    @Test
    fun `Android key attestation passes through - a StrongBox or TEE chain from a trusted root registers under REQUIRE, its level audited`() {
        require()
        keys.evidence = { key, challenge -> root.evidence(key, challenge, TestAttestationRoot.STRONG_BOX) }
        val info = register()
        assertEquals(CredentialStatus.PENDING, info.status)
        val done = registrations().first { it.outcome == "ok" && it.subject == "device:DOTP:${info.serialNumber}" }
        assertTrue(done.detail.contains("attested (StrongBox)"), done.detail)
        assertTrue(verify(login().code))

        require(institutionId = "bank-b")
        keys.evidence = { key, challenge -> root.evidence(key, challenge, TestAttestationRoot.TRUSTED_ENVIRONMENT) }
        val infoB = register(code("bank-b"), "bank-b")
        val doneB = registrations().first { it.outcome == "ok" && it.subject == "device:DOTP:${infoB.serialNumber}" }
        assertTrue(doneB.detail.contains("attested (TrustedEnvironment)"), doneB.detail)
    }

    @Test
    fun `under REQUIRE, missing, software, untrusted, foreign, misbound and other-key evidence are each refused - and spend none of the code's guesses`() {
        require()
        val stranger = TestAttestationRoot("Unknown Root")
        val cases: List<Pair<String, (ByteArray, ByteArray) -> KeyEvidence>> = listOf(
            "no key attestation evidence" to { _, _ -> KeyEvidence(EvidenceKind.NONE) },
            "security level is too low" to { k, c -> root.evidence(k, c, TestAttestationRoot.SOFTWARE) },
            "does not end at a trusted root" to { k, c -> stranger.evidence(k, c, TestAttestationRoot.STRONG_BOX) },
            "an app that is not allowed" to { k, c -> root.evidence(k, c, TestAttestationRoot.STRONG_BOX, "org.example.malware") },
            "not bound to this challenge" to { k, _ -> root.evidence(k, ByteArray(32) { 7 }, TestAttestationRoot.STRONG_BOX) },
            "not the expected key" to { _, c -> root.evidence(p256Point(newP256KeyPair().public.encoded), c, TestAttestationRoot.STRONG_BOX) },
            "malformed attestation evidence" to { _, _ -> KeyEvidence(EvidenceKind.ANDROID_KEY_ATTESTATION, listOf("not a certificate".toByteArray())) },
        )
        val code = code()
        for ((why, evidence) in cases) {
            keys.evidence = evidence
            val e = assertThrows<DigitalOtpException.RegistrationRejected>(why) { confirm(code) }
            assertTrue(e.reason.contains("attested hardware"), e.reason)
            val refused = registrations().first()
            assertEquals("rejected", refused.outcome, why)
            assertTrue(refused.detail.startsWith("device key not trusted") && refused.detail.contains(why), "$why: ${refused.detail}")
            assertEquals(emptyList<String>(), keys.aliases(), "$why: the refused key is deleted")
            assertTrue(store.isEmpty(), "$why: ${store.keys()}")
        }
        assertNull(serialOf())
        // Seven refused devices, more than the code's five guesses: the code is intact.
        keys.evidence = { k, c -> root.evidence(k, c, TestAttestationRoot.STRONG_BOX) }
        assertEquals(CredentialStatus.PENDING, register(code).status)
    }

    @Test
    fun `a Play Integrity token passes through to the bank's IntegrityVerifier, which must vouch for the device, the app and the challenge`() {
        require(integrity = true)
        val code = code()
        var withToken: (ByteArray) -> String? = { null }
        keys.evidence = { k, c -> root.evidence(k, c, TestAttestationRoot.STRONG_BOX).copy(integrityToken = withToken(c)) }

        // No token (a real app asks Play Integrity with the challenge as its nonce).
        assertThrows<DigitalOtpException.RegistrationRejected> { confirm(code) }
        assertEquals("no Play Integrity token", registrations().first().detail)
        // A verdict that fails device integrity, the app's recognition, or the nonce.
        for ((token, label) in listOf<Pair<(ByteArray) -> String, String>>(
            { c: ByteArray -> FakeIntegrityVerifier.token(c, device = false) } to "rooted",
            { c: ByteArray -> FakeIntegrityVerifier.token(c, app = false) } to "repackaged",
            { _: ByteArray -> FakeIntegrityVerifier.token(ByteArray(32) { 9 }) } to "another nonce",
        )) {
            withToken = token
            assertThrows<DigitalOtpException.RegistrationRejected>(label) { confirm(code) }
            assertEquals("the Play Integrity verdict does not pass", registrations().first().detail, label)
        }
        // A token the verifier cannot decode.
        withToken = { "garbage" }
        assertThrows<DigitalOtpException.RegistrationRejected> { confirm(code) }
        assertTrue(registrations().first().detail.startsWith("integrity verdict failed"), registrations().first().detail)
        assertEquals(4, integrity.decoded.size, "each token went to the bank's verifier")

        // A passing verdict over the registration's challenge: registered.
        withToken = { c -> FakeIntegrityVerifier.token(c) }
        assertEquals(CredentialStatus.PENDING, register(code).status)
        val (_, challenge) = keys.created.last()
        assertEquals(FakeIntegrityVerifier.token(challenge), integrity.decoded.last())
        assertTrue(verify(login().code))
    }
}

/** Runs [block], which must fail with WrongPassword. */
private fun assertOtpFailsWrongPassword(block: () -> Unit) {
    assertThrows<DigitalOtpException.WrongPassword> { block() }
}
