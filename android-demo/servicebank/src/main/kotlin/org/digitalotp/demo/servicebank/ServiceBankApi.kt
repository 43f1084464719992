package org.digitalotp.demo.servicebank

import org.digitalotp.Transaction
import org.json.JSONException
import org.json.JSONObject
import org.digitalotp.demo.flow.BankApi
import org.digitalotp.demo.flow.BankUnavailableException
import java.io.IOException
import java.math.BigInteger
import java.net.HttpURLConnection
import java.net.URI
import java.net.URLEncoder
import java.time.Duration
import javax.net.ssl.HttpsURLConnection
import javax.net.ssl.SSLSocketFactory

/**
 * ==============  DEMO ONLY — a stand-in for the bank's backend relay  ==============
 *
 * The flow's [BankApi] over HTTP to the issuer service (`dotp issuer serve`, contract in
 * `docs/openapi.yaml`), with `java.net.HttpURLConnection`: the one HTTP client both the
 * JVM and Android have (Android has no `java.net.http`), so the demo app and the JVM tests
 * run this same class. It shows, and lets the tests check over a real socket, exactly what
 * the bank's own backend does for the app:
 *
 * - [registrationMessage] → `POST /v1/institutions/{i}/registration`, [unlock] →
 *   `POST /v1/institutions/{i}/unlock`: the SDK's bytes go out unchanged
 *   (`Content-Type: application/json`) and the answer's body comes back unchanged (a
 *   refusal is inside it, status 200, and the SDK reports it);
 * - [verifyLogin] → `POST …/customers/{c}/login-verifications` `{"code"}`, [verifyTransfer]
 *   → `POST …/customers/{c}/transaction-verifications` `{"code", "transaction"}`: the
 *   verdict `accepted` is true, `rejected` false.
 *
 * **Security: never ship this class, nor any API key, in an app.** An API key is a
 * *server* credential: whoever holds the channel key can submit codes and unlock requests
 * for every customer of the institution, and a key shipped in an APK can be extracted
 * from it. In production the app talks to the bank's own backend over its authenticated
 * (and pinned) session; that backend knows the customer from the session and calls the
 * issuer service with the channel key, kept on the server. This class plays that backend
 * inside the demo's process so the flow can be run against the real service; the tests
 * take the key from the environment (`DIGITAL_OTP_CHANNEL_KEY`), never from the source, and
 * the demo app from its build configuration ([ServiceBankSettings]), for a throwaway local
 * service only.
 *
 * **The customer.** The service verifies codes per customer id, which the bank knows from
 * its login session, not from anything the app sends. [customerOf] plays that session: it
 * maps the serial number the flow reports for its credential to the customer the session
 * belongs to, or null when this session has no such credential. The demo's tests fill a
 * map (serial number → customer) once registration has told them the serial number, as a
 * bank's backend would record it against the logged-in customer.
 *
 * **Failures.** A transport failure (connection refused or reset, a timeout, Android
 * refusing cleartext HTTP), a 5xx answer, a 429 (past a rate limit; the message says when
 * to try again) or a 2xx verification answer that is not a verdict throw
 * [BankUnavailableException]: the flow shows "try again" and keeps its state. A retry
 * never counts twice at the issuer: a code it already accepted (the answer lost on the way
 * back) is refused as a replay, without counting, and the flow then shows the refusal. Any
 * other answer that is not 2xx (401 a key the service does not know, 403 a key for another
 * role or institution, 400 a malformed code, 413 a body over 64 KiB, a redirect, which is
 * not followed) throws [ServiceRequestException] with the status and the service's error
 * code: a mistake of the relay's, not a verdict, so never reported as `false`. A
 * verification is `false` only when the service says `rejected`, or without a call when
 * [institutionId] is not this relay's or [customerOf] knows no customer for the serial
 * number (as the fake bank refuses an unknown serial number or institution).
 *
 * Calls block (the flow runs them off the UI thread). No message, code, key or phone
 * number appears in an exception's message or in [toString].
 */
class ServiceBankApi(
    /** The service's base URL, e.g. `http://127.0.0.1:8470` (plain HTTP is served on loopback only) or `https://…`. */
    baseUrl: String,
    /** The institution this relay serves: the path's `{institution}`; give the same id to the flow's `FlowConfig`. */
    val institutionId: String,
    /** The channel API key (`dotp_<id>_<secret>`, role `channel`): a server credential (see the class comment). */
    private val channelKey: String,
    /** The bank's session: the customer id for a credential's serial number, or null when the session has none. */
    private val customerOf: (serialNumber: String) -> String?,
    /** How long connecting may take before the bank counts as not reached. */
    private val connectTimeout: Duration = Duration.ofSeconds(10),
    /** How long the service may stay silent while answering (each read) before the bank counts as not reached. */
    private val requestTimeout: Duration = Duration.ofSeconds(30),
    /** For `https://`: the sockets' factory, e.g. of an `SSLContext` trusting a service's own CA; null for the platform's default trust. */
    private val sslSocketFactory: SSLSocketFactory? = null,
) : BankApi {
    private val institutionUrl: String

    init {
        val base = baseUrl.trimEnd('/')
        val uri = try {
            URI(base)
        } catch (x: java.net.URISyntaxException) {
            throw IllegalArgumentException("not a URL: the issuer service's base URL", x)
        }
        require(uri.scheme == "http" || uri.scheme == "https") { "the issuer service's URL must be http:// or https://" }
        require(!uri.host.isNullOrEmpty()) { "the issuer service's URL has no host" }
        require(institutionId.isNotEmpty()) { "the institution id is empty" }
        require(channelKey.isNotBlank()) { "the channel key is empty" }
        institutionUrl = "$base/v1/institutions/${segment(institutionId)}"
    }

    /** The service's answer to a registration message (request → response, confirmation → outcome), unchanged. */
    override fun registrationMessage(message: ByteArray): ByteArray = post("registration", message)

    /** The service's answer to an unlock request (the bank counts the password guess), unchanged. */
    override fun unlock(request: ByteArray): ByteArray = post("unlock", request)

    /**
     * Whether the service accepts [code] as a login of the session's customer for
     * [serialNumber]; false without a call for another institution or a serial number the
     * session does not know.
     */
    override fun verifyLogin(institutionId: String, serialNumber: String, code: String): Boolean {
        val customer = sessionCustomer(institutionId, serialNumber) ?: return false
        val body = JSONObject().put("code", code).toString()
        return verdict(post("customers/${segment(customer)}/login-verifications", body.toByteArray(Charsets.UTF_8)))
    }

    /**
     * Whether the service accepts [code] for exactly [transaction] (amount, currency, payee,
     * memo) from the session's customer for [serialNumber]; false without a call as in
     * [verifyLogin].
     */
    override fun verifyTransfer(institutionId: String, serialNumber: String, code: String, transaction: Transaction): Boolean {
        val customer = sessionCustomer(institutionId, serialNumber) ?: return false
        val body = JSONObject()
            .put("code", code)
            .put(
                "transaction",
                JSONObject()
                    // The exact unsigned amount, beyond Long too.
                    .put("amount_minor", BigInteger(transaction.amountMinor.toString()))
                    .put("currency", transaction.currency)
                    .put("payee_account", transaction.payeeAccount)
                    .put("payee_name", transaction.payeeName)
                    .put("memo", transaction.memo ?: JSONObject.NULL),
            )
            .toString()
        return verdict(post("customers/${segment(customer)}/transaction-verifications", body.toByteArray(Charsets.UTF_8)))
    }

    /** The base URL and institution only: never the key. */
    override fun toString(): String = "ServiceBankApi($institutionUrl)"

    private fun sessionCustomer(institutionId: String, serialNumber: String): String? =
        if (institutionId != this.institutionId) null else customerOf(serialNumber)

    /** POSTs [body] as JSON to [path] under the institution; the 2xx answer's body, or the documented exception. */
    private fun post(path: String, body: ByteArray): ByteArray {
        val status: Int
        val answer: ByteArray
        val retryAfter: String?
        var connection: HttpURLConnection? = null
        try {
            val http = URI.create("$institutionUrl/$path").toURL().openConnection() as HttpURLConnection
            connection = http
            if (http is HttpsURLConnection && sslSocketFactory != null) http.sslSocketFactory = sslSocketFactory
            http.requestMethod = "POST"
            http.instanceFollowRedirects = false
            http.useCaches = false
            http.connectTimeout = millis(connectTimeout)
            http.readTimeout = millis(requestTimeout)
            http.doOutput = true
            http.setRequestProperty("Authorization", "Bearer $channelKey")
            http.setRequestProperty("Content-Type", "application/json")
            http.setRequestProperty("Accept", "application/json")
            http.outputStream.use { it.write(body) }
            status = http.responseCode
            // A 4xx or 5xx body is the error stream (null when there is none).
            val stream = if (status >= 400) http.errorStream else http.inputStream
            answer = stream?.use { it.readBytes() } ?: ByteArray(0)
            retryAfter = http.getHeaderField("Retry-After")
        } catch (x: IOException) {
            throw BankUnavailableException("the bank's service could not be reached (${describe(x)})", x)
        } finally {
            connection?.disconnect()
        }
        if (status in 200..299) return answer
        val (error, message) = errorOf(answer)
        val said = listOfNotNull(error, message).joinToString(": ").ifEmpty { "no explanation" }
        when {
            status == 429 -> throw BankUnavailableException(
                "the bank's service is busy (HTTP 429)" + (retryAfter?.let { "; try again in $it s" } ?: "; try again later"),
            )
            status in 500..599 -> throw BankUnavailableException("the bank's service could not serve (HTTP $status $said)")
            else -> throw ServiceRequestException(status, error, "the bank's service refused the request (HTTP $status $said)")
        }
    }

    /** The verdict of a 2xx verification answer. */
    private fun verdict(body: ByteArray): Boolean {
        return when (jsonObject(body)?.opt("verdict")) {
            "accepted" -> true
            "rejected" -> false
            else -> throw BankUnavailableException("the bank's service answered without a verdict")
        }
    }

    /** The `error` code and `message` of an error body, when it is the service's JSON. */
    private fun errorOf(body: ByteArray): Pair<String?, String?> {
        val parsed = jsonObject(body)
        return (parsed?.opt("error") as? String) to (parsed?.opt("message") as? String)
    }

    /** [body] as a JSON object, or null if it is not one. */
    private fun jsonObject(body: ByteArray): JSONObject? = try {
        JSONObject(String(body, Charsets.UTF_8))
    } catch (_: JSONException) {
        null
    }

    private fun describe(x: IOException): String = x.javaClass.simpleName + (x.message?.takeIf { it.isNotBlank() }?.let { ": $it" } ?: "")

    private companion object {
        /** A timeout in HttpURLConnection's milliseconds (0 would mean none: at least 1). */
        fun millis(duration: Duration): Int = duration.toMillis().coerceIn(1L, Int.MAX_VALUE.toLong()).toInt()

        /** [text] as one path segment (the `String` overload: Android has the `Charset` one from API 33 only). */
        fun segment(text: String): String = URLEncoder.encode(text, "UTF-8").replace("+", "%20")
    }
}

/**
 * The issuer service refused a call for a reason that is not the bank being unreachable
 * and not a verdict: a key it does not know (401), a key without the right for this call
 * or institution (403), a malformed request (400, e.g. a code that is not 6 to 10 digits),
 * a body over its limit (413). It points at the relay's configuration or a bug; retrying
 * the same call does not help. The message is the status and the service's sentence,
 * which never holds a code, secret or personal data.
 */
class ServiceRequestException(
    /** The HTTP status (4xx, or an unexpected 1xx/3xx). */
    val status: Int,
    /** The service's stable error code (`unauthorized`, `forbidden`, `invalid_input`, …), when its body had one. */
    val error: String?,
    message: String,
) : Exception(message)
