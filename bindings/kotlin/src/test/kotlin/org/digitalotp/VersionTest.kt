package org.digitalotp

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Test

/** The native library reports the SDK version this module is built for (one version everywhere). */
class VersionTest {
    @Test
    fun `sdkVersion is the version of this module`() {
        val expected = System.getProperty("digitalotp.version")
        assertNotNull(expected, "surefire sets digitalotp.version from the pom")
        assertEquals(expected, sdkVersion())
    }
}
