package org.digitalotp.demo.fakebank

import org.digitalotp.Clock
import org.digitalotp.CredentialStatus
import org.digitalotp.DeviceInfo
import org.digitalotp.DigitalOtp
import org.digitalotp.Transaction
import org.digitalotp.demo.flow.Event
import org.digitalotp.demo.flow.FlowConfig
import org.digitalotp.demo.flow.Notice
import org.digitalotp.demo.flow.OtpFlow
import org.digitalotp.demo.flow.Problem
import org.digitalotp.demo.flow.ReRegistrationReason
import org.digitalotp.demo.flow.Screen
import org.digitalotp.AttestationPolicy
import org.digitalotp.Requirement
import org.digitalotp.SecureStore
import org.digitalotp.memoryStore
import org.digitalotp.softwareDeviceKeys
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.io.File
import java.util.concurrent.atomic.AtomicLong

/** The demo as the Android app runs it: the flow, the SDK, and the fake bank in the same process. */
class FakeInProcessBankTest {
    private class Clk(start: Long) : Clock {
        val now = AtomicLong(start)
        override fun nowUnixSeconds(): ULong = now.get().toULong()
    }

    private val phone = "010-2222-3333"
    private val password = "482915"

    private inline fun <reified T : Screen> Screen.expect(): T = this as? T ?: throw AssertionError("expected ${T::class.simpleName}, got $this")

    /** The SDK over [store], its device keys in software in the same store (the JVM has no Keystore). */
    private fun sdk(store: SecureStore, clock: Clock): DigitalOtp = DigitalOtp.withClock(store, softwareDeviceKeys(store), clock)

    @Test
    fun `the demo end to end - code from the fake bank, registration, the first code activates, login and transfer codes`() {
        val clock = Clk(1_800_000_000L)
        FakeInProcessBank.inMemory(clock).use { bank ->
            sdk(memoryStore(), clock).use { otp ->
                OtpFlow(otp, bank, clock, FlowConfig(bank.institutionId)).use { flow ->
                    flow.handle(Event.Start(null, "android-id")).expect<Screen.PhoneNumberEntry>()
                    flow.handle(Event.PhoneNumberEntered(phone)).expect<Screen.Enrollment>()
                    val code = bank.issueRegistrationCode(flow.phoneNumberE164!!)
                    flow.handle(Event.RegistrationCodeEntered(code)).expect<Screen.PasswordSetup>()
                    val home = flow.handle(Event.PasswordChosen(password, password)).expect<Screen.Home>()
                    assertEquals(CredentialStatus.PENDING, home.credential.status, "pending until the bank accepts a first code")
                    assertEquals(FakeInProcessBank.DEMO_INSTITUTION_NAME, home.credential.institutionName)
                    val serial = home.credential.serialNumber

                    // The first login code, submitted from the code screen, activates the OTP.
                    flow.handle(Event.LoginCodeRequested)
                    val first = flow.handle(Event.PasswordEntered(password)).expect<Screen.CodeShown>()
                    val active = flow.handle(Event.CodeSubmitted).expect<Screen.Home>()
                    assertEquals(Notice.ACTIVATED, active.notice)
                    assertEquals(CredentialStatus.ACTIVE, active.credential.status)
                    assertFalse(bank.verifyLogin(bank.institutionId, serial, first.code!!), "a code is accepted once")
                    // The fake checked the device key's evidence (WARN: software keys bring none)
                    // and counted the code's password guess.
                    assertEquals("customer demo-customer-821022223333, pending activation; device key not attested", bank.registrationRecord(serial))
                    assertTrue(bank.unlockRecords(serial).single().startsWith("evaluation 1;"), "${bank.unlockRecords(serial)}")

                    clock.now.addAndGet(30)
                    flow.handle(Event.LoginCodeRequested)
                    val login = flow.handle(Event.PasswordEntered(password)).expect<Screen.CodeShown>()
                    assertFalse(bank.verifyLogin(bank.institutionId, "no-such-serial", login.code!!), "an unknown OTP")
                    assertFalse(bank.verifyLogin("another-bank", serial, login.code!!), "an unknown institution")
                    assertEquals(Notice.LOGIN_ACCEPTED, flow.handle(Event.CodeSubmitted).expect<Screen.Home>().notice)

                    // A transfer code: the fake bank refuses it for another amount or payee.
                    val tx = Transaction(amountMinor = 25_000uL, currency = "KRW", payeeAccount = "110-123-456789", payeeName = "Kim")
                    flow.handle(Event.TransferRequested(tx)).expect<Screen.ConfirmTransfer>()
                    flow.handle(Event.TransferConfirmed)
                    val txCode = flow.handle(Event.PasswordEntered(password)).expect<Screen.CodeShown>()
                    assertFalse(bank.verifyTransfer(bank.institutionId, serial, txCode.code!!, tx.copy(amountMinor = 250_000uL)), "another amount")
                    assertFalse(bank.verifyTransfer(bank.institutionId, serial, txCode.code!!, tx.copy(payeeAccount = "110-123-456780")), "another account")
                    assertFalse(bank.verifyTransfer(bank.institutionId, serial, txCode.code!!, tx.copy(payeeName = "Lee")), "another payee")
                    assertEquals(Notice.TRANSFER_ACCEPTED, flow.handle(Event.CodeSubmitted).expect<Screen.Home>().notice)
                    assertFalse(bank.verifyTransfer(bank.institutionId, serial, txCode.code!!, tx), "accepted once")

                    // Forgot the password: the same customer gets a new code and registers again;
                    // the old OTP's codes are refused from then on.
                    flow.handle(Event.ForgotPassword).expect<Screen.Enrollment>()
                    flow.handle(Event.RegistrationCodeEntered(bank.issueRegistrationCode(phone)))
                    val again = flow.handle(Event.PasswordChosen(password, password)).expect<Screen.Home>()
                    assertEquals(CredentialStatus.PENDING, again.credential.status)
                    assertNotEquals(serial, again.credential.serialNumber)
                    clock.now.addAndGet(30)
                    flow.handle(Event.LoginCodeRequested)
                    val newFirst = flow.handle(Event.PasswordEntered(password)).expect<Screen.CodeShown>()
                    assertFalse(bank.verifyLogin(bank.institutionId, serial, newFirst.code!!), "not under the old serial number")
                    val reactivated = flow.handle(Event.CodeSubmitted).expect<Screen.Home>()
                    assertEquals(Notice.ACTIVATED, reactivated.notice)
                }
            }
        }
    }

    @Test
    fun `a code the fake bank refuses - home with the rejection`() {
        val clock = Clk(1_800_000_000L)
        FakeInProcessBank.inMemory(clock).use { bank ->
            sdk(memoryStore(), clock).use { otp ->
                OtpFlow(otp, bank, clock, FlowConfig(bank.institutionId)).use { flow ->
                    flow.handle(Event.Start(phone, "android-id")).expect<Screen.Enrollment>()
                    flow.handle(Event.RegistrationCodeEntered(bank.issueRegistrationCode(phone)))
                    val serial = flow.handle(Event.PasswordChosen(password, password)).expect<Screen.Home>().credential.serialNumber
                    flow.handle(Event.LoginCodeRequested)
                    val shown = flow.handle(Event.PasswordEntered(password)).expect<Screen.CodeShown>()
                    assertTrue(bank.verifyLogin(bank.institutionId, serial, shown.code!!), "used once elsewhere")
                    val refused = flow.handle(Event.CodeSubmitted).expect<Screen.Home>()
                    assertEquals(Problem.CodeRejected, refused.error)
                    assertEquals(CredentialStatus.PENDING, refused.credential.status, "the phone saw no accepted code")
                }
            }
        }
    }

    @Test
    fun `the persistent fake bank keeps its customers and key across app restarts`(@TempDir dir: File) {
        val clock = Clk(1_800_000_000L)
        val store = memoryStore()
        val code = FakeInProcessBank.persistent(dir, clock).use { it.issueRegistrationCode(phone) }
        val serial = FakeInProcessBank.persistent(dir, clock).use { bank ->
            sdk(store, clock).use { otp ->
                OtpFlow(otp, bank, clock, FlowConfig(bank.institutionId)).use { flow ->
                    flow.handle(Event.Start(phone, "android-id")).expect<Screen.Enrollment>()
                    flow.handle(Event.RegistrationCodeEntered(code)).expect<Screen.PasswordSetup>()
                    val home = flow.handle(Event.PasswordChosen(password, password)).expect<Screen.Home>()
                    assertEquals(CredentialStatus.PENDING, home.credential.status)
                    flow.handle(Event.LoginCodeRequested)
                    flow.handle(Event.PasswordEntered(password)).expect<Screen.CodeShown>()
                    assertEquals(Notice.ACTIVATED, flow.handle(Event.CodeSubmitted).expect<Screen.Home>().notice)
                    home.credential.serialNumber
                }
            }
        }
        clock.now.addAndGet(30)
        FakeInProcessBank.persistent(dir, clock).use { bank ->
            sdk(store, clock).use { otp ->
                DeviceInfo(phone, "android-id").use { device ->
                    // The fake's unlock state (the password's OPRF key, the count) survived too.
                    val code = otp.completeLoginCode(bank.unlock(otp.beginLoginCode(bank.institutionId, password, device))).code
                    assertTrue(bank.verifyLogin(bank.institutionId, serial, code))
                }
            }
        }
        assertTrue(File(dir, "fake-bank.db").exists())
    }

    @Test
    fun `wrong passwords are counted by the fake bank - the fifth locks the OTP there, and a new code registers again`() {
        val clock = Clk(1_800_000_000L)
        FakeInProcessBank.inMemory(clock).use { bank ->
            sdk(memoryStore(), clock).use { otp ->
                OtpFlow(otp, bank, clock, FlowConfig(bank.institutionId)).use { flow ->
                    flow.handle(Event.Start(phone, "android-id")).expect<Screen.Enrollment>()
                    flow.handle(Event.RegistrationCodeEntered(bank.issueRegistrationCode(phone)))
                    val serial = flow.handle(Event.PasswordChosen(password, password)).expect<Screen.Home>().credential.serialNumber
                    flow.handle(Event.LoginCodeRequested).expect<Screen.PasswordEntry>()
                    for (left in 4 downTo 1) {
                        val entry = flow.handle(Event.PasswordEntered("000001")).expect<Screen.PasswordEntry>()
                        assertEquals(left, entry.attemptsRemaining)
                        assertEquals(left, (entry.error as Problem.WrongPassword).attemptsRemaining)
                    }
                    assertEquals("evaluation 4; 1 wrong app passwords left", bank.unlockRecords(serial).first())
                    flow.handle(Event.PasswordEntered("000001")).expect<Screen.ReRegistrationRequired>()
                    assertEquals(ReRegistrationReason.LOCKED, (flow.screen as Screen.ReRegistrationRequired).reason)
                    // At the bank: its codes are refused from now on.
                    assertFalse(bank.verifyLogin(bank.institutionId, serial, "123456"))
                    flow.handle(Event.StartReRegistration).expect<Screen.Enrollment>()
                    flow.handle(Event.RegistrationCodeEntered(bank.issueRegistrationCode(phone)))
                    val again = flow.handle(Event.PasswordChosen(password, password)).expect<Screen.Home>()
                    assertNotEquals(serial, again.credential.serialNumber)
                    assertEquals(5u, again.credential.attemptsRemaining)
                }
            }
        }
    }

    @Test
    fun `a fake bank that requires attestation refuses a software device key - the flow asks for a code again`() {
        val clock = Clk(1_800_000_000L)
        FakeInProcessBank.inMemory(clock, AttestationPolicy(requirement = Requirement.REQUIRE)).use { bank ->
            val store = memoryStore()
            sdk(store, clock).use { otp ->
                OtpFlow(otp, bank, clock, FlowConfig(bank.institutionId)).use { flow ->
                    flow.handle(Event.Start(phone, "android-id")).expect<Screen.Enrollment>()
                    flow.handle(Event.RegistrationCodeEntered(bank.issueRegistrationCode(phone)))
                    val refused = flow.handle(Event.PasswordChosen(password, password)).expect<Screen.Enrollment>()
                    assertTrue(refused.error is Problem.RegistrationRejected, "$refused")
                    assertTrue(refused.error!!.message.contains("attested hardware"), refused.error!!.message)
                    DeviceInfo(phone, "android-id").use { assertTrue(otp.credentials(it).isEmpty()) }
                }
            }
        }
    }
}
