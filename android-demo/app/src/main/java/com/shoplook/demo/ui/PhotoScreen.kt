// The analysed photo with a tappable box and label on each target, a draw-a-box mode, and the
// product sheet. Box positions come from BoxMapper/layoutBoxes (logic/, host-tested); taps go
// through DemoController.tap (hitTest), drags through drawnRegion.
package com.shoplook.demo.ui

import androidx.compose.foundation.Canvas
import androidx.compose.foundation.background
import androidx.compose.foundation.gestures.detectDragGestures
import androidx.compose.foundation.gestures.detectTapGestures
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.statusBarsPadding
import androidx.compose.material3.Button
import androidx.compose.material3.Surface
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.geometry.Offset
import androidx.compose.ui.geometry.Size
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.graphics.drawscope.Stroke
import androidx.compose.ui.input.pointer.pointerInput
import androidx.compose.ui.layout.ContentScale
import androidx.compose.ui.layout.onSizeChanged
import androidx.compose.ui.text.TextStyle
import androidx.compose.ui.text.drawText
import androidx.compose.ui.text.rememberTextMeasurer
import androidx.compose.ui.unit.IntSize
import androidx.compose.ui.unit.dp
import androidx.compose.ui.unit.sp
import coil.compose.AsyncImage
import com.shoplook.demo.logic.BoxMapper
import com.shoplook.demo.logic.DemoController
import com.shoplook.demo.logic.Screen
import com.shoplook.demo.logic.Target
import com.shoplook.demo.logic.drawnRegion
import com.shoplook.demo.logic.layoutBoxes
import com.shoplook.demo.logic.ContentScale as BoxScale

private val DetectedColor = Color(0xFF00E676)
private val DrawnColor = Color(0xFFFFC400)

@Composable
fun PhotoScreen(p: Screen.Photo, controller: DemoController, onSettings: () -> Unit, openUrl: (String) -> Unit) {
    var size by remember { mutableStateOf(IntSize.Zero) }
    var dragFrom by remember { mutableStateOf<Offset?>(null) }
    var dragTo by remember { mutableStateOf(Offset.Zero) }
    val measurer = rememberTextMeasurer()
    val mapper = if (size.width > 0 && size.height > 0) {
        BoxMapper.of(p.analysis.width, p.analysis.height, size.width.toFloat(), size.height.toFloat(), BoxScale.FIT)
    } else null
    val boxes = mapper?.let { layoutBoxes(p.targets, it) } ?: emptyList()

    Box(Modifier.fillMaxSize()) {
        // Drawn centred with Fit, exactly as BoxMapper(FIT) assumes. Coil applies the EXIF
        // orientation, so the bitmap has the analysis' (display) width and height.
        AsyncImage(model = p.photo, contentDescription = "Your photo", contentScale = ContentScale.Fit,
            modifier = Modifier.fillMaxSize())
        Canvas(
            Modifier.fillMaxSize()
                .onSizeChanged { size = it }
                .pointerInput(p.drawing, boxes) {
                    if (p.drawing) {
                        detectDragGestures(
                            onDragStart = { dragFrom = it; dragTo = it },
                            onDrag = { change, _ -> dragTo = change.position },
                            onDragEnd = {
                                val from = dragFrom
                                dragFrom = null
                                if (from != null && mapper != null) {
                                    drawnRegion(mapper, from.x, from.y, dragTo.x, dragTo.y)?.let(controller::addDrawnBox)
                                }
                            },
                            onDragCancel = { dragFrom = null },
                        )
                    } else {
                        detectTapGestures { o -> controller.tap(boxes, o.x, o.y, slop = 24.dp.toPx()) }
                    }
                },
        ) {
            val selected = p.sheet?.target
            for (b in boxes) {
                val color = if (b.target is Target.Drawn) DrawnColor else DetectedColor
                val width = if (b.target == selected) 5.dp.toPx() else 2.5.dp.toPx()
                drawRect(color, Offset(b.rect.left, b.rect.top), Size(b.rect.width, b.rect.height), style = Stroke(width))
                val label = measurer.measure(b.caption, TextStyle(color = Color.Black, fontSize = 12.sp, background = color))
                drawText(label, topLeft = Offset(b.rect.left, (b.rect.top - label.size.height).coerceAtLeast(0f)))
            }
            dragFrom?.let { from ->
                drawRect(DrawnColor, Offset(minOf(from.x, dragTo.x), minOf(from.y, dragTo.y)),
                    Size(kotlin.math.abs(dragTo.x - from.x), kotlin.math.abs(dragTo.y - from.y)), style = Stroke(3.dp.toPx()))
            }
        }

        Row(Modifier.align(Alignment.TopCenter).fillMaxWidth().statusBarsPadding().padding(8.dp),
            horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            Button(onClick = controller::newPhoto) { Text("New photo") }
            Button(onClick = { controller.setDrawing(!p.drawing) }) { Text(if (p.drawing) "Stop drawing" else "Draw a box") }
            Button(onClick = onSettings) { Text("Settings") }
        }
        if (p.drawing) {
            Hint("Drag a box around what you want to find.", Modifier.align(Alignment.BottomCenter))
        } else if (p.notice != null && p.sheet == null) {
            Surface(Modifier.align(Alignment.BottomCenter).padding(16.dp)) {
                MessageView(p.notice, onRetry = controller::retry, onSettings = onSettings, onNewPhoto = controller::newPhoto)
            }
        } else if (p.sheet == null) {
            Hint("Tap a box to find it in the catalogue.", Modifier.align(Alignment.BottomCenter))
        }
    }
    p.sheet?.let { sheet ->
        ProductSheet(sheet, controller, onSettings = onSettings, openUrl = openUrl)
    }
}

@Composable
private fun Hint(text: String, modifier: Modifier) {
    Text(text, color = Color.White, modifier = modifier.padding(24.dp).background(Color(0x99000000)).padding(12.dp))
}
