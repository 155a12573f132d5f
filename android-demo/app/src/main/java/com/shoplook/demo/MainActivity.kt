package com.shoplook.demo

import android.content.ActivityNotFoundException
import android.content.Intent
import android.net.Uri
import android.os.Bundle
import android.widget.Toast
import androidx.activity.ComponentActivity
import androidx.activity.compose.setContent
import androidx.activity.viewModels
import androidx.compose.material3.MaterialTheme
import com.shoplook.demo.ui.DemoApp

class MainActivity : ComponentActivity() {
    private val model: DemoViewModel by viewModels()

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setContent {
            MaterialTheme {
                DemoApp(model, openUrl = ::openUrl)
            }
        }
    }

    /** Back in the foreground (after the app was stopped): a new catalogue session. */
    override fun onRestart() {
        super.onRestart()
        model.controller.onForeground()
    }

    /** "Buy": the purchase link in the browser (or the shop's app, if it handles the link). */
    private fun openUrl(url: String) {
        try {
            startActivity(Intent(Intent.ACTION_VIEW, Uri.parse(url)))
        } catch (e: ActivityNotFoundException) {
            Toast.makeText(this, "No app can open $url", Toast.LENGTH_LONG).show()
        }
    }
}
