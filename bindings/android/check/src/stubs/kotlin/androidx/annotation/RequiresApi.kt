// COMPILE-CHECK STUB, never packaged: androidx.annotation is published only to Google's Maven
// repository, which these machines cannot reach. The generated Android binding uses
// @RequiresApi(Build.VERSION_CODES.UPSIDE_DOWN_CAKE) on two private classes; this declares an
// annotation of the same name and parameters so that scripts/test-android-package.sh can
// compile the binding. The Gradle module uses the real androidx.annotation:annotation.
package androidx.annotation

@Retention(AnnotationRetention.BINARY)
@Target(
    AnnotationTarget.CLASS,
    AnnotationTarget.FUNCTION,
    AnnotationTarget.CONSTRUCTOR,
    AnnotationTarget.PROPERTY_GETTER,
    AnnotationTarget.PROPERTY_SETTER,
    AnnotationTarget.FIELD,
    AnnotationTarget.FILE,
)
annotation class RequiresApi(val value: Int = 1, val api: Int = 1)
