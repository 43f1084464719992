package org.digitalotp

import java.util.concurrent.atomic.AtomicLong

/** A [Clock] written in Kotlin that stays where it is set; tests move it with [advance]. */
class TestClock(start: Long) : Clock {
    private val now = AtomicLong(start)

    override fun nowUnixSeconds(): ULong = now.get().toULong()

    /** The time the SDK sees, in Unix seconds. */
    val seconds: Long get() = now.get()

    fun advance(seconds: Long) {
        now.addAndGet(seconds)
    }
}
