package org.digitalotp.demo.flow

import org.digitalotp.Clock
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors
import java.util.concurrent.Executor

/**
 * Runs [OtpFlow.handle] on one background thread (PBKDF2 and bank calls must not block the
 * UI) and hands each resulting screen to [deliver] on the UI's executor (on Android,
 * `Context.getMainExecutor()`). Events are applied in the order sent.
 */
class FlowRunner(
    /** The flow it runs; read its state only from [run] blocks (its getters wait for a running event). */
    val flow: OtpFlow,
    private val deliver: Executor,
    private val worker: ExecutorService = Executors.newSingleThreadExecutor { r ->
        Thread(r, "digital-otp-flow").apply { isDaemon = true }
    },
) : AutoCloseable {
    /** The current screen (safe to read from any thread). */
    val screen: Screen get() = flow.screen

    /** Applies [event] in the background, then calls [onScreen] on the UI executor. */
    fun send(event: Event, onScreen: (Screen) -> Unit) {
        worker.execute {
            val next = flow.handle(event)
            deliver.execute { onScreen(next) }
        }
    }

    /** Runs [work] (e.g. a demo call to the fake bank) in the background, in order with the events. */
    fun <T> run(work: () -> T, onResult: (Result<T>) -> Unit) {
        worker.execute {
            val result = runCatching(work)
            deliver.execute { onResult(result) }
        }
    }

    override fun close() {
        worker.shutdown()
    }
}

/** The device's wall clock, for the SDK and the flow alike. */
object WallClock : Clock {
    override fun nowUnixSeconds(): ULong = (System.currentTimeMillis() / 1000).toULong()
}
