// The demo app: Jetpack Compose + CameraX over the ShopLook bindings (:shoplook-android).
// UI code is thin; the app logic lives in src/main/java/com/shoplook/demo/logic (plain Kotlin,
// host-tested by scripts/test-bindings.sh).
plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
    id("org.jetbrains.kotlin.plugin.compose")
}

// The models ship as assets (assets/models/*.json + *.nnef.tar): the phone library reads NNEF only
// (no ONNX parser in the app; faster cold start), exported from the repository's models/ by the
// host CLI (`shoplook models export-nnef`, which checks each ONNX file's sha256 first).
val modelAssets = layout.buildDirectory.dir("generated/shoplook-models")
val exportModels by tasks.registering(Exec::class) {
    workingDir = rootDir.resolve("..")
    commandLine(
        "cargo", "run", "--release", "-p", "shoplook-cli", "--", "models", "export-nnef",
        "--out", modelAssets.get().dir("models").asFile.path, "ssd_mbv2_oidv4", "efficientnet_lite0_feat",
    )
    inputs.dir(rootDir.resolve("../models"))
    outputs.dir(modelAssets)
}

android {
    namespace = "com.shoplook.demo"
    compileSdk = 35

    defaultConfig {
        applicationId = "com.shoplook.demo"
        minSdk = 24
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
        ndk {
            abiFilters += listOf("arm64-v8a", "armeabi-v7a", "x86_64")
        }
    }

    buildTypes {
        release {
            isMinifyEnabled = false
            signingConfig = signingConfigs.getByName("debug")   // a demo: installable as is
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    buildFeatures {
        compose = true
    }

    androidResources {
        noCompress += "tar"   // read as stored, not inflated, when the models load
    }

    sourceSets["main"].assets.srcDir(modelAssets)

    packaging {
        jniLibs {
            useLegacyPackaging = false
        }
    }
}

tasks.named("preBuild") { dependsOn(exportModels) }

kotlin {
    jvmToolchain(17)
}

dependencies {
    implementation(project(":shoplook-android"))
    // The bindings module's own dependencies are `implementation`: the app uses coroutines directly.
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.10.1")
    implementation("net.java.dev.jna:jna:5.17.0@aar")

    implementation(platform("androidx.compose:compose-bom:2024.12.01"))
    implementation("androidx.compose.ui:ui")
    implementation("androidx.compose.foundation:foundation")
    implementation("androidx.compose.material3:material3")
    implementation("androidx.compose.material:material-icons-core")
    implementation("androidx.activity:activity-compose:1.9.3")
    implementation("androidx.lifecycle:lifecycle-viewmodel-compose:2.8.7")
    implementation("androidx.lifecycle:lifecycle-runtime-compose:2.8.7")

    val camerax = "1.4.1"
    implementation("androidx.camera:camera-camera2:$camerax")
    implementation("androidx.camera:camera-lifecycle:$camerax")
    implementation("androidx.camera:camera-view:$camerax")

    implementation("io.coil-kt:coil-compose:2.7.0")
    implementation("androidx.exifinterface:exifinterface:1.3.7")
}
