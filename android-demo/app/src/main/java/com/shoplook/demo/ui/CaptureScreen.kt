// Camera preview with a shutter (CameraX), and the gallery picker. Hands encoded bytes (EXIF kept)
// to the controller; the core decoder applies the orientation.
package com.shoplook.demo.ui

import android.Manifest
import android.content.pm.PackageManager
import android.net.Uri
import android.util.Log
import androidx.activity.compose.rememberLauncherForActivityResult
import androidx.activity.result.PickVisualMediaRequest
import androidx.activity.result.contract.ActivityResultContracts
import androidx.camera.core.CameraSelector
import androidx.camera.core.ImageCapture
import androidx.camera.core.ImageCaptureException
import androidx.camera.core.Preview
import androidx.camera.lifecycle.ProcessCameraProvider
import androidx.camera.view.PreviewView
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.size
import androidx.compose.foundation.shape.CircleShape
import androidx.compose.material3.Button
import androidx.compose.material3.ButtonDefaults
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.text.style.TextAlign
import androidx.compose.ui.unit.dp
import androidx.compose.ui.viewinterop.AndroidView
import androidx.core.content.ContextCompat
import androidx.lifecycle.compose.LocalLifecycleOwner
import java.io.File
import java.util.concurrent.Executors

@Composable
fun CaptureScreen(onPhoto: (ByteArray) -> Unit, onPick: (Uri) -> Unit, onSettings: () -> Unit, onLive: () -> Unit = {}) {
    val context = LocalContext.current
    val lifecycleOwner = LocalLifecycleOwner.current
    var granted by remember {
        mutableStateOf(ContextCompat.checkSelfPermission(context, Manifest.permission.CAMERA) == PackageManager.PERMISSION_GRANTED)
    }
    val askCamera = rememberLauncherForActivityResult(ActivityResultContracts.RequestPermission()) { granted = it }
    LaunchedEffect(Unit) { if (!granted) askCamera.launch(Manifest.permission.CAMERA) }
    val pick = rememberLauncherForActivityResult(ActivityResultContracts.PickVisualMedia()) { uri -> uri?.let(onPick) }
    val capture = remember { ImageCapture.Builder().setCaptureMode(ImageCapture.CAPTURE_MODE_MINIMIZE_LATENCY).build() }
    val io = remember { Executors.newSingleThreadExecutor() }

    Box(Modifier.fillMaxSize()) {
        if (granted) {
            AndroidView(
                factory = { ctx ->
                    PreviewView(ctx).also { view ->
                        val future = ProcessCameraProvider.getInstance(ctx)
                        future.addListener({
                            val provider = future.get()
                            val preview = Preview.Builder().build().also { it.setSurfaceProvider(view.surfaceProvider) }
                            provider.unbindAll()
                            provider.bindToLifecycle(lifecycleOwner, CameraSelector.DEFAULT_BACK_CAMERA, preview, capture)
                        }, ContextCompat.getMainExecutor(ctx))
                    }
                },
                modifier = Modifier.fillMaxSize(),
            )
        } else {
            Text("Allow the camera to take a photo, or pick one from the gallery.", color = Color.White,
                textAlign = TextAlign.Center, modifier = Modifier.align(Alignment.Center).padding(32.dp))
        }
        Row(Modifier.align(Alignment.BottomCenter).fillMaxWidth().padding(24.dp),
            horizontalArrangement = Arrangement.SpaceEvenly, verticalAlignment = Alignment.CenterVertically) {
            OutlinedButton(onClick = { pick.launch(PickVisualMediaRequest(ActivityResultContracts.PickVisualMedia.ImageOnly)) }) {
                Text("Gallery", color = Color.White)
            }
            Button(
                onClick = {
                    // A JPEG file keeps the EXIF orientation CameraX writes; its bytes go to analyze.
                    val file = File.createTempFile("shot", ".jpg", context.cacheDir)
                    capture.takePicture(ImageCapture.OutputFileOptions.Builder(file).build(), io,
                        object : ImageCapture.OnImageSavedCallback {
                            override fun onImageSaved(output: ImageCapture.OutputFileResults) {
                                val bytes = file.readBytes().also { file.delete() }
                                ContextCompat.getMainExecutor(context).execute { onPhoto(bytes) }
                            }
                            override fun onError(e: ImageCaptureException) {
                                Log.w("ShopLookDemo", "capture failed", e)
                                ContextCompat.getMainExecutor(context).execute { onPhoto(ByteArray(0)) }
                            }
                        })
                },
                enabled = granted,
                shape = CircleShape,
                colors = ButtonDefaults.buttonColors(containerColor = Color.White),
                modifier = Modifier.size(72.dp),
            ) {}
            OutlinedButton(onClick = onSettings) { Text("Settings", color = Color.White) }
        }
        // The live viewfinder: boxes follow objects before any shutter press.
        OutlinedButton(onClick = onLive, modifier = Modifier.align(Alignment.TopEnd).padding(24.dp)) {
            Text("Live", color = Color.White)
        }
    }
}
