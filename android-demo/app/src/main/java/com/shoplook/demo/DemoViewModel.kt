// Thin Android glue: the engine loaded from assets, settings in SharedPreferences, and the shared
// DemoController and LiveViewfinder (logic/, host-tested) run in viewModelScope. No app logic here.
package com.shoplook.demo

import android.app.Application
import android.content.Context
import androidx.lifecycle.AndroidViewModel
import androidx.lifecycle.viewModelScope
import com.shoplook.ModelBytes
import com.shoplook.ShopLook
import com.shoplook.Tracker
import com.shoplook.TrackerOptions
import com.shoplook.demo.logic.DemoController
import com.shoplook.demo.logic.DemoSettings
import com.shoplook.demo.logic.LiveViewfinder
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.launch

class DemoViewModel(app: Application) : AndroidViewModel(app) {
    private val prefs = app.getSharedPreferences("shoplook-demo", Context.MODE_PRIVATE)

    /** Loaded once, off the main thread (reading 34 MB of assets, then the model load). */
    private val engine = viewModelScope.async(Dispatchers.IO) {
        fun model(name: String) = ModelBytes(
            manifestJson = app.assets.open("models/$name.json").use { it.readBytes() },
            // The NNEF export (build.gradle.kts): the phone library has no ONNX parser.
            onnx = app.assets.open("models/$name.nnef.tar").use { it.readBytes() },
        )
        ShopLook.loadFromModelBytes(listOf(model("ssd_mbv2_oidv4")), model("efficientnet_lite0_feat"))
    }

    val controller = DemoController(viewModelScope, { engine.await() }, loadSettings())

    /** The live viewfinder: its own tracker over the same engine; searches and events through [controller]. */
    val live = LiveViewfinder(viewModelScope, { Tracker(engine.await(), TrackerOptions()) }, controller)

    private val _settings = MutableStateFlow(controller.settings)
    val settings: StateFlow<DemoSettings> = _settings.asStateFlow()

    /** Settings are asked for on first start while no API key is set. */
    val needsSettings: Boolean get() = settings.value.problem() != null

    fun saveSettings(s: DemoSettings) {
        val n = s.normalized()
        prefs.edit()
            .putString("url", n.catalogueUrl)
            .putString("key", n.apiKey)
            .putInt("k", n.resultsPerSearch)
            .putFloat("maxPrice", n.maxPrice?.toFloat() ?: -1f)
            .apply()
        controller.updateSettings(n)
        _settings.value = n
    }

    /** Reads a picked photo's bytes (EXIF kept: the core applies the orientation). */
    fun analyzeUri(uri: android.net.Uri) {
        viewModelScope.launch {
            val bytes = kotlinx.coroutines.withContext(Dispatchers.IO) {
                getApplication<Application>().contentResolver.openInputStream(uri)?.use { it.readBytes() }
            }
            controller.analyze(bytes ?: ByteArray(0))   // no bytes: the "can't be read" message
        }
    }

    private fun loadSettings() = DemoSettings(
        catalogueUrl = prefs.getString("url", null) ?: DemoSettings.DEFAULT_URL,
        apiKey = prefs.getString("key", null) ?: "",
        resultsPerSearch = prefs.getInt("k", 6),
        maxPrice = prefs.getFloat("maxPrice", -1f).takeIf { it > 0f }?.toDouble(),
    )
}
