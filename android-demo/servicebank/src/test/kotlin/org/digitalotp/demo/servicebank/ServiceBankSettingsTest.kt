package org.digitalotp.demo.servicebank

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/** [ServiceBankSettings.choose]: the demo app's service or preview, from its build-time values. Needs no service. */
class ServiceBankSettingsTest {
    private val key = "dotp_" + "c".repeat(16) + "_" + "d".repeat(64)
    private val full = mapOf(
        ServiceBankSettings.URL to " http://10.0.2.2:8470/ ",
        ServiceBankSettings.INSTITUTION to "demo-bank",
        ServiceBankSettings.CUSTOMER to "12345",
        ServiceBankSettings.CHANNEL_KEY to key,
    )

    @Test
    fun `all four values - the service, its customer for every serial number, no key in toString`() {
        val choice = assertInstanceOf(ServiceBankSettings.Choice.Service::class.java, ServiceBankSettings.choose { full[it] })
        assertEquals("http://10.0.2.2:8470/", choice.settings.url)
        assertEquals("demo-bank", choice.settings.institution)
        assertEquals("12345", choice.settings.customer)
        assertEquals("demo-bank", choice.api.institutionId)
        assertEquals("ServiceBankSettings(http://10.0.2.2:8470/, demo-bank, 12345)", choice.settings.toString())
        assertEquals("ServiceBankApi(http://10.0.2.2:8470/v1/institutions/demo-bank)", choice.api.toString())
        assertFalse(choice.api.toString().contains("c".repeat(16)))
    }

    @Test
    fun `no value, or only blanks - the preview`() {
        val none = assertInstanceOf(ServiceBankSettings.Choice.Preview::class.java, ServiceBankSettings.choose { null })
        assertEquals("no issuer service configured", none.reason)
        val blank = assertInstanceOf(ServiceBankSettings.Choice.Preview::class.java, ServiceBankSettings.choose { "  " })
        assertEquals("no issuer service configured", blank.reason)
    }

    @Test
    fun `some values - the preview, naming the missing ones`() {
        val partial = full - ServiceBankSettings.CUSTOMER - ServiceBankSettings.CHANNEL_KEY
        val preview = assertInstanceOf(ServiceBankSettings.Choice.Preview::class.java, ServiceBankSettings.choose { partial[it] })
        assertEquals("service settings incomplete, missing digitalotp.customer, digitalotp.channelKey", preview.reason)
    }

    @Test
    fun `a value ServiceBankApi refuses - the preview, saying why and never the key`() {
        for (url in listOf("10.0.2.2:8470", "ftp://10.0.2.2", "http://")) {
            val bad = full + (ServiceBankSettings.URL to url)
            val preview = assertInstanceOf(ServiceBankSettings.Choice.Preview::class.java, ServiceBankSettings.choose { bad[it] }, url)
            assertTrue(preview.reason.startsWith("service settings invalid: "), preview.reason)
            assertFalse(preview.reason.contains("c".repeat(16)), preview.reason)
        }
    }
}
