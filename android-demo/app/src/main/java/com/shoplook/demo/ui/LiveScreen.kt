// The live viewfinder (thin: every decision is logic/LiveViewfinder's, host-tested). CameraX binds a
// Preview (PreviewView, FILL_CENTER) and an ImageAnalysis (YUV_420_888, keep-only-latest) with the
// same 4:3 aspect ratio, so the analysis frame stands for what the preview shows; the analyzer hands
// each ImageProxy to the viewfinder, which copies its planes only when a detection is due. A tap on a
// box freezes the picture (PreviewView's bitmap) and opens the product sheet; closing it resumes.
package com.shoplook.demo.ui

import android.graphics.Bitmap
import androidx.camera.core.CameraSelector
import androidx.camera.core.ImageAnalysis
import androidx.camera.core.ImageProxy
import androidx.camera.core.Preview
import androidx.camera.core.resolutionselector.AspectRatioStrategy
import androidx.camera.core.resolutionselector.ResolutionSelector
import androidx.camera.lifecycle.ProcessCameraProvider
import androidx.camera.view.PreviewView
import androidx.compose.foundation.Canvas
import androidx.compose.foundation.Image
import androidx.compose.foundation.background
import androidx.compose.foundation.gestures.detectTapGestures
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.statusBarsPadding
import androidx.compose.material3.Button
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.DisposableEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.geometry.Offset
import androidx.compose.ui.geometry.Size
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.graphics.asImageBitmap
import androidx.compose.ui.graphics.drawscope.Stroke
import androidx.compose.ui.input.pointer.pointerInput
import androidx.compose.ui.layout.ContentScale
import androidx.compose.ui.layout.onSizeChanged
import androidx.compose.ui.text.TextStyle
import androidx.compose.ui.text.drawText
import androidx.compose.ui.text.rememberTextMeasurer
import androidx.compose.ui.unit.dp
import androidx.compose.ui.unit.sp
import androidx.compose.ui.viewinterop.AndroidView
import androidx.core.content.ContextCompat
import androidx.lifecycle.compose.LocalLifecycleOwner
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import com.shoplook.demo.logic.CameraFrame
import com.shoplook.demo.logic.FramePixels
import com.shoplook.demo.logic.LiveState
import com.shoplook.demo.logic.LiveViewfinder
import com.shoplook.demo.logic.trackId
import java.nio.ByteBuffer
import java.util.concurrent.Executors

/** CameraX analyzer: each frame to the viewfinder, its planes copied only when it asks for them. */
class LiveAnalyzer(private val live: LiveViewfinder) : ImageAnalysis.Analyzer {
    // One set of plane arrays, reused: the viewfinder takes pixels only while no frame is in flight,
    // and the tracker has copied them by the time the next frame can be taken.
    private var y = ByteArray(0)
    private var u = ByteArray(0)
    private var v = ByteArray(0)

    override fun analyze(image: ImageProxy) {
        image.use { img ->
            val frame = CameraFrame(img.width, img.height, img.imageInfo.rotationDegrees, img.imageInfo.timestamp / 1e6) {
                val (py, pu, pv) = img.planes
                y = py.buffer.copyInto(y); u = pu.buffer.copyInto(u); v = pv.buffer.copyInto(v)
                FramePixels.Yuv420(y, py.rowStride, u, v, pu.rowStride, pu.pixelStride)
            }
            live.offer(frame)
        }   // closed at once: CameraX delivers the next (latest) frame when it comes
    }

    private fun ByteBuffer.copyInto(reuse: ByteArray): ByteArray {
        val b = duplicate().also { it.rewind() }
        val out = if (reuse.size == b.remaining()) reuse else ByteArray(b.remaining())
        b.get(out)
        return out
    }
}

@Composable
fun LiveScreen(live: LiveViewfinder, onClose: () -> Unit, onSettings: () -> Unit, openUrl: (String) -> Unit) {
    val state by live.state.collectAsStateWithLifecycle()
    val lifecycleOwner = LocalLifecycleOwner.current
    val measurer = rememberTextMeasurer()
    val analysisThread = remember { Executors.newSingleThreadExecutor() }
    var previewView by remember { mutableStateOf<PreviewView?>(null) }
    var frozen by remember { mutableStateOf<Bitmap?>(null) }
    DisposableEffect(Unit) { onDispose { analysisThread.shutdown() } }
    if (state !is LiveState.Frozen) frozen = null

    Box(Modifier.fillMaxSize().onSizeChanged { live.setView(it.width.toFloat(), it.height.toFloat()) }) {
        AndroidView(
            factory = { ctx ->
                PreviewView(ctx).also { view ->
                    view.scaleType = PreviewView.ScaleType.FILL_CENTER
                    previewView = view
                    val fourThree = ResolutionSelector.Builder()
                        .setAspectRatioStrategy(AspectRatioStrategy.RATIO_4_3_FALLBACK_AUTO_STRATEGY).build()
                    val future = ProcessCameraProvider.getInstance(ctx)
                    future.addListener({
                        val provider = future.get()
                        val preview = Preview.Builder().setResolutionSelector(fourThree).build()
                            .also { it.setSurfaceProvider(view.surfaceProvider) }
                        val analysis = ImageAnalysis.Builder()
                            .setResolutionSelector(fourThree)
                            .setBackpressureStrategy(ImageAnalysis.STRATEGY_KEEP_ONLY_LATEST)
                            .setOutputImageFormat(ImageAnalysis.OUTPUT_IMAGE_FORMAT_YUV_420_888)
                            .build()
                            .also { it.setAnalyzer(analysisThread, LiveAnalyzer(live)) }
                        provider.unbindAll()
                        provider.bindToLifecycle(lifecycleOwner, CameraSelector.DEFAULT_BACK_CAMERA, preview, analysis)
                        live.prepare()
                    }, ContextCompat.getMainExecutor(ctx))
                }
            },
            modifier = Modifier.fillMaxSize(),
        )
        frozen?.let { Image(it.asImageBitmap(), contentDescription = "Frozen picture", contentScale = ContentScale.Crop, modifier = Modifier.fillMaxSize()) }
        val boxes = when (val s = state) {
            is LiveState.Running -> s.boxes
            is LiveState.Frozen -> s.boxes
            LiveState.Starting -> emptyList()
        }
        val selected = (state as? LiveState.Frozen)?.selected?.trackId
        Canvas(Modifier.fillMaxSize().pointerInput(live) {
            detectTapGestures { o ->
                val snapshot = previewView?.bitmap   // what the preview shows now
                if (live.tap(o.x, o.y, slop = 24.dp.toPx()) != null) frozen = snapshot
            }
        }) {
            for (b in boxes) {
                val color = TrackColors[((b.trackId ?: 0uL) % TrackColors.size.toULong()).toInt()]
                drawRect(color, Offset(b.rect.left, b.rect.top), Size(b.rect.width, b.rect.height),
                    style = Stroke(if (b.trackId == selected) 5.dp.toPx() else 2.5.dp.toPx()))
                val label = measurer.measure(b.caption, TextStyle(color = Color.Black, fontSize = 12.sp, background = color))
                drawText(label, topLeft = Offset(b.rect.left, (b.rect.top - label.size.height).coerceAtLeast(0f)))
            }
        }
        Row(Modifier.align(Alignment.TopCenter).fillMaxWidth().statusBarsPadding().padding(8.dp),
            horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            Button(onClick = onClose) { Text("Photo") }
            Button(onClick = onSettings) { Text("Settings") }
        }
        val hint = (state as? LiveState.Running)?.let { it.notice?.title ?: "Tap a box to find it in the catalogue." }
        hint?.let {
            Text(it, color = Color.White, modifier = Modifier.align(Alignment.BottomCenter).padding(24.dp)
                .background(Color(0x99000000)).padding(12.dp))
        }
    }
    (state as? LiveState.Frozen)?.let { ProductSheet(it.sheet, live, onSettings = onSettings, openUrl = openUrl) }
}

/** One colour per track, the same for as long as it is followed. */
private val TrackColors = listOf(Color(0xFF00E676), Color(0xFFFFEA00), Color(0xFF00E5FF), Color(0xFFFF9100),
    Color(0xFFFF4081), Color(0xFF76FF03), Color(0xFFD500F9))
