// Android library module: the UniFFI-generated Kotlin (src/main/kotlin, written by
// scripts/build-android.sh) plus the Rust library for each ABI (src/main/jniLibs, built by
// cargo-ndk). `gradle :shoplook-android:assembleRelease` -> build/outputs/aar/shoplook-android-release.aar
plugins {
    id("com.android.library")
    id("org.jetbrains.kotlin.android")
}

android {
    namespace = "com.shoplook"
    compileSdk = 35
    // NDK r27+ links 16 KB-page-aligned ELF files; scripts/build-android.sh also passes
    // -z max-page-size=16384 to the Rust link, so the .so files load on 16 KB-page devices.
    ndkVersion = "27.2.12479018"

    defaultConfig {
        minSdk = 24
        consumerProguardFiles("consumer-rules.pro")
        ndk {
            abiFilters += listOf("arm64-v8a", "armeabi-v7a", "x86_64")
        }
    }

    buildTypes {
        release {
            isMinifyEnabled = false
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    packaging {
        jniLibs {
            // Store .so files uncompressed and page-aligned in the APK (required for 16 KB pages,
            // and lets the loader map them straight from the APK).
            useLegacyPackaging = false
        }
    }

    sourceSets["main"].jniLibs.srcDirs("src/main/jniLibs")
}

kotlin {
    jvmToolchain(17)
}

dependencies {
    // UniFFI's Kotlin calls the library through JNA; the @aar artifact carries JNA's own
    // libjnidispatch.so for every Android ABI (the plain jar has desktop ones only).
    implementation("net.java.dev.jna:jna:5.17.0@aar")
    // `suspend` functions (analyzeAsync, embedRegionAsync, loadFromModelDir...).
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-core:1.10.1")
}
