// Gradle build of the Android library (AAR). Not run in this repository's CI (no Android SDK
// there): see bindings/README.md, "Android (AAR)". Build with scripts/build-android.sh.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}
dependencyResolutionManagement {
    repositories {
        google()
        mavenCentral()
    }
}
rootProject.name = "shoplook-kotlin"
include(":shoplook-android")
