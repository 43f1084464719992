// Per-call cost of the Kotlin binding against a pure-JVM TOTP (issue 18, item 3).
// Run with scripts/bench-kotlin.sh; not a test. Plain System.nanoTime batches after a
// warm-up: each case runs for WARMUP_MS, then BATCHES batches of about BATCH_MS each, and
// the median (and the best) batch's ns per call is printed.
//
//   java ... org.digitalotp.bench.KotlinBenchKt [case-substring ...]
//
// With arguments, only the cases whose name contains one of them run (the profile run of
// scripts/bench-kotlin.sh uses that to sample one case).
package org.digitalotp.bench

import java.nio.ByteBuffer
import javax.crypto.Mac
import javax.crypto.spec.SecretKeySpec
import org.digitalotp.HashAlgorithm
import org.digitalotp.IntegrityCheckingUniffiLib
import org.digitalotp.OtpSecret
import org.digitalotp.Totp
import org.digitalotp.UniffiLib
import org.digitalotp.UniffiRustCallStatus

private val WARMUP_MS = System.getProperty("bench.warmupMs", "1500").toLong()
private val BATCH_MS = System.getProperty("bench.batchMs", "100").toLong()
private val BATCHES = System.getProperty("bench.batches", "15").toInt()

/** Keeps results alive so the JIT cannot drop the calls. */
@Volatile private var sink = 0

class Result(val name: String, val median: Double, val best: Double)

/** Runs `op` in batches; `op` returns something derived from its result. */
private inline fun measure(name: String, op: (Long) -> Int): Result {
    var acc = 0
    var i = 0L
    // Warm-up, and a calls-per-batch estimate from its rate.
    val warmEnd = System.nanoTime() + WARMUP_MS * 1_000_000
    var calls = 0L
    while (System.nanoTime() < warmEnd) {
        for (k in 0 until 1000) acc += op(i++)
        calls += 1000
    }
    val perBatch = maxOf(1000L, calls * BATCH_MS / WARMUP_MS)
    val samples = DoubleArray(BATCHES)
    for (b in 0 until BATCHES) {
        val t0 = System.nanoTime()
        for (k in 0 until perBatch) acc += op(i++)
        samples[b] = (System.nanoTime() - t0).toDouble() / perBatch
    }
    sink += acc
    samples.sort()
    return Result(name, samples[BATCHES / 2], samples[0])
}

/** RFC 6238 TOTP (HMAC-SHA1, 6 digits) for a time step, with javax.crypto.Mac. */
class JavaTotp(key: ByteArray) {
    private val keySpec = SecretKeySpec(key, "HmacSHA1")
    private val mac: Mac = Mac.getInstance("HmacSHA1").apply { init(keySpec) }

    /** With the precomputed Mac (doFinal resets it for the next call). */
    fun codeForStep(step: Long): String = code(mac, step)

    /** With a new Mac per call (provider lookup and key schedule included). */
    fun codeForStepFreshMac(step: Long): String =
        code(Mac.getInstance("HmacSHA1").apply { init(keySpec) }, step)

    private fun code(mac: Mac, step: Long): String {
        val h = mac.doFinal(ByteBuffer.allocate(8).putLong(step).array())
        val o = h[h.size - 1].toInt() and 0x0f
        val bin = ((h[o].toInt() and 0x7f) shl 24) or ((h[o + 1].toInt() and 0xff) shl 16) or
            ((h[o + 2].toInt() and 0xff) shl 8) or (h[o + 3].toInt() and 0xff)
        return (bin % 1_000_000).toString().padStart(6, '0')
    }
}

fun main(args: Array<String>) {
    val key = "12345678901234567890".toByteArray()
    val java = JavaTotp(key)
    val secret = OtpSecret.fromBytes(key)
    val totp = Totp(secret, HashAlgorithm.SHA1, 6u, 30uL, 0uL)

    // Same codes both ways (RFC 6238 appendix B, SHA1, step 1 -> 94287082 -> 287082).
    check(totp.codeForStep(1uL) == "287082") { "Totp.codeForStep(1) = ${totp.codeForStep(1uL)}" }
    for (s in listOf(1L, 37037036L, 37037037L, 41152263L, 66666666L, 666666666L)) {
        check(totp.codeForStep(s.toULong()) == java.codeForStep(s)) { "step $s differs" }
        check(java.codeForStepFreshMac(s) == java.codeForStep(s)) { "step $s differs (fresh Mac)" }
    }

    // The FFI layer alone, to split a binding call into its parts. `handle` is one owned
    // clone of the Totp's Rust Arc, freed at the end.
    val handle = totp.uniffiCloneHandle()
    val status = UniffiRustCallStatus()

    val cases: List<Pair<String, () -> Result>> = listOf(
        "javax.crypto TOTP, precomputed Mac" to {
            measure("javax.crypto TOTP, precomputed Mac") { java.codeForStep(it).length }
        },
        "javax.crypto TOTP, new Mac per call" to {
            measure("javax.crypto TOTP, new Mac per call") { java.codeForStepFreshMac(it).length }
        },
        "Totp.codeForStep" to {
            measure("Totp.codeForStep") { totp.codeForStep(it.toULong()).length }
        },
        "Totp.digits (getter)" to {
            measure("Totp.digits (getter)") { totp.digits().toInt() }
        },
        "part: JNA call, no arguments" to {
            measure("part: JNA call, no arguments (contract_version)") {
                IntegrityCheckingUniffiLib.ffi_digital_otp_uniffi_contract_version()
            }
        },
        "part: new UniffiRustCallStatus" to {
            measure("part: new UniffiRustCallStatus()") { UniffiRustCallStatus().code.toInt() }
        },
        "part: clone+digits, one reused status" to {
            measure("part: clone+digits, one reused status") {
                UniffiLib.uniffi_digital_otp_fn_method_totp_digits(
                    UniffiLib.uniffi_digital_otp_fn_clone_totp(handle, status), status
                ).toInt()
            }
        },
    )
    val only = args.toList()
    val results = cases.filter { (name, _) -> only.isEmpty() || only.any { name.contains(it) } }
        .map { (_, run) -> run() }
    UniffiLib.uniffi_digital_otp_fn_free_totp(handle, status)
    totp.close()
    secret.close()

    val reference = results.find { it.name == "javax.crypto TOTP, precomputed Mac" }?.median
    println(String.format("%-50s %12s %12s %10s", "case", "median ns", "best ns", "x javax"))
    for (r in results) {
        val ratio = reference?.let { String.format("%9.1fx", r.median / it) } ?: ""
        println(String.format("%-50s %12.1f %12.1f %10s", r.name, r.median, r.best, ratio))
    }
    if (sink == 42) println()
}
