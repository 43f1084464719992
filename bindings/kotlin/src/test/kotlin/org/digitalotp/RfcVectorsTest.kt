package org.digitalotp

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.DynamicTest.dynamicTest
import org.junit.jupiter.api.TestFactory

/**
 * Every RFC test vector of tests/vectors/{hotp,totp,ocra}.json, one dynamic test each, through the
 * Kotlin binding: HOTP (RFC 4226, 10), TOTP (RFC 6238, 18), OCRA (RFC 6287, 70).
 * Each factory first checks the exact count, so a missing or truncated file fails.
 */
class RfcVectorsTest {

    @TestFactory
    fun hotp(): List<DynamicTest> = Support.vectors("hotp", 10).map { v ->
        val counter = v.getLong("counter").toULong()
        dynamicTest("HOTP ${v.getString("algorithm")} counter=$counter") {
            val algorithm = Support.algorithm(v.getString("algorithm"))
            val digits = v.getInt("digits").toUByte()
            val expected = v.getString("code")
            OtpSecret.fromHex(v.getString("key_hex")).use { secret ->
                Hotp(secret, algorithm, digits).use { hotp ->
                    assertEquals(algorithm, hotp.algorithm())
                    assertEquals(digits, hotp.digits())
                    assertEquals(expected, hotp.generate(counter))
                    assertEquals(counter, hotp.verify(expected, counter, 0u, 0u))
                }
            }
        }
    }

    @TestFactory
    fun totp(): List<DynamicTest> = Support.vectors("totp", 18).map { v ->
        val time = v.getLong("time").toULong()
        dynamicTest("TOTP ${v.getString("algorithm")} time=$time") {
            val algorithm = Support.algorithm(v.getString("algorithm"))
            val digits = v.getInt("digits").toUByte()
            val period = v.getLong("period").toULong()
            val t0 = v.getLong("t0").toULong()
            val expected = v.getString("code")
            OtpSecret.fromHex(v.getString("key_hex")).use { secret ->
                Totp(secret, algorithm, digits, period, t0).use { totp ->
                    val code = totp.codeAt(time)
                    val step = (time - t0) / period
                    assertEquals(expected, code.code)
                    assertEquals(step, code.step)
                    assertEquals(step, totp.timeStep(time))
                    assertEquals(t0 + step * period, code.validFrom)
                    assertEquals(code.validFrom + period, code.validUntil)
                    assertEquals(code.validUntil - time, code.secondsRemaining)
                    assertEquals(expected, totp.codeForStep(step))
                    assertEquals(step, totp.verify(expected, time, 0u, 0u))
                }
            }
        }
    }

    @TestFactory
    fun ocra(): List<DynamicTest> = Support.vectors("ocra", 70).mapIndexed { i, v ->
        val suite = v.getString("suite")
        val question = v.getString("question")
        dynamicTest("OCRA #$i $suite Q=$question") {
            val input = OcraInput(
                question = question,
                counter = if (v.has("counter")) v.getLong("counter").toULong() else null,
                timeSteps = if (v.has("time_steps")) v.getLong("time_steps").toULong() else null,
            )
            val expected = v.getString("response")
            // The PIN is its own argument, never part of OcraInput.
            val pin = if (v.has("pin")) OcraPin.plain(v.getString("pin")) else null
            pin.use {
                OtpSecret.fromHex(v.getString("key_hex")).use { key ->
                    Ocra(suite, key).use { ocra ->
                        assertEquals(suite, ocra.suite().suite)
                        assertEquals(expected, ocra.generate(input, pin))
                        val matched = ocra.verify(expected, input, 0u, 0u, pin)
                        assertEquals(input.timeSteps ?: input.counter ?: 0uL, matched)
                    }
                }
            }
        }
    }
}
