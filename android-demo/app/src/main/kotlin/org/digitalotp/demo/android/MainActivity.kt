package org.digitalotp.demo.android

import android.app.Activity
import android.os.Bundle
import android.os.Handler
import android.os.Looper
import android.view.WindowManager
import android.widget.FrameLayout
import android.widget.Toast
import org.digitalotp.demo.flow.Event
import org.digitalotp.demo.flow.Screen

/**
 * The only activity: renders the flow's current [Screen] with [ScreenViews] and sends the
 * customer's actions to the flow as [Event]s. It decides nothing itself; it only reads
 * the platform values at start, ticks once a second while a code is shown, and never
 * leaves a code on screen in the background.
 */
class MainActivity : Activity() {
    private val app get() = application as DemoApplication
    private val handler = Handler(Looper.getMainLooper())
    private lateinit var frame: FrameLayout
    private var busy = false
    private var visible = false
    private val tick = Runnable { if (visible) send(Event.Tick, background = true) }

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        // Codes and passwords on screen: no screenshots, recents thumbnail or casting.
        window.setFlags(WindowManager.LayoutParams.FLAG_SECURE, WindowManager.LayoutParams.FLAG_SECURE)
        frame = FrameLayout(this)
        setContentView(frame)
        val screen = app.runner.screen
        render(screen)
        if (screen == Screen.Starting) {
            if (PlatformDevice.mayReadLineNumber(this)) start()
            else requestPermissions(arrayOf(PlatformDevice.PHONE_NUMBER_PERMISSION), REQUEST_PHONE_NUMBER)
        }
    }

    override fun onRequestPermissionsResult(requestCode: Int, permissions: Array<out String>, grantResults: IntArray) {
        // Granted or not: without it the flow asks the customer for the number.
        if (requestCode == REQUEST_PHONE_NUMBER) start()
    }

    private fun start() = send(Event.Start(PlatformDevice.lineNumber(this), PlatformDevice.deviceId(this)))

    override fun onResume() {
        super.onResume()
        visible = true
        // Time passed while away: the code screen may have to close.
        if (app.runner.screen is Screen.CodeShown) send(Event.Tick, background = true)
    }

    override fun onPause() {
        visible = false
        handler.removeCallbacks(tick)
        super.onPause()
    }

    override fun onStop() {
        super.onStop()
        if (!isChangingConfigurations && app.runner.screen is Screen.CodeShown) send(Event.Back, background = true)
    }

    /**
     * Sends [event] to the flow. A customer action greys the screen and ignores further taps
     * until its result arrives; [background] events (ticks) do neither.
     */
    fun send(event: Event, background: Boolean = false) {
        if (!background) {
            if (busy) return
            busy = true
            frame.alpha = 0.5f
        }
        app.runner.send(event) { screen ->
            if (!background) {
                busy = false
                frame.alpha = 1f
            }
            if (!isDestroyed) render(screen)
        }
    }

    /** DEMO ONLY: runs a call to the fake bank (the preview) in the background, in order with the events, then [done] on success. */
    fun <T> demoCall(work: () -> T, done: (T) -> Unit) {
        app.runner.run(work) { result ->
            if (!isDestroyed) {
                result.onSuccess(done).onFailure { toast("Fake bank: ${it.message}") }
            }
        }
    }

    fun toast(text: String) = Toast.makeText(this, text, Toast.LENGTH_LONG).show()

    private fun render(screen: Screen) {
        handler.removeCallbacks(tick)
        frame.removeAllViews()
        frame.addView(ScreenViews(this, app.runner, app.bank).view(screen))
        if (screen is Screen.CodeShown && visible) handler.postDelayed(tick, 1000)
    }

    private companion object {
        const val REQUEST_PHONE_NUMBER = 1
    }
}
