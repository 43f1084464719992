package org.digitalotp.demo.servicebank

import com.sun.net.httpserver.HttpExchange
import com.sun.net.httpserver.HttpServer
import java.math.BigInteger
import java.net.InetAddress
import java.net.InetSocketAddress
import java.time.Duration
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import org.digitalotp.Transaction
import org.digitalotp.demo.flow.BankUnavailableException
import org.json.JSONObject
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/**
 * [ServiceBankApi]'s side of the wire against a scripted HTTP server (the JDK's
 * `com.sun.net.httpserver`) on loopback: the requests it writes, and how it maps the
 * answers the real service gives only under load or failure (5xx, 429, a body that is not
 * a verdict, a server that does not answer). The real service's answers are covered by
 * [ServiceBankFlowTest]. Needs no service: the key here is a made-up string.
 */
class ServiceBankApiHttpTest {
    private class Seen(val method: String, val path: String, val headers: Map<String, String>, val body: ByteArray)

    private class Reply(val status: Int, val body: ByteArray, val headers: Map<String, String> = emptyMap())

    private val seen = CopyOnWriteArrayList<Seen>()

    @Volatile private var reply: (Seen) -> Reply = { Reply(200, "{\"verdict\":\"accepted\"}".toByteArray()) }

    private val server = HttpServer.create(InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0).apply {
        createContext("/") { exchange: HttpExchange ->
            exchange.use {
                val request = Seen(
                    it.requestMethod,
                    it.requestURI.rawPath,
                    it.requestHeaders.mapKeys { (k, _) -> k.lowercase() }.mapValues { (_, v) -> v.joinToString(",") },
                    it.requestBody.readAllBytes(),
                )
                seen += request
                val answer = reply(request)
                answer.headers.forEach { (k, v) -> it.responseHeaders.add(k, v) }
                it.sendResponseHeaders(answer.status, if (answer.body.isEmpty()) -1 else answer.body.size.toLong())
                if (answer.body.isNotEmpty()) it.responseBody.write(answer.body)
            }
        }
        start()
    }

    private val url = "http://127.0.0.1:${server.address.port}/"
    private val key = "dotp_" + "a".repeat(16) + "_" + "b".repeat(64)
    private val api = ServiceBankApi(url, "bank-x", key, { serial -> if (serial == "DOTP0001") "kim.1" else null })

    @Volatile private var stopped = false

    @AfterEach
    fun stopServer() {
        if (!stopped) server.stop(0)
        stopped = true
    }

    @Test
    fun `the requests - paths under the institution, the bearer key, JSON bodies, the SDK's bytes unchanged both ways`() {
        val message = "{\"type\":\"request\",\"x\":\"\u00e9\\u0000\"}".toByteArray()
        val answer = byteArrayOf(0x7b, 0x7d, 0x00, -1, 0x0a)
        reply = { Reply(200, answer) }
        assertArrayEquals(answer, api.registrationMessage(message))
        assertArrayEquals(answer, api.unlock(message))
        reply = { Reply(200, "{\"verdict\":\"accepted\"}".toByteArray()) }
        assertTrue(api.verifyLogin("bank-x", "DOTP0001", "123456"))
        val tx = Transaction(amountMinor = 18_446_744_073_709_551_615uL, currency = "KRW", payeeAccount = "110-123", payeeName = "홍\"길\\동\n", memo = null)
        assertTrue(api.verifyTransfer("bank-x", "DOTP0001", "12345678", tx))

        assertEquals(
            listOf(
                "/v1/institutions/bank-x/registration",
                "/v1/institutions/bank-x/unlock",
                "/v1/institutions/bank-x/customers/kim.1/login-verifications",
                "/v1/institutions/bank-x/customers/kim.1/transaction-verifications",
            ),
            seen.map { it.path },
        )
        for (s in seen) {
            assertEquals("POST", s.method)
            assertEquals("Bearer $key", s.headers["authorization"])
            assertEquals("application/json", s.headers["content-type"])
        }
        assertArrayEquals(message, seen[0].body)
        assertArrayEquals(message, seen[1].body)
        assertEquals(mapOf("code" to "123456"), JSONObject(String(seen[2].body, Charsets.UTF_8)).toMap())
        assertEquals(
            mapOf(
                "code" to "12345678",
                "transaction" to mapOf(
                    // Beyond Long: written as the exact unsigned decimal.
                    "amount_minor" to BigInteger("18446744073709551615"),
                    "currency" to "KRW",
                    "payee_account" to "110-123",
                    "payee_name" to "홍\"길\\동\n",
                    "memo" to null,
                ),
            ),
            JSONObject(String(seen[3].body, Charsets.UTF_8)).toMap(),
        )
        assertTrue(String(seen[3].body, Charsets.UTF_8).contains("\"amount_minor\":18446744073709551615"))
    }

    @Test
    fun `a rejected verdict is false - an unknown serial number or another institution is false without a request`() {
        reply = { Reply(200, "{\"verdict\":\"rejected\"}".toByteArray()) }
        assertFalse(api.verifyLogin("bank-x", "DOTP0001", "123456"))
        assertFalse(api.verifyTransfer("bank-x", "DOTP0001", "12345678", Transaction(1uL, "KRW", "1", "Kim", null)))
        assertEquals(2, seen.size)
        assertFalse(api.verifyLogin("bank-x", "DOTP0002", "123456"))
        assertFalse(api.verifyLogin("bank-y", "DOTP0001", "123456"))
        assertEquals(2, seen.size, "no request for them")
    }

    @Test
    fun `5xx, 429 and an answer without a verdict are BankUnavailableException`() {
        reply = { Reply(503, "{\"error\":\"unavailable\",\"message\":\"the issuer cannot serve now; try again\"}".toByteArray()) }
        val down = assertThrows(BankUnavailableException::class.java) { api.unlock("{}".toByteArray()) }
        assertEquals("the bank's service could not serve (HTTP 503 unavailable: the issuer cannot serve now; try again)", down.message)
        reply = { Reply(500, "<html>oops</html>".toByteArray()) }
        assertTrue(assertThrows(BankUnavailableException::class.java) { api.registrationMessage("{}".toByteArray()) }.message!!.contains("HTTP 500 no explanation"))
        reply = { Reply(429, "{\"error\":\"rate_limited\",\"message\":\"too many requests; try again in 7 s\"}".toByteArray(), mapOf("Retry-After" to "7")) }
        val busy = assertThrows(BankUnavailableException::class.java) { api.verifyLogin("bank-x", "DOTP0001", "123456") }
        assertEquals("the bank's service is busy (HTTP 429); try again in 7 s", busy.message)
        for (body in listOf("{\"verdict\":\"maybe\"}", "{}", "accepted", "")) {
            reply = { Reply(200, body.toByteArray()) }
            val odd = assertThrows(BankUnavailableException::class.java) { api.verifyLogin("bank-x", "DOTP0001", "123456") }
            assertEquals("the bank's service answered without a verdict", odd.message, body)
        }
    }

    @Test
    fun `other statuses are ServiceRequestException with the service's error code, and never show the key`() {
        for ((status, code) in listOf(400 to "invalid_input", 401 to "unauthorized", 403 to "forbidden", 404 to "not_found", 413 to null)) {
            reply = { Reply(status, code?.let { "{\"error\":\"$it\",\"message\":\"a sentence\"}" }?.toByteArray() ?: ByteArray(0)) }
            val x = assertThrows(ServiceRequestException::class.java) { api.verifyLogin("bank-x", "DOTP0001", "123456") }
            assertEquals(status, x.status)
            assertEquals(code, x.error)
            assertTrue(x.message!!.startsWith("the bank's service refused the request (HTTP $status"), x.message)
            assertFalse(x.message!!.contains(key.substring(5, 21)))
        }
        reply = { Reply(302, ByteArray(0), mapOf("Location" to "http://example.invalid/")) }
        assertNull(assertThrows(ServiceRequestException::class.java) { api.unlock("{}".toByteArray()) }.error, "redirects are not followed")
        assertFalse(api.toString().contains(key.substring(5, 21)), api.toString())
    }

    @Test
    fun `a service that does not answer in time, or is not there, is BankUnavailableException`() {
        val slow = ServiceBankApi(url, "bank-x", key, { "kim.1" }, requestTimeout = Duration.ofMillis(300))
        // The server answers only once the client has given up (the 30 s are a guard only).
        val release = CountDownLatch(1)
        reply = { release.await(30, TimeUnit.SECONDS); Reply(200, "{\"verdict\":\"accepted\"}".toByteArray()) }
        val late = assertThrows(BankUnavailableException::class.java) { slow.verifyLogin("bank-x", "DOTP0001", "123456") }
        release.countDown()
        assertTrue(late.message!!.startsWith("the bank's service could not be reached (SocketTimeoutException"), late.message)
        stopServer()
        val gone = assertThrows(BankUnavailableException::class.java) { api.unlock("{}".toByteArray()) }
        assertTrue(gone.message!!.startsWith("the bank's service could not be reached (ConnectException"), gone.message)
    }

    @Test
    fun `a base URL must be http or https with a host, and the key must be given`() {
        assertThrows(IllegalArgumentException::class.java) { ServiceBankApi("ftp://127.0.0.1", "bank-x", key, { null }) }
        assertThrows(IllegalArgumentException::class.java) { ServiceBankApi("127.0.0.1:8470", "bank-x", key, { null }) }
        assertThrows(IllegalArgumentException::class.java) { ServiceBankApi("http://127.0.0.1:8470", "bank-x", " ", { null }) }
        assertThrows(IllegalArgumentException::class.java) { ServiceBankApi("http://127.0.0.1:8470", "", key, { null }) }
    }
}
