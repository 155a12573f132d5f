plugins {
    id("com.android.application") version "8.7.3" apply false
    // Same plugin versions as bindings/kotlin/build.gradle.kts (the included :shoplook-android).
    id("com.android.library") version "8.7.3" apply false
    id("org.jetbrains.kotlin.android") version "2.1.0" apply false
    id("org.jetbrains.kotlin.plugin.compose") version "2.1.0" apply false
}
