package org.digitalotp.demo.android

import android.graphics.Color
import android.graphics.Typeface
import android.text.InputFilter
import android.text.InputType
import android.view.Gravity
import android.view.View
import android.view.ViewGroup
import android.widget.Button
import android.widget.EditText
import android.widget.LinearLayout
import android.widget.ProgressBar
import android.widget.ScrollView
import android.widget.TextView
import org.digitalotp.Transaction
import org.digitalotp.demo.flow.Event
import org.digitalotp.demo.flow.FlowRunner
import org.digitalotp.demo.flow.Notice
import org.digitalotp.demo.flow.Problem
import org.digitalotp.demo.flow.Purpose
import org.digitalotp.demo.flow.Screen
import java.text.DateFormat
import java.util.Date

/**
 * One view per [Screen], built in code with framework widgets (no layouts, no AndroidX:
 * the demo stays small and compiles against the bare framework). A bank app draws its own
 * design here; the flow does not change.
 */
class ScreenViews(
    private val activity: MainActivity,
    private val runner: FlowRunner,
    /** DEMO ONLY: the bank the demo runs against, for the label on every screen and the demo buttons. */
    private val bank: DemoBank,
) {
    private val context = activity

    fun view(screen: Screen): View = when (screen) {
        Screen.Starting -> page(title("Digital OTP"), ProgressBar(context))

        is Screen.PhoneNumberEntry -> {
            val phone = input("Phone number, e.g. 010-1234-5678", InputType.TYPE_CLASS_PHONE, 20)
            page(
                title("Your phone number"),
                body("This phone did not give its number. Type the number your bank has on record: the digital OTP is bound to it."),
                *messages(null, screen.error),
                phone,
                button("Continue") { send(Event.PhoneNumberEntered(phone.text.toString())) },
            )
        }

        is Screen.Enrollment -> {
            val code = input("1234-5678-9012", InputType.TYPE_CLASS_PHONE, 14)
            page(
                title("Register your digital OTP"),
                *messages(screen.notice, screen.error),
                body("Type the 12-digit app registration code your bank gave you, at a branch or on its web site. It is valid for 10 minutes."),
                code,
                button("Continue") { send(Event.RegistrationCodeEntered(code.text.toString())) },
                *demoCodeButton(code),
            )
        }

        is Screen.PasswordSetup -> {
            val first = pinInput("New app password")
            val second = pinInput("The same again")
            page(
                title("Choose your app password"),
                body("6 digits, not a common one, not repeated (121212) and not in sequence (234567). You type it for every code; your bank checks it, and 5 wrong passwords in a row lock the OTP."),
                *messages(null, screen.error),
                first,
                second,
                button("Register") { send(Event.PasswordChosen(first.take(), second.take())) },
                button("Back") { send(Event.Back) },
            )
        }

        is Screen.RegistrationUnfinished -> page(
            title("Finishing the registration"),
            body("Your phone is registered on its side; the bank's last answer has not arrived yet."),
            alert(screen.error.message),
            button("Try again") { send(Event.Retry) },
            button("Give up and type the code again") { send(Event.Back) },
        )

        is Screen.Home -> home(screen)

        is Screen.ChangePassword -> {
            val old = pinInput("Current app password")
            val first = pinInput("New app password")
            val second = pinInput("The same again")
            page(
                title("Change the app password"),
                body("Your bank checks the current password: a wrong one counts twice. Attempts left before the OTP locks: ${screen.attemptsRemaining}."),
                *messages(screen.notice, screen.error),
                old,
                first,
                second,
                button("Change") { send(Event.PasswordChangeEntered(old.take(), first.take(), second.take())) },
                button("Cancel") { send(Event.Back) },
            )
        }

        is Screen.ConfirmTransfer -> page(
            title("Confirm this transfer"),
            body(screen.summary).apply { textSize = 20f; setTypeface(typeface, Typeface.BOLD) },
            body("Check the amount and the payee. The code you create next works for this transfer only."),
            button("Confirm and create the code") { send(Event.TransferConfirmed) },
            button("Cancel") { send(Event.Back) },
        )

        is Screen.PasswordEntry -> {
            val password = pinInput("App password")
            page(
                title(titleOf(screen.purpose)),
                *listOfNotNull((screen.purpose as? Purpose.Transfer)?.let { body(it.summary) }).toTypedArray(),
                body("Type your app password. Attempts left before the OTP locks: ${screen.attemptsRemaining}."),
                *messages(null, screen.error),
                password,
                button("OK") { send(Event.PasswordEntered(password.take())) },
                button("Cancel") { send(Event.Back) },
            )
        }

        is Screen.CodeShown -> codeShown(screen)

        is Screen.ReRegistrationRequired -> page(
            title("Register again"),
            body(screen.reason.message),
            button("Register again") { send(Event.StartReRegistration) },
        )

        is Screen.Unavailable -> page(
            title("Something went wrong"),
            alert(screen.problem.message),
            button("Try again") { send(Event.Retry) },
        )
    }

    private fun home(screen: Screen.Home): View {
        val c = screen.credential
        val amount = input("Amount (KRW)", InputType.TYPE_CLASS_NUMBER, 15)
        val account = input("Payee account", InputType.TYPE_CLASS_PHONE, 30)
        val payee = input("Payee name", InputType.TYPE_CLASS_TEXT or InputType.TYPE_TEXT_VARIATION_PERSON_NAME, 40)
        return page(
            title("${c.institutionName} digital OTP"),
            *messages(screen.notice, screen.error),
            body(
                "Serial number ${c.serialNumber}\n" +
                    "Status ${c.status.name.lowercase()}\n" +
                    "Valid until ${DateFormat.getDateInstance().format(Date(c.validUntil.toLong() * 1000))}\n" +
                    "Password attempts left ${c.attemptsRemaining}",
            ),
            button(if (screen.activationPending) "Show a first login code (activates the OTP)" else "Show a login code") {
                send(Event.LoginCodeRequested)
            },
            section("Transfer (the bank app's own form)"),
            amount,
            account,
            payee,
            button("Continue to confirmation") {
                val transaction = Transaction(
                    amountMinor = amount.text.toString().toULongOrNull() ?: 0uL,
                    currency = "KRW",
                    payeeAccount = account.text.toString(),
                    payeeName = payee.text.toString(),
                )
                send(Event.TransferRequested(transaction))
            },
            section("App password"),
            button("Change the app password") { send(Event.ChangePasswordRequested) },
            section("Forgot the app password?"),
            button("Remove the OTP and register again") { send(Event.ForgotPassword) },
        )
    }

    private fun codeShown(screen: Screen.CodeShown): View {
        val code = screen.code
        val codeView = TextView(context).apply {
            text = code?.chunked(if (code.length > 6) 4 else 3)?.joinToString(" ") ?: "Expired"
            textSize = if (code != null) 44f else 28f
            typeface = Typeface.MONOSPACE
            gravity = Gravity.CENTER
        }
        val validity = ProgressBar(context, null, android.R.attr.progressBarStyleHorizontal).apply {
            max = 30
            progress = screen.codeSecondsRemaining.toInt().coerceAtMost(30)
        }
        return page(
            title(titleOf(screen.purpose)),
            *listOfNotNull((screen.purpose as? Purpose.Transfer)?.let { body(it.summary) }).toTypedArray(),
            codeView,
            validity,
            body(if (code != null) "Valid for ${screen.codeSecondsRemaining} s" else "This code has expired."),
            body("This screen closes in ${screen.secondsUntilClose} s."),
            *messages(null, screen.error),
            // The demo's stand-in for the bank's login page or transfer request: the code goes
            // to BankApi (verifyLogin / verifyTransfer); the first accepted one activates the OTP.
            *(if (code != null) arrayOf(button("Send to the bank") { send(Event.CodeSubmitted) }) else emptyArray()),
            *(if (code == null) arrayOf(button("New code") { send(Event.NewCodeRequested) }) else emptyArray()),
            button("Done") { send(Event.Back) },
        )
    }

    private fun titleOf(purpose: Purpose) = when (purpose) {
        Purpose.Login -> "Login code"
        is Purpose.Transfer -> "Transfer code"
    }

    // --- DEMO ONLY: the bank's label and the demo buttons ---------------------------------

    /** The preview's button asks the fake bank for a code; with the service, the bank's staff issue it. */
    private fun demoCodeButton(target: EditText): Array<View> = when (val bank = bank) {
        is DemoBank.Preview -> arrayOf(
            section("Fake bank (preview only)"),
            button("Get a registration code from the fake bank") {
                activity.demoCall({ bank.fake.issueRegistrationCode(runner.flow.phoneNumberE164 ?: error("no phone number yet")) }) {
                    target.setText(it)
                }
            },
        )
        is DemoBank.Service -> arrayOf(
            section("Issuer service (demo only)"),
            body(
                "The bank's staff issue the code for customer ${bank.settings.customer}, whose phone number on record must be this phone's: " +
                    "dotp issuer issue-code --institution ${bank.settings.institution} --customer ${bank.settings.customer} --reference REF, " +
                    "or the service's staff API (android-demo/README.md).",
            ),
        )
    }

    /** The first line of every screen: which bank this demo talks to. */
    private fun bankLabel() = TextView(context).apply {
        text = bank.label
        textSize = 12f
        setTextColor(if (bank is DemoBank.Preview) Color.rgb(0x8A, 0x5A, 0x00) else Color.DKGRAY)
    }

    // --- widgets ------------------------------------------------------------------------

    private fun send(event: Event) = activity.send(event)

    private fun dp(value: Int) = (value * context.resources.displayMetrics.density).toInt()

    private fun page(vararg children: View): View = ScrollView(context).apply {
        addView(
            LinearLayout(context).apply {
                orientation = LinearLayout.VERTICAL
                setPadding(dp(24), dp(32), dp(24), dp(32))
                for (child in listOf<View>(bankLabel()) + children) {
                    addView(child, LinearLayout.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, ViewGroup.LayoutParams.WRAP_CONTENT).apply { topMargin = dp(12) })
                }
            },
        )
    }

    private fun title(text: String) = TextView(context).apply {
        this.text = text
        textSize = 24f
        setTypeface(typeface, Typeface.BOLD)
    }

    private fun section(text: String) = TextView(context).apply {
        this.text = text
        textSize = 16f
        setTypeface(typeface, Typeface.BOLD)
        setPadding(0, dp(16), 0, 0)
    }

    private fun body(text: String) = TextView(context).apply {
        this.text = text
        textSize = 16f
    }

    private fun alert(text: String) = body(text).apply { setTextColor(Color.rgb(0xB0, 0x00, 0x20)) }

    private fun messages(notice: Notice?, error: Problem?): Array<View> =
        listOfNotNull(notice?.let { body(it.message) }, error?.let { alert(it.message) }).toTypedArray()

    private fun input(hint: String, type: Int, maxLength: Int) = EditText(context).apply {
        this.hint = hint
        inputType = type
        filters = arrayOf(InputFilter.LengthFilter(maxLength))
        isSingleLine = true
    }

    private fun pinInput(hint: String) =
        input(hint, InputType.TYPE_CLASS_NUMBER or InputType.TYPE_NUMBER_VARIATION_PASSWORD, 6).apply {
            // No suggestions, no autofill of the app password.
            importantForAutofill = View.IMPORTANT_FOR_AUTOFILL_NO
        }

    /** The typed text, cleared from the field. */
    private fun EditText.take(): String = text.toString().also { text.clear() }

    private fun button(text: String, onClick: () -> Unit) = Button(context).apply {
        this.text = text
        setOnClickListener { onClick() }
    }
}
