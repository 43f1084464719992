import java.io.File
import org.jetbrains.kotlin.cli.common.messages.MessageCollector
import org.jetbrains.kotlin.cli.jvm.compiler.EnvironmentConfigFiles
import org.jetbrains.kotlin.cli.jvm.compiler.KotlinCoreEnvironment
import org.jetbrains.kotlin.com.intellij.openapi.util.Disposer
import org.jetbrains.kotlin.com.intellij.psi.PsiErrorElement
import org.jetbrains.kotlin.com.intellij.psi.util.PsiTreeUtil
import org.jetbrains.kotlin.K1Deprecation
import org.jetbrains.kotlin.config.CommonConfigurationKeys
import org.jetbrains.kotlin.config.CompilerConfiguration
import org.jetbrains.kotlin.psi.KtPsiFactory
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.ValueSource

// Gradle cannot run here (no distribution, no Android Gradle Plugin), so the module's Kotlin
// scripts are at least parsed by the Kotlin compiler's own parser: a syntax error fails here
// instead of in Android Studio. Names (Gradle and AGP APIs) are not resolved.
// KotlinCoreEnvironment is marked as K1 API; parsing is all that is used of it.
@OptIn(K1Deprecation::class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GradleScriptSyntaxTest {
    private val disposable = Disposer.newDisposable()
    private val psi = KtPsiFactory(
        KotlinCoreEnvironment.createForProduction(
            disposable,
            CompilerConfiguration().apply { put(CommonConfigurationKeys.MESSAGE_COLLECTOR_KEY, MessageCollector.NONE) },
            EnvironmentConfigFiles.JVM_CONFIG_FILES,
        ).project,
    )

    @AfterAll
    fun dispose() = Disposer.dispose(disposable)

    @ParameterizedTest
    @ValueSource(strings = ["settings.gradle.kts", "build.gradle.kts"])
    fun `parses without syntax errors`(name: String) {
        val script = File(System.getProperty("digitalotp.gradle.dir"), name)
        assertTrue(script.isFile, "$script is missing")
        val file = psi.createFile(name, script.readText().replace("\r\n", "\n"))
        assertTrue(file.isScript(), "$name was not parsed as a script")
        val errors = PsiTreeUtil.collectElementsOfType(file, PsiErrorElement::class.java).map {
            val line = script.readText().substring(0, it.textRange.startOffset).count { c -> c == '\n' } + 1
            "$name:$line: ${it.errorDescription}"
        }
        assertEquals(emptyList<String>(), errors)
    }
}
