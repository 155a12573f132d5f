// The one screen of the demo, switched on the shared state machine's Screen (logic/Screen.kt).
// Thin: every decision is DemoController's; this file only draws and forwards events.
package com.shoplook.demo.ui

import androidx.activity.compose.BackHandler
import androidx.compose.foundation.background
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.padding
import androidx.compose.material3.Button
import androidx.compose.material3.CircularProgressIndicator
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.draw.alpha
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.layout.ContentScale
import androidx.compose.ui.text.style.TextAlign
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import coil.compose.AsyncImage
import com.shoplook.demo.DemoViewModel
import com.shoplook.demo.logic.Screen
import com.shoplook.demo.logic.UiMessage

@Composable
fun DemoApp(model: DemoViewModel, openUrl: (String) -> Unit) {
    val controller = model.controller
    val state by controller.state.collectAsStateWithLifecycle()
    val settings by model.settings.collectAsStateWithLifecycle()
    var showSettings by rememberSaveable { mutableStateOf(model.needsSettings) }
    var liveMode by rememberSaveable { mutableStateOf(false) }

    BackHandler(enabled = state !is Screen.Capture || liveMode) {
        if (liveMode) liveMode = false
        else if (state is Screen.Analyzing) controller.cancel() else controller.newPhoto()
    }

    Box(Modifier.fillMaxSize().background(Color.Black)) {
        if (liveMode && state is Screen.Capture) {
            LiveScreen(model.live, onClose = { liveMode = false }, onSettings = { showSettings = true }, openUrl = openUrl)
        } else when (val s = state) {
            Screen.Capture -> CaptureScreen(
                onPhoto = controller::analyze,
                onPick = model::analyzeUri,
                onSettings = { showSettings = true },
                onLive = { liveMode = true },
            )
            is Screen.Analyzing -> AnalyzingScreen(s.photo, onCancel = controller::cancel)
            is Screen.Failed -> MessageView(
                s.message,
                onRetry = controller::retry,
                onSettings = { showSettings = true },
                onNewPhoto = controller::newPhoto,
                modifier = Modifier.fillMaxSize().background(Color.White),
            )
            is Screen.Photo -> PhotoScreen(
                s, controller,
                onSettings = { showSettings = true },
                openUrl = openUrl,
            )
        }
    }
    if (showSettings) {
        SettingsDialog(settings, onSave = { model.saveSettings(it); showSettings = false }, onDismiss = { showSettings = false })
    }
}

/** The photo, dimmed, with a progress indicator while the analysis runs off the main thread. */
@Composable
private fun AnalyzingScreen(photo: ByteArray, onCancel: () -> Unit) {
    Box(Modifier.fillMaxSize()) {
        AsyncImage(model = photo, contentDescription = null, contentScale = ContentScale.Fit,
            modifier = Modifier.fillMaxSize().alpha(0.5f))
        Column(Modifier.align(Alignment.Center), horizontalAlignment = Alignment.CenterHorizontally,
            verticalArrangement = Arrangement.spacedBy(16.dp)) {
            CircularProgressIndicator(color = Color.White)
            Text("Finding shoppable things…", color = Color.White)
            OutlinedButton(onClick = onCancel) { Text("Cancel", color = Color.White) }
        }
    }
}

/** A message with its retry button and, where it helps, Settings / another photo. */
@Composable
fun MessageView(
    message: UiMessage,
    onRetry: () -> Unit,
    onSettings: () -> Unit,
    onNewPhoto: () -> Unit,
    modifier: Modifier = Modifier,
) {
    Column(modifier.padding(24.dp), verticalArrangement = Arrangement.spacedBy(12.dp, Alignment.CenterVertically),
        horizontalAlignment = Alignment.CenterHorizontally) {
        Text(message.title, style = androidx.compose.material3.MaterialTheme.typography.titleLarge, textAlign = TextAlign.Center)
        Text(message.message, textAlign = TextAlign.Center)
        Button(onClick = if (message.needsNewPhoto) onNewPhoto else if (message.opensSettings && !message.retryable) onSettings else onRetry) {
            Text(message.retryLabel)
        }
        if (message.opensSettings && message.retryable) OutlinedButton(onClick = onSettings) { Text("Settings") }
        if (!message.needsNewPhoto) OutlinedButton(onClick = onNewPhoto) { Text("New photo") }
    }
}
