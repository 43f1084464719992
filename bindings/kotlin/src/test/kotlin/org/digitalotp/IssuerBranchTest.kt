package org.digitalotp

import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import java.io.File
import java.nio.file.Path
import java.util.concurrent.CopyOnWriteArrayList

private const val T0 = 1_800_000_000L
private const val PHONE = "010-1234-5678"
private const val PHONE_E164 = "+821012345678"
private const val PASSWORD = "482915"
private const val ADMIN = "admin"
private const val STAFF = "branch-001/emp-42"
private const val AUDITOR = "audit-07"
private const val OPS = "ops"
private const val APP_CHANNEL = "mobile-app"
private const val WEB = "web"
private const val DOTP = "DOTP"
private const val VENDOR = "VASCO"
private const val THREE_YEARS = 3 * 365 * 86_400L

/** The bank's SMS gateway, written in Kotlin: it only records what it is asked to send. */
private class RecordingSms : SmsGateway {
    val sent = CopyOnWriteArrayList<Pair<String, String>>()

    override fun send(phoneNumber: String, message: String) {
        sent.add(phoneNumber to message)
    }

    /** The 5-digit verification code of the last message. */
    fun lastCode(): String = Regex("""(?<!\d)\d{5}(?!\d)""").findAll(sent.last().second).single().value
}

/**
 * A customer's phone: the app over a Kotlin store (its device keys in software, in the same
 * store), on the bank's clock, talking to [bank] over the app channel.
 */
private class Phone(clock: Clock, var bank: Issuer) : AutoCloseable {
    val store = TestStore()
    val keys = softwareDeviceKeys(store)
    val app = DigitalOtp.withClock(store, keys, clock)
    val device = DeviceInfo(PHONE, "android-id-1")

    /**
     * Types in [code] and the password, sends the request, checks the bank's response: the
     * confirmation to send (throws RegistrationRejected on a wrong, expired or used code, or
     * an untrusted device key).
     */
    fun confirm(code: String, institutionId: String = "bank-a"): ByteArray =
        app.confirmRegistration(bank.handleRegistration(APP_CHANNEL, app.beginRegistration(institutionId, code, device, PASSWORD)))

    /** The whole registration: request, response, confirmation, outcome. */
    fun register(code: String, institutionId: String = "bank-a"): CredentialInfo =
        app.completeRegistration(institutionId, bank.handleRegistration(APP_CHANNEL, confirm(code, institutionId)))

    /** A login code: one unlock round trip with the bank. */
    fun login(institutionId: String = "bank-a"): LoginCode = app.loginCodeAt(bank, institutionId, PASSWORD, device)

    /** A transaction code for [transaction]: one unlock round trip with the bank. */
    fun transactionCode(transaction: Transaction, institutionId: String = "bank-a"): TransactionCode =
        app.transactionCodeAt(bank, institutionId, PASSWORD, device, transaction)

    override fun close() {
        app.close()
        (keys as? AutoCloseable)?.close()
        device.close()
    }
}

/** Whether [text] holds [code] as a number of its own (not inside a longer run of digits). */
private fun mentions(text: String, code: String): Boolean =
    Regex("(?<![0-9])" + Regex.escape(code) + "(?![0-9])").containsMatchIn(text)

private fun AuditRecord.text() = listOf(institutionId, actor, action, subject, outcome, detail).joinToString(" | ")

/** `verifyAudit` finds the hash chain whole, over every entry the log holds, each chained once. */
private fun assertAuditWhole(issuer: Issuer) {
    val check = issuer.verifyAudit()
    assertEquals(emptyList<String>(), check.faults)
    val records = issuer.audit(AuditFilter())
    assertTrue(records.isNotEmpty())
    assertEquals(records.size.toULong(), check.entries)
    assertTrue(records.all { Regex("[0-9a-f]{64}").matches(it.hash) }, "every entry is chained")
    assertEquals(records.size, records.map { it.hash }.toSet().size)
}

/**
 * The issuer as a bank's branch and back office drive it from the JVM: an SQLite database
 * in a temporary directory, a Kotlin [SmsGateway] and a Kotlin [Clock], the app
 * ([DigitalOtp]) as the customer's phone. Mirrors `tests/issuer.rs`.
 *
 * Institutions: bank A (mobile OTPs), bank B, and bank C (which hands out hardware tokens).
 * Customers: kim at all three (individual, domestic), acme (a corporation) and smith
 * (foreign) at bank A.
 */
class IssuerBranchTest {
    @TempDir
    lateinit var dir: Path

    private val clock = TestClock(T0)
    private val sms = RecordingSms()
    private val masterKey = generateMasterKey()
    private lateinit var bank: Issuer
    private val closeables = mutableListOf<AutoCloseable>()

    private val dbPath: String get() = dir.resolve("issuer.db").toString()

    @BeforeEach
    fun openBank() {
        bank = Issuer.openSqlite(dbPath, masterKey, clock, sms)
        for ((id, name) in listOf("bank-a" to "Bank A", "bank-b" to "Bank B", "bank-c" to "Bank C")) {
            bank.addInstitution(ADMIN, id, name)
        }
        customer("bank-a", "kim")
        customer("bank-b", "kim")
        customer("bank-c", "kim")
        customer("bank-a", "acme", kind = CustomerKind.CORPORATION)
        customer("bank-a", "smith", residency = Residency.FOREIGN)
    }

    @AfterEach
    fun closeBank() {
        closeables.asReversed().forEach { it.close() }
        bank.close()
    }

    private fun customer(
        institutionId: String,
        customerId: String,
        kind: CustomerKind = CustomerKind.INDIVIDUAL,
        residency: Residency = Residency.DOMESTIC,
    ) = bank.registerCustomer(STAFF, NewCustomer(institutionId, customerId, "홍길동", kind, residency, PHONE))

    private fun phone(): Phone = Phone(clock, bank).also { closeables += it }

    /** The app's whole registration with [code]: two round trips with the bank. */
    private fun register(phone: Phone, code: String): CredentialInfo = phone.register(code)

    private fun verify(code: String, institutionId: String = "bank-a", customerId: String = "kim"): Verification =
        bank.verifyLogin(WEB, institutionId, customerId, code)

    private fun device(serial: String, vendor: String = DOTP, institutionId: String = "bank-a"): DeviceReport =
        bank.deviceInquiry(STAFF, institutionId, vendor, serial)

    /** The detail of the newest audit record of [action]. */
    private fun lastDetail(action: String): String = bank.audit(AuditFilter(action = action, limit = 1u)).single().detail

    /** Imports a hardware TOTP token (SHA-1, 6 digits, 30 s) with the RFC 6238 seed; returns the token. */
    private fun importToken(serial: String, validUntil: Long = T0 + THREE_YEARS): Totp =
        OtpSecret.fromHex(RFC_SEED_HEX).use { secret ->
            bank.importDevice(OPS, ImportedDevice(VENDOR, serial, secret, HashAlgorithm.SHA1, 6u, 30uL, validUntil.toULong()))
            Totp(secret, HashAlgorithm.SHA1, 6u, 30uL, 0uL).also { closeables += it }
        }

    private fun Totp.now(): String = codeAt(clock.seconds.toULong()).code

    /** A 6-digit code the token does not show in the verification window (one step either side). */
    private fun Totp.wrong(): String {
        val step = timeStep(clock.seconds.toULong())
        val valid = (step - 1uL..step + 1uL).map { codeForStep(it) }
        return listOf("000000", "111111", "222222", "333333").first { it !in valid }
    }

    // --- the issue's scenario, end to end ---------------------------------------------------

    @Test
    fun `a branch scenario - face to face, app registration, activation, lock and reset, loss and recovery, another institution's token`() {
        // Face to face: a 5-digit code goes by SMS to the number on record; the customer shows it.
        bank.startFaceToFace(STAFF, "bank-a", "kim")
        assertEquals(PHONE_E164, sms.sent.single().first)
        val shown = sms.lastCode()
        val wrongShown = if (shown == "00000") "11111" else "00000"
        val e = assertThrows<IssuerException.WrongVerificationCode> { bank.confirmFaceToFace(STAFF, "bank-a", "kim", wrongShown) }
        assertEquals(4u, e.attemptsRemaining)
        val code = bank.confirmFaceToFace(STAFF, "bank-a", "kim", shown)
        assertTrue(Regex("""\d{4}-\d{4}-\d{4}""").matches(code), code)
        checkRegistrationCode(code)
        assertThrows<IssuerException.NoVerificationPending> { bank.confirmFaceToFace(STAFF, "bank-a", "kim", shown) }

        // The customer's app registers with the code.
        val phone = phone()
        val info = register(phone, code)
        assertEquals(CredentialStatus.PENDING, info.status)
        assertEquals("bank-a", info.institutionId)
        assertEquals("Bank A", info.institutionName)
        val serial = info.serialNumber
        var d = device(serial)
        assertEquals(DeviceKind.MOBILE, d.kind)
        assertEquals(DeviceState.ACTIVE, d.state)
        assertEquals(info.validUntil, d.validUntil)
        val registration = d.registrations.single()
        assertEquals(Triple("bank-a", "kim", RegistrationState.PENDING), Triple(registration.institutionId, registration.customerId, registration.state))

        // Activation with the first login code; then the same code again is a replay.
        val first = phone.login()
        assertEquals(Verification.ACCEPTED, verify(first.code))
        assertEquals(RegistrationState.ACTIVE, device(serial).registrations.single().state)
        phone.app.confirmActivation("bank-a")
        assertEquals(Verification.REJECTED, verify(first.code), "replay")
        d = device(serial)
        assertEquals(0u, d.errorCount, "a replay is not counted")
        assertTrue(d.history.any { it.detail == "code already used" })

        // Ten wrong codes lock the device; then even the right code is refused. (The code is
        // made first: every code needs the bank's unlock, and the phone's password is right.)
        clock.advance(30)
        val right = phone.login()
        val wrongCode = ((right.code.toInt() + 1) % 1_000_000).toString().padStart(6, '0')
        repeat(10) { assertEquals(Verification.REJECTED, verify(wrongCode)) }
        d = device(serial)
        assertEquals(DeviceState.LOCKED, d.state)
        assertEquals(10u, d.errorCount)
        assertEquals(Verification.REJECTED, verify(right.code), "locked")
        assertEquals("device locked (error count)", lastDetail("verify_login"))

        // The branch resets the count: the code verifies.
        bank.resetErrorCount(STAFF, "bank-a", DOTP, serial)
        d = device(serial)
        assertEquals(DeviceState.ACTIVE, d.state)
        assertEquals(0u, d.errorCount)
        assertEquals(Verification.ACCEPTED, verify(right.code))

        // Loss: a code made before is refused, and the phone cannot make a new one (the bank
        // no longer answers its unlocks) until the branch recovers the device.
        clock.advance(30)
        val beforeLoss = phone.login()
        bank.reportAccident(STAFF, "bank-a", DOTP, serial, AccidentKind.LOST)
        assertEquals(DeviceState.LOST, device(serial).state)
        assertEquals(Verification.REJECTED, verify(beforeLoss.code), "lost")
        assertEquals("device reported lost", lastDetail("verify_login"))
        assertThrows<DigitalOtpException.NotUsable> { phone.login() }
        assertEquals(5u, phone.app.credentials(phone.device).single().attemptsRemaining, "a refused unlock is no wrong password")
        bank.recover(STAFF, "bank-a", DOTP, serial)
        assertEquals(DeviceState.ACTIVE, device(serial).state)
        assertThrows<IssuerException.InvalidState> { bank.recover(STAFF, "bank-a", DOTP, serial) }
        assertEquals(Verification.ACCEPTED, verify(beforeLoss.code))
        clock.advance(30)
        assertEquals(Verification.ACCEPTED, verify(phone.login().code), "the phone makes codes again")

        // Another institution's OTP device: a hardware token imported at the centre, handed out
        // by bank C, registered at bank B by vendor code and serial with a possession proof.
        val token = importToken("SN0001")
        bank.registerDevice(STAFF, "bank-c", "kim", VENDOR, "SN0001")
        assertThrows<IssuerException.PossessionNotProven> {
            bank.registerDevice(STAFF, "bank-b", "kim", VENDOR, "SN0001", token.wrong())
        }
        val proof = token.now()
        bank.registerDevice(STAFF, "bank-b", "kim", VENDOR, "SN0001", proof)
        val t = device("SN0001", VENDOR, "bank-b")
        assertEquals(DeviceKind.HARDWARE, t.kind)
        assertEquals(listOf("bank-c", "bank-b"), t.registrations.map { it.institutionId })
        assertTrue(t.registrations.all { it.state == RegistrationState.ACTIVE })
        // Bank B's staff see bank C's registration without its customer; the centre's see it all.
        assertEquals(listOf("", "kim"), t.registrations.map { it.customerId })
        val centre = DeskContext(channel = DeskChannel.BRANCH, role = StaffRole.CENTRE_STAFF)
        val all = bank.deviceInquiry("centre-1", "bank-b", VENDOR, "SN0001", centre)
        assertEquals(listOf("kim", "kim"), all.registrations.map { it.customerId })
        // No other-institution registration by phone; a loss report by phone is fine.
        val byPhone = DeskContext(channel = DeskChannel.PHONE, role = StaffRole.INSTITUTION_STAFF)
        assertThrows<IssuerException.NotPermitted> { bank.resetErrorCount("call-centre", "bank-b", VENDOR, "SN0001", byPhone) }
        assertTrue(t.history.any { it.action == "register_device" && it.detail.contains("possession proven") })
        assertEquals(Verification.REJECTED, verify(proof, "bank-b"), "the proof used the code")
        clock.advance(30)
        val tokenCode = token.now()
        assertEquals(Verification.ACCEPTED, verify(tokenCode, "bank-b"))
        // Bank A still verifies kim against the phone, not the token.
        assertEquals(Verification.REJECTED, verify(tokenCode, "bank-a"))
        assertEquals(listOf(serial), bank.customerInquiry(STAFF, "bank-a", "kim").devices.map { it.serialNumber })

        // Everything is in the database, chained: reopened with the same key, the states are there.
        val actions = bank.audit(AuditFilter(subject = "device:$DOTP:$serial")).map { it.action }.toSet()
        assertTrue(
            actions.containsAll(listOf("register_mobile_otp", "unlock", "verify_login", "reset_error_count", "report_accident", "recover_accident")),
            "$actions",
        )
        assertAuditWhole(bank)
        val before = device(serial)
        bank.close()
        bank = Issuer.openSqlite(dbPath, masterKey, clock, sms)
        phone.bank = bank
        val after = device(serial)
        assertEquals(Triple(before.state, before.errorCount, before.registrations), Triple(after.state, after.errorCount, after.registrations))
        clock.advance(30)
        assertEquals(Verification.ACCEPTED, verify(phone.login().code))
        assertAuditWhole(bank)
    }

    // --- eligibility and codes ---------------------------------------------------------------

    @Test
    fun `corporations and foreign customers are not eligible for a mobile OTP`() {
        for ((who, why) in listOf("acme" to "corporations", "smith" to "foreign")) {
            val e = assertThrows<IssuerException.NotEligible> { bank.issueNonFaceToFace(WEB, "bank-a", who, "kyc-1") }
            assertTrue(e.reason.contains(why), e.reason)
            assertThrows<IssuerException.NotEligible> { bank.startFaceToFace(STAFF, "bank-a", who) }
            val refusals = bank.audit(AuditFilter(subject = "customer:$who")).filter { it.outcome == "refused" }
            assertEquals(setOf("issue_registration_code", "start_face_to_face"), refusals.map { it.action }.toSet())
        }
        assertTrue(sms.sent.isEmpty(), "no SMS to an ineligible customer")
        assertThrows<IssuerException.UnknownCustomer> { bank.issueNonFaceToFace(WEB, "bank-a", "nobody", "kyc-1") }
        // A physical OTP is what they get instead.
        val token = importToken("CORP01")
        bank.registerDevice(STAFF, "bank-a", "acme", VENDOR, "CORP01", token.now())
        clock.advance(30)
        assertEquals(Verification.ACCEPTED, verify(token.now(), customerId = "acme"))
    }

    @Test
    fun `an expired registration code is rejected, and so is an expired SMS code`() {
        val code = bank.issueNonFaceToFace(WEB, "bank-a", "kim", "kyc-2")
        val phone = phone()
        val request = phone.app.beginRegistration("bank-a", code, phone.device, PASSWORD)
        clock.advance(601) // a registration code lives 10 minutes
        // The bank answers an expired code like any other failure: the phone's key
        // confirmation fails, and the reason does not tell an expired code from a wrong one.
        val response = bank.handleRegistration(APP_CHANNEL, request)
        val e = assertThrows<DigitalOtpException.RegistrationRejected> { phone.app.confirmRegistration(response) }
        assertEquals("expired registration code", lastDetail("register_mobile_otp"))
        assertEquals("rejected", bank.audit(AuditFilter(action = "register_mobile_otp", limit = 1u)).single().outcome)
        // The expired code is void for good.
        assertThrows<DigitalOtpException.RegistrationRejected> { phone.confirm(code) }
        assertTrue(phone.store.isEmpty(), "no credential, and the device keys deleted: ${phone.store.keys()}")
        assertEquals(emptyList<CredentialInfo>(), phone.app.credentials(phone.device))
        // Only the bank's log tells an expired code from a wrong one: the phone hears the same.
        val wrong = anotherValidCode(bank.issueNonFaceToFace(WEB, "bank-a", "kim", "kyc-3"))
        assertEquals(e.reason, assertThrows<DigitalOtpException.RegistrationRejected> { phone.confirm(wrong) }.reason)
        // (The bank cannot tell a wrong code either: it answered a guess, which the phone's check refused.)
        assertEquals("registration attempt 1 of 5 answered", lastDetail("register_mobile_otp"))
        assertTrue(bank.customerInquiry(STAFF, "bank-a", "kim").devices.isEmpty())

        // The face-to-face SMS code lives 5 minutes.
        bank.startFaceToFace(STAFF, "bank-a", "kim")
        val shown = sms.lastCode()
        clock.advance(301)
        assertThrows<IssuerException.NoVerificationPending> { bank.confirmFaceToFace(STAFF, "bank-a", "kim", shown) }
    }

    // --- what the customer hears, what the staff sees ---------------------------------------------

    @Test
    fun `the customer hears only ACCEPTED or REJECTED while inquiry and audit tell why`() {
        assertEquals(listOf(Verification.ACCEPTED, Verification.REJECTED), Verification.entries.toList())
        val token = importToken("SN0002", validUntil = T0 + 3600)
        bank.registerDevice(STAFF, "bank-a", "kim", VENDOR, "SN0002")

        // Every refusal looks the same to the customer; the log and the inquiry differ.
        assertEquals(Verification.REJECTED, verify(token.wrong()))
        assertEquals("wrong code; error count 1", lastDetail("verify_login"))
        assertEquals(1u, device("SN0002", VENDOR).errorCount)

        val code = token.now()
        assertEquals(Verification.ACCEPTED, verify(code))
        assertEquals("accepted", lastDetail("verify_login"))
        assertEquals(0u, device("SN0002", VENDOR).errorCount)
        assertEquals(Verification.REJECTED, verify(code))
        assertEquals("code already used", lastDetail("verify_login"))

        assertEquals(Verification.REJECTED, verify(token.now(), "bank-b"))
        assertEquals("no OTP device", lastDetail("verify_login"))
        assertEquals(Verification.REJECTED, verify(token.now(), customerId = "nobody"), "an unknown customer is not told apart")
        assertEquals("no OTP device", lastDetail("verify_login"))

        bank.reportAccident(STAFF, "bank-a", VENDOR, "SN0002", AccidentKind.STOLEN)
        clock.advance(30)
        assertEquals(Verification.REJECTED, verify(token.now()))
        assertEquals("device reported stolen", lastDetail("verify_login"))
        assertEquals(DeviceState.STOLEN, device("SN0002", VENDOR).state)
        bank.recover(STAFF, "bank-a", VENDOR, "SN0002")

        clock.advance(3600)
        assertEquals(Verification.REJECTED, verify(token.now()))
        assertEquals("device expired", lastDetail("verify_login"))
        val expired = device("SN0002", VENDOR)
        assertTrue(expired.expired)
        assertEquals(DeviceState.ACTIVE, expired.state)
    }

    @Test
    fun `the audit log records the operations with their actors and never a code`() {
        bank.startFaceToFace(STAFF, "bank-a", "kim")
        val shown = sms.lastCode()
        val wrongShown = if (shown == "00000") "11111" else "00000"
        assertThrows<IssuerException.WrongVerificationCode> { bank.confirmFaceToFace(STAFF, "bank-a", "kim", wrongShown) }
        val registrationCode = bank.confirmFaceToFace(STAFF, "bank-a", "kim", shown)
        val phone = phone()
        val serial = register(phone, registrationCode).serialNumber
        // The used registration code again: rejected, and recorded without the code.
        assertThrows<DigitalOtpException.RegistrationRejected> { phone.confirm(registrationCode) }
        clock.advance(30)
        val login = phone.login()
        assertEquals(Verification.ACCEPTED, verify(login.code))
        val tx = Transaction(1_500_000uL, "KRW", "110-123-456789", "홍길동")
        val txCode = phone.transactionCode(tx)
        assertEquals(Verification.ACCEPTED, bank.verifyTransaction(WEB, "bank-a", "kim", txCode.code, tx))
        val token = importToken("SN0003")
        val proof = token.now()
        bank.registerDevice(STAFF, "bank-b", "kim", VENDOR, "SN0003", proof)
        assertEquals(Verification.REJECTED, verify("000000"))
        device(serial)
        bank.customerInquiry(AUDITOR, "bank-a", "kim")

        val log = bank.audit(AuditFilter())
        assertTrue(log.zipWithNext().all { (a, b) -> a.id > b.id }, "newest first")
        fun has(action: String, actor: String, outcome: String = "ok", institution: String = "bank-a") =
            assertTrue(
                log.any { it.action == action && it.actor == actor && it.outcome == outcome && it.institutionId == institution },
                "no $action by $actor ($outcome) at '$institution'",
            )
        has("add_institution", ADMIN)
        has("register_customer", STAFF)
        has("start_face_to_face", STAFF)
        has("confirm_face_to_face", STAFF, "rejected")
        has("confirm_face_to_face", STAFF)
        has("issue_registration_code", STAFF)
        has("register_mobile_otp", APP_CHANNEL)
        has("register_mobile_otp", APP_CHANNEL, "rejected")
        has("unlock", APP_CHANNEL)
        has("verify_login", WEB)
        has("verify_login", WEB, "rejected")
        has("verify_transaction", WEB)
        has("import_device", OPS, institution = "")
        has("register_device", STAFF, institution = "bank-b")
        has("device_inquiry", STAFF)
        has("customer_inquiry", AUDITOR)
        assertTrue(
            log.any { it.subject == "device:$DOTP:$serial" && it.detail == "customer kim, pending activation; device key not attested" },
            "the registration, of a software key under the default policy (off)",
        )
        assertTrue(
            log.any { it.action == "register_mobile_otp" && it.outcome == "rejected" && it.detail == "no outstanding code for this phone" },
            "the used code's refusal",
        )
        // The log is a hash chain, whole.
        assertAuditWhole(bank)

        // Filters.
        val logins = bank.audit(AuditFilter(action = "verify_login"))
        assertEquals(2, logins.size)
        assertTrue(logins.all { it.action == "verify_login" })
        assertTrue(bank.audit(AuditFilter(institutionId = "bank-b")).all { it.institutionId == "bank-b" })
        val ofDevice = bank.audit(AuditFilter(subject = "device:$DOTP:$serial"))
        assertTrue(ofDevice.map { it.action }.containsAll(listOf("register_mobile_otp", "unlock", "verify_login", "verify_transaction")))
        assertEquals(3, bank.audit(AuditFilter(limit = 3u)).size)
        val before = bank.audit(AuditFilter(until = (T0 + 1).toULong()))
        assertTrue(before.isNotEmpty() && before.all { it.at == T0.toULong() })
        assertTrue(before.none { it.action == "verify_login" })
        assertTrue(bank.audit(AuditFilter(from = (clock.seconds + 1).toULong())).isEmpty())
        assertEquals(0uL, bank.purgeExpiredAudit(), "kept ten years")

        // No code, of any kind, in any record (nor in a device's history).
        val codes = listOf(shown, wrongShown, registrationCode, registrationCode.replace("-", ""), login.code, txCode.code, proof)
        val texts = log.map { it.text() } + device(serial).history.map { it.text() }
        for (text in texts) {
            for (code in codes) assertFalse(mentions(text, code), "the audit log holds a code: $text")
            assertFalse(text.contains(masterKey, ignoreCase = true))
        }
    }

    // --- the database and the master key ---------------------------------------------------------

    @Test
    fun `reopening the SQLite file with another master key is refused`() {
        val token = importToken("SN0004")
        bank.registerDevice(STAFF, "bank-a", "kim", VENDOR, "SN0004")
        bank.close()

        val other = generateMasterKey()
        assertNotEquals(masterKey, other)
        assertTrue(Regex("[0-9a-f]{64}").matches(other), "64 hex digits")
        val e = assertThrows<IssuerException.MasterKey> { Issuer.openSqlite(dbPath, other, clock, sms) }
        assertFalse(e.reason.contains(other) || e.reason.contains(masterKey), e.reason)
        assertThrows<IssuerException.MasterKey> { Issuer.openSqlite(dbPath, "not a key", clock, sms) }
        assertThrows<IssuerException.MasterKey> { Issuer.inMemory("00") }

        // The right key opens it: customers, devices and the sealed seed are all there.
        bank = Issuer.openSqlite(dbPath, masterKey, clock, sms)
        assertEquals("홍길동", bank.customerInquiry(STAFF, "bank-a", "kim").name)
        assertEquals(Verification.ACCEPTED, verify(token.now()))

        // Neither the key nor the token's seed is in the files.
        val files = dir.toFile().listFiles()!!.filter(File::isFile)
        assertTrue(files.any { it.name == "issuer.db" }, "${files.map { it.name }}")
        val needles = listOf(masterKey.toByteArray(), Support.hexToBytes(masterKey), Support.hexToBytes(RFC_SEED_HEX), RFC_SEED_BASE32.toByteArray())
        for (file in files) {
            val bytes = file.readBytes()
            for (needle in needles) assertFalse(bytes.holds(needle), "${file.name} holds a key or seed")
        }
    }

    // --- transactions and devices ---------------------------------------------------------------

    @Test
    fun `a transaction code verifies only for the same transaction`() {
        val phone = phone()
        val serial = register(phone, bank.issueNonFaceToFace(WEB, "bank-a", "kim", "kyc-3")).serialNumber
        val tx = Transaction(1_500_000uL, "KRW", "110-123-456789", "홍길동")
        val txCode = phone.transactionCode(tx)
        val others = listOf(
            tx.copy(amountMinor = 1_500_001uL),
            tx.copy(currency = "USD"),
            tx.copy(payeeAccount = "110-123-456788"),
            tx.copy(payeeName = "이순신"),
            tx.copy(memo = "rent"),
        )
        for (other in others) {
            assertEquals(Verification.REJECTED, bank.verifyTransaction(WEB, "bank-a", "kim", txCode.code, other), "$other")
        }
        // The same transfer, written another way, is the same transaction.
        val same = tx.copy(currency = "krw", payeeAccount = "110 123 456789")
        assertEquals(Verification.ACCEPTED, bank.verifyTransaction(WEB, "bank-a", "kim", txCode.code, same))
        assertEquals(Verification.REJECTED, bank.verifyTransaction(WEB, "bank-a", "kim", txCode.code, tx), "replay")
        assertEquals("code already used", lastDetail("verify_transaction"))
        // An 8-digit transaction code is not of a login code's form: refused, not counted.
        assertThrows<IssuerException.InvalidInput> { verify(txCode.code) }
        assertEquals(RegistrationState.ACTIVE, device(serial).registrations.single().state, "a transaction activates too")
        assertThrows<IssuerException.InvalidInput> {
            bank.verifyTransaction(WEB, "bank-a", "kim", txCode.code, tx.copy(currency = ""))
        }
    }

    @Test
    fun `an unknown serial number or vendor code is UnknownDevice`() {
        importToken("SN0001")
        assertThrows<IssuerException.DeviceExists> { importToken("SN0001") }
        assertThrows<IssuerException.InvalidInput> {
            OtpSecret.fromHex(RFC_SEED_HEX).use {
                bank.importDevice(OPS, ImportedDevice(DOTP, "X1", it, HashAlgorithm.SHA1, 6u, 30uL, (T0 + 60).toULong()))
            }
        }
        for ((vendor, serial) in listOf("WRONG" to "SN0001", VENDOR to "SN9999", DOTP to "BANKA0000000001")) {
            assertThrows<IssuerException.UnknownDevice> { bank.registerDevice(STAFF, "bank-a", "kim", vendor, serial) }
            assertThrows<IssuerException.UnknownDevice> { bank.registerDevice(STAFF, "bank-a", "kim", vendor, serial, "123456") }
            assertThrows<IssuerException.UnknownDevice> { bank.deviceInquiry(STAFF, "bank-a", vendor, serial) }
            assertThrows<IssuerException.UnknownDevice> { bank.reportAccident(STAFF, "bank-a", vendor, serial, AccidentKind.LOST) }
            assertThrows<IssuerException.UnknownDevice> { bank.recover(STAFF, "bank-a", vendor, serial) }
            assertThrows<IssuerException.UnknownDevice> { bank.resetErrorCount(STAFF, "bank-a", vendor, serial) }
        }
        // A known device registered elsewhere is another matter.
        bank.registerDevice(STAFF, "bank-c", "kim", VENDOR, "SN0001")
        assertThrows<IssuerException.NotRegisteredHere> { bank.resetErrorCount(STAFF, "bank-a", VENDOR, "SN0001") }
        val refused = bank.audit(AuditFilter(subject = "device:WRONG:SN0001")).filter { it.outcome == "refused" }
        assertTrue(refused.isNotEmpty() && refused.all { it.detail.contains("no OTP device with this vendor code") }, "$refused")
    }

    // --- attestation, the audit chain, the master key ----------------------------------------

    @Test
    fun `a required attestation refuses a software device key - the policy is per institution, WARN accepts and records it`() {
        bank.setAttestationPolicy(ADMIN, "bank-a", AttestationPolicy(requirement = Requirement.REQUIRE), false)
        val set = bank.audit(AuditFilter(action = "set_attestation_policy")).single()
        assertEquals(Triple(ADMIN, "bank-a", "ok"), Triple(set.actor, set.institutionId, set.outcome))
        val code = bank.issueNonFaceToFace(WEB, "bank-a", "kim", "kyc-77")
        val phone = phone()
        // softwareDeviceKeys bring no attestation evidence: bank A refuses the key.
        val e = assertThrows<DigitalOtpException.RegistrationRejected> { phone.confirm(code) }
        assertTrue(e.reason.contains("attest"), e.reason)
        assertEquals(emptyList<CredentialInfo>(), phone.app.credentials(phone.device))
        assertTrue(phone.store.isEmpty(), "no credential, and the refused device key deleted: ${phone.store.keys()}")
        assertTrue(bank.customerInquiry(STAFF, "bank-a", "kim").devices.isEmpty())
        val refused = bank.audit(AuditFilter(action = "register_mobile_otp")).single()
        assertEquals(APP_CHANNEL to "rejected", refused.actor to refused.outcome)
        assertTrue(refused.detail.startsWith("device key not trusted"), refused.detail)

        // The policy is bank A's: bank B (attestation off by default) takes the same phone's key.
        val infoB = phone.register(bank.issueNonFaceToFace(WEB, "bank-b", "kim", "kyc-78"), "bank-b")
        assertEquals(CredentialStatus.PENDING, infoB.status)
        // Under WARN an unattested key is accepted and recorded as such; the refused device did
        // not spend a guess of bank A's code, which still registers.
        bank.setAttestationPolicy(ADMIN, "bank-a", AttestationPolicy(requirement = Requirement.WARN), false)
        val infoA = phone.register(code)
        assertEquals(CredentialStatus.PENDING, infoA.status)
        val registered = bank.audit(AuditFilter(action = "register_mobile_otp", subject = "device:$DOTP:${infoA.serialNumber}")).single()
        assertEquals("ok", registered.outcome)
        assertTrue(registered.detail.contains("not attested"), registered.detail)
        assertEquals(Verification.ACCEPTED, verify(phone.login().code))
        assertThrows<IssuerException.UnknownInstitution> {
            bank.setAttestationPolicy(ADMIN, "bank-z", AttestationPolicy(requirement = Requirement.REQUIRE), false)
        }
    }

    @Test
    fun `verifyAudit reports an audit row rewritten in the SQLite file behind the issuer's back`() {
        val phone = phone()
        phone.register(bank.issueNonFaceToFace(WEB, "bank-a", "kim", "kyc-77"))
        assertEquals(Verification.ACCEPTED, verify(phone.login().code))
        assertAuditWhole(bank)
        val unlock = bank.audit(AuditFilter(action = "unlock")).single()

        java.sql.DriverManager.getConnection("jdbc:sqlite:$dbPath").use { db ->
            // The database itself refuses to rewrite the log...
            val refused = assertThrows<java.sql.SQLException> {
                db.prepareStatement("UPDATE audit SET detail = 'rewritten' WHERE id = ?").use {
                    it.setLong(1, unlock.id.toLong())
                    it.executeUpdate()
                }
            }
            assertTrue(refused.message!!.contains("append-only"), refused.message)
            // ...but whoever can write the file can drop the trigger first.
            db.createStatement().use { it.executeUpdate("DROP TRIGGER audit_append_only") }
            val changed = db.prepareStatement("UPDATE audit SET detail = ? WHERE id = ?").use {
                it.setString(1, unlock.detail + " (edited)")
                it.setLong(2, unlock.id.toLong())
                it.executeUpdate()
            }
            assertEquals(1, changed)
        }

        val check = bank.verifyAudit()
        assertEquals(1, check.faults.size, "${check.faults}")
        assertTrue(Regex("\\bentry ${unlock.id}\\b").containsMatchIn(check.faults.single()), check.faults.single())
        // The log itself still reads; only the chain tells.
        assertNotEquals(unlock.detail, bank.audit(AuditFilter(action = "unlock")).single().detail)
        // Reopened, the database reports the same fault.
        bank.close()
        bank = Issuer.openSqlite(dbPath, masterKey, clock, sms)
        assertEquals(check.faults, bank.verifyAudit().faults)
    }

    @Test
    fun `rotating the master key re-seals everything - the issuer keeps serving, the file then opens with the new key only`() {
        val phone = phone()
        val serial = phone.register(bank.issueNonFaceToFace(WEB, "bank-a", "kim", "kyc-77")).serialNumber
        assertEquals(Verification.ACCEPTED, verify(phone.login().code))
        val token = importToken("SN0005")
        bank.registerDevice(STAFF, "bank-b", "kim", VENDOR, "SN0005")
        val outstanding = bank.issueNonFaceToFace(WEB, "bank-c", "kim", "kyc-79")

        val newKey = generateMasterKey()
        assertNotEquals(masterKey, newKey)
        val rows = bank.rotateMasterKey(OPS, newKey)
        assertTrue(rows > 0uL, "$rows")
        val rotation = bank.audit(AuditFilter(action = "rotate_master_key")).single()
        assertEquals(OPS to "ok", rotation.actor to rotation.outcome)
        assertFalse(rotation.text().contains(newKey, ignoreCase = true) || rotation.text().contains(masterKey, ignoreCase = true))

        // The same issuer serves on: the phone's unlocks, its codes, the token's, the
        // outstanding registration code.
        clock.advance(30)
        assertEquals(Verification.ACCEPTED, verify(phone.login().code))
        assertEquals(Verification.ACCEPTED, verify(token.now(), "bank-b"))
        val other = phone()
        assertEquals(CredentialStatus.PENDING, other.register(outstanding, "bank-c").status)
        assertAuditWhole(bank)

        // Reopened: the old key is refused, the new one opens everything.
        bank.close()
        assertThrows<IssuerException.MasterKey> { Issuer.openSqlite(dbPath, masterKey, clock, sms) }
        bank = Issuer.openSqlite(dbPath, newKey, clock, sms)
        phone.bank = bank
        assertEquals(DeviceState.ACTIVE, device(serial).state)
        clock.advance(30)
        assertEquals(Verification.ACCEPTED, verify(phone.login().code))
        assertEquals(Verification.ACCEPTED, verify(token.now(), "bank-b"))
        assertAuditWhole(bank)
        assertThrows<IssuerException.MasterKey> { bank.rotateMasterKey(OPS, "not a key") }
    }
}

private fun ByteArray.holds(needle: ByteArray): Boolean {
    if (needle.isEmpty()) return true
    outer@ for (i in 0..size - needle.size) {
        for (j in needle.indices) if (this[i + j] != needle[j]) continue@outer
        return true
    }
    return false
}
