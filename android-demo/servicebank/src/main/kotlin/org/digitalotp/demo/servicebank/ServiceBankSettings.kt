package org.digitalotp.demo.servicebank

/**
 * ==============  DEMO ONLY — a local issuer service for the demo app  ==============
 *
 * Which bank the demo app runs against, from four values given at build time (the Android
 * app: Gradle properties → string resources → its manifest's `<meta-data>`, under the
 * names [NAMES]; see android-demo/README.md):
 *
 * - `digitalotp.serviceUrl`  the issuer service's base URL (`dotp issuer serve`), e.g.
 *   `http://10.0.2.2:8470`, the emulator's name for its host's loopback;
 * - `digitalotp.institution` the institution id (the service's path, the flow's `FlowConfig`);
 * - `digitalotp.customer`    the customer the demo's "login session" belongs to: every
 *   serial number the flow reports is taken as this customer's;
 * - `digitalotp.channelKey`  a channel API key of that institution.
 *
 * All four given: [choose] answers [Choice.Service] with a [ServiceBankApi]. None given:
 * [Choice.Preview], the in-process fake bank (for trying the screens). Some given, or a
 * value [ServiceBankApi] refuses (a URL that is not http/https): [Choice.Preview] too, its
 * [Choice.Preview.reason] saying what is missing or wrong, so the screens show it.
 *
 * **The channel key is a server credential** (see [ServiceBankApi]): a key built into an
 * app can be extracted from it. Use a throwaway key of a throwaway local service; a real
 * app has no such setting, its backend holds the key. No key appears in [toString] or in a
 * reason.
 */
class ServiceBankSettings private constructor(
    /** The service's base URL. */
    val url: String,
    /** The institution id. */
    val institution: String,
    /** The customer of the demo's session. */
    val customer: String,
    private val channelKey: String,
) {
    /** Never the key. */
    override fun toString(): String = "ServiceBankSettings($url, $institution, $customer)"

    /** The demo app's bank. */
    sealed interface Choice {
        /** The issuer service, through [api] (the session's customer for every serial number). */
        class Service(val settings: ServiceBankSettings, val api: ServiceBankApi) : Choice

        /** No (usable) service: the in-process fake bank, and why. */
        class Preview(val reason: String) : Choice
    }

    companion object {
        const val URL = "digitalotp.serviceUrl"
        const val INSTITUTION = "digitalotp.institution"
        const val CUSTOMER = "digitalotp.customer"
        const val CHANNEL_KEY = "digitalotp.channelKey"

        /** The four names, in this order: Gradle properties and manifest meta-data alike. */
        val NAMES: List<String> = listOf(URL, INSTITUTION, CUSTOMER, CHANNEL_KEY)

        /** The bank for the values [valueOf] gives for [NAMES] (null or blank: not given; values are trimmed). */
        fun choose(valueOf: (name: String) -> String?): Choice {
            val values = NAMES.associateWith { valueOf(it)?.trim().orEmpty() }
            val missing = NAMES.filter { values.getValue(it).isEmpty() }
            if (missing.size == NAMES.size) return Choice.Preview("no issuer service configured")
            if (missing.isNotEmpty()) return Choice.Preview("service settings incomplete, missing ${missing.joinToString()}")
            val settings = ServiceBankSettings(values.getValue(URL), values.getValue(INSTITUTION), values.getValue(CUSTOMER), values.getValue(CHANNEL_KEY))
            val api = try {
                ServiceBankApi(settings.url, settings.institution, settings.channelKey, { settings.customer })
            } catch (x: IllegalArgumentException) {
                // ServiceBankApi's messages name the URL's problem, never the key.
                return Choice.Preview("service settings invalid: ${x.message}")
            }
            return Choice.Service(settings, api)
        }
    }
}
