import java.io.File
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

// cargoPackageVersion is the block of bindings/android/build.gradle.kts between its
// "cargoPackageVersion: begin/end" markers, compiled here as it is (see ../../pom.xml).
class CargoPackageVersionTest {
    @Test
    fun `reads the repository's Cargo toml like cargo metadata`() {
        val cargoToml = File(System.getProperty("digitalotp.cargo.toml"))
        val expected = System.getProperty("digitalotp.expected.version").orEmpty()
        assertFalse(expected.isBlank(), "digitalotp.expected.version is not set")
        assertEquals(expected, cargoPackageVersion(cargoToml.readText()))
    }

    @Test
    fun `takes the package table's version, not another table's`() {
        val toml = """
            [workspace]
            version = "9.9.9"

            [ package ]   # spaces and a comment
            name = "digital-otp"
            description = "not a version = \"1.0.0\" line"
            version = "1.2.3-rc.1" # the one

            [dependencies]
            uniffi = { version = "=0.32.2" }
            [dependencies.serde]
            version = "1"
        """.trimIndent()
        assertEquals("1.2.3-rc.1", cargoPackageVersion(toml))
    }

    @Test
    fun `refuses a version it cannot read`() {
        assertThrows<IllegalArgumentException> { cargoPackageVersion("[package]\nversion.workspace = true\n") }
        assertThrows<IllegalArgumentException> { cargoPackageVersion("[dependencies]\nversion = \"1\"\n") }
        assertThrows<IllegalArgumentException> { cargoPackageVersion("[[package]]\nversion = \"1\"\n") }
    }
}
