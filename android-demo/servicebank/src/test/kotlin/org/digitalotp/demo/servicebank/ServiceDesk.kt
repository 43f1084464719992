package org.digitalotp.demo.servicebank

import java.net.URI
import java.net.URLEncoder
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.time.Duration
import org.digitalotp.mobileVendorCode
import org.json.JSONException
import org.json.JSONObject
import org.junit.jupiter.api.Assertions.fail

/**
 * The running issuer service the tests use, from the environment that
 * `scripts/with-issuer-service.sh` exports (`scripts/test-android-demo.sh` runs Maven under
 * it). A missing variable fails the test with a message saying how to run it: these tests
 * never skip. The keys exist only in the environment, never in the sources.
 */
object ServiceEnv {
    /** `DIGITAL_OTP_SERVICE_URL`: the service's base URL. */
    val url: String get() = variable("DIGITAL_OTP_SERVICE_URL")

    /** `DIGITAL_OTP_SERVICE_INSTITUTION`: the institution the keys are for. */
    val institution: String get() = variable("DIGITAL_OTP_SERVICE_INSTITUTION")

    /** `DIGITAL_OTP_CHANNEL_KEY`: a key with role channel (the app's calls, through the bank's backend). */
    val channelKey: String get() = variable("DIGITAL_OTP_CHANNEL_KEY")

    /** `DIGITAL_OTP_STAFF_KEY`: a key with role staff (customers, registration codes, inquiries). */
    val staffKey: String get() = variable("DIGITAL_OTP_STAFF_KEY")

    private fun variable(name: String): String {
        val value = System.getenv(name)
        // Unset in Maven's environment, the POM's ${env.NAME} reaches the test JVM uninterpolated.
        if (value.isNullOrBlank() || value.startsWith("\${env.")) {
            fail<Unit>(
                "$name is not set: these tests need a running issuer service. Run them with " +
                    "scripts/test-android-demo.sh, which starts one (scripts/with-issuer-service.sh) and exports " +
                    "DIGITAL_OTP_SERVICE_URL, DIGITAL_OTP_SERVICE_INSTITUTION, DIGITAL_OTP_CHANNEL_KEY and DIGITAL_OTP_STAFF_KEY",
            )
        }
        return value!!
    }
}

/**
 * TEST HELPER: the bank's service desk over the issuer service's staff API, with the staff
 * key: what the bank's branch or web does before the app registers (a customer, an app
 * registration code after its own identity check) and the inquiries the tests check the
 * bank's side with. Any answer but the expected status fails with the status and body.
 */
class ServiceDesk(
    baseUrl: String = ServiceEnv.url,
    private val institutionId: String = ServiceEnv.institution,
    private val staffKey: String = ServiceEnv.staffKey,
) {
    private val institutionUrl = "${baseUrl.trimEnd('/')}/v1/institutions/${segment(institutionId)}"
    private val client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build()

    /** `POST …/customers`: an individual, domestic customer [customer] with [name] and [phone]. */
    fun addCustomer(customer: String, name: String, phone: String) {
        call("POST", "customers", 201, JSONObject().put("customer", customer).put("name", name).put("phone", phone).toString())
    }

    /** `POST …/customers/{c}/registration-codes` after the bank's own identity check [reference]: the app registration code. */
    fun issueRegistrationCode(customer: String, reference: String = "kyc-1"): String {
        val answer = call("POST", "customers/${segment(customer)}/registration-codes", 201, JSONObject().put("verification_reference", reference).toString())
        return answer["registration_code"] as? String ?: fail("no registration_code in $answer")
    }

    /** `GET …/devices/DOTP/{serial}`: the bank's record of the mobile OTP [serialNumber] (the OpenAPI `Device`). */
    fun device(serialNumber: String): Map<*, *> = call("GET", "devices/${segment(mobileVendorCode())}/${segment(serialNumber)}", 200, null)

    /** The state (`pending`, `active`, `revoked`, …) of the latest registration of [serialNumber] at this institution. */
    fun registrationState(serialNumber: String): String? =
        (device(serialNumber)["registrations"] as List<*>).map { it as Map<*, *> }.lastOrNull { it["institution"] == institutionId }?.get("state") as String?

    /** The wrong app passwords the bank still allows the OTP [serialNumber] (its own count). */
    fun appPasswordAttemptsLeft(serialNumber: String): Long? = (device(serialNumber)["app_password_attempts_left"] as Number?)?.toLong()

    /** The device's count of wrong codes. */
    fun errorCount(serialNumber: String): Long = (device(serialNumber)["error_count"] as Number).toLong()

    /** `GET …/audit?action=…`: the details of the newest entries for [action] on the OTP [serialNumber], newest first. */
    fun auditDetails(serialNumber: String, action: String): List<String> {
        val subject = "device:${mobileVendorCode()}:$serialNumber"
        val query = "audit?action=${segment(action)}&subject=${segment(subject)}&limit=20"
        return (call("GET", query, 200, null)["entries"] as List<*>).map { (it as Map<*, *>)["detail"] as String }
    }

    private fun call(method: String, path: String, expected: Int, body: String?): Map<*, *> {
        val request = HttpRequest.newBuilder(URI.create("$institutionUrl/$path"))
            .timeout(Duration.ofSeconds(30))
            .header("Authorization", "Bearer $staffKey")
            .header("X-Dotp-Actor", "test-desk")
            .header("Content-Type", "application/json")
            .method(method, body?.let { HttpRequest.BodyPublishers.ofString(it) } ?: HttpRequest.BodyPublishers.noBody())
            .build()
        val response = client.send(request, HttpResponse.BodyHandlers.ofString())
        if (response.statusCode() != expected) {
            fail<Unit>("$method ${path.substringBefore('?')}: expected $expected, got ${response.statusCode()} ${response.body()}")
        }
        return try {
            JSONObject(response.body()).toMap()
        } catch (_: JSONException) {
            fail("$method $path: not a JSON object: ${response.body()}")
        }
    }

    private fun segment(text: String): String = URLEncoder.encode(text, Charsets.UTF_8).replace("+", "%20")
}
