package org.digitalotp.demo.fakebank

import org.digitalotp.Clock
import org.digitalotp.CredentialStatus
import org.digitalotp.DeviceInfo
import org.digitalotp.DigitalOtp
import org.digitalotp.Transaction
import org.digitalotp.demo.flow.Event
import org.digitalotp.demo.flow.OtpFlow
import org.digitalotp.demo.flow.Screen
import org.digitalotp.memoryStore
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
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

    @Test
    fun `the demo end to end - code from the fake bank, registration, login and transfer codes the bank accepts`() {
        val clock = Clk(1_800_000_000L)
        FakeInProcessBank.inMemory(clock).use { bank ->
            DigitalOtp.withClock(memoryStore(), clock).use { otp ->
                OtpFlow(otp, bank, clock).use { flow ->
                    flow.handle(Event.Start(null, "android-id")).expect<Screen.PhoneNumberEntry>()
                    flow.handle(Event.PhoneNumberEntered(phone)).expect<Screen.Enrollment>()
                    val code = bank.issueRegistrationCode(flow.phoneNumberE164!!)
                    flow.handle(Event.RegistrationCodeEntered(code)).expect<Screen.PasswordSetup>()
                    val home = flow.handle(Event.PasswordChosen(password, password)).expect<Screen.Home>()
                    assertEquals(CredentialStatus.ACTIVE, home.credential.status, "the fake bank accepted the first code")
                    assertEquals("Demo Bank", home.credential.institutionName)
                    val serial = home.credential.serialNumber

                    clock.now.addAndGet(30)
                    flow.handle(Event.LoginCodeRequested)
                    val login = flow.handle(Event.PasswordEntered(password)).expect<Screen.CodeShown>()
                    assertTrue(bank.verifyLogin(serial, login.code!!))
                    assertFalse(bank.verifyLogin(serial, login.code!!), "a code is accepted once")
                    assertFalse(bank.verifyLogin("no-such-serial", login.code!!))

                    flow.handle(Event.Back)
                    val tx = Transaction(amountMinor = 25_000uL, currency = "KRW", payeeAccount = "110-123-456789", payeeName = "Kim")
                    flow.handle(Event.TransferRequested(tx)).expect<Screen.ConfirmTransfer>()
                    flow.handle(Event.TransferConfirmed)
                    val txCode = flow.handle(Event.PasswordEntered(password)).expect<Screen.CodeShown>()
                    assertFalse(bank.verifyTransfer(serial, txCode.code!!, tx.copy(amountMinor = 250_000uL)))
                    assertTrue(bank.verifyTransfer(serial, txCode.code!!, tx))

                    // Forgot the password: the same customer gets a new code and registers again.
                    flow.handle(Event.Back)
                    flow.handle(Event.ForgotPassword).expect<Screen.Enrollment>()
                    flow.handle(Event.RegistrationCodeEntered(bank.issueRegistrationCode(phone)))
                    val again = flow.handle(Event.PasswordChosen(password, password)).expect<Screen.Home>()
                    assertEquals(CredentialStatus.ACTIVE, again.credential.status)
                    assertTrue(again.credential.serialNumber != serial)
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
            DigitalOtp.withClock(store, clock).use { otp ->
                OtpFlow(otp, bank, clock).use { flow ->
                    flow.handle(Event.Start(phone, "android-id")).expect<Screen.Enrollment>()
                    flow.handle(Event.RegistrationCodeEntered(code)).expect<Screen.PasswordSetup>()
                    val home = flow.handle(Event.PasswordChosen(password, password)).expect<Screen.Home>()
                    assertEquals(CredentialStatus.ACTIVE, home.credential.status)
                    home.credential.serialNumber
                }
            }
        }
        clock.now.addAndGet(30)
        FakeInProcessBank.persistent(dir, clock).use { bank ->
            DigitalOtp.withClock(store, clock).use { otp ->
                DeviceInfo(phone, "android-id").use { device ->
                    assertTrue(bank.verifyLogin(serial, otp.generate(bank.institutionId, password, device).code))
                }
            }
        }
        assertTrue(File(dir, "fake-bank.db").exists())
    }
}
