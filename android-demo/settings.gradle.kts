// ShopLook Android demo. Open this folder (android-demo/) in Android Studio.
// Before the first build, build the native library and generate the Kotlin bindings into the
// bindings' Android module (scripts/build-android.sh, steps in README.md). NOT built in this
// repository's CI (no Android SDK there); the app's logic is host-tested (README.md).
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
rootProject.name = "shoplook-android-demo"
include(":app")
// The bindings' Android library module: UniFFI-generated Kotlin + libshoplook_ffi.so per ABI.
include(":shoplook-android")
project(":shoplook-android").projectDir = file("../bindings/kotlin/shoplook-android")
