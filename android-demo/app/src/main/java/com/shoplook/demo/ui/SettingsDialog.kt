// Catalogue URL, API key, results per search and a price limit; validated by DemoSettings.problem().
package com.shoplook.demo.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.text.KeyboardOptions
import androidx.compose.material3.AlertDialog
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.unit.dp
import com.shoplook.demo.logic.DemoSettings

@Composable
fun SettingsDialog(current: DemoSettings, onSave: (DemoSettings) -> Unit, onDismiss: () -> Unit) {
    var url by remember { mutableStateOf(current.catalogueUrl) }
    var key by remember { mutableStateOf(current.apiKey) }
    var k by remember { mutableStateOf(current.resultsPerSearch.toString()) }
    var maxPrice by remember { mutableStateOf(current.maxPrice?.toString() ?: "") }
    val edited = DemoSettings(url, key, k.toIntOrNull() ?: 0, maxPrice.toDoubleOrNull())
    val problem = edited.problem()
    AlertDialog(
        onDismissRequest = onDismiss,
        title = { Text("Catalogue") },
        text = {
            Column(verticalArrangement = Arrangement.spacedBy(8.dp)) {
                OutlinedTextField(url, { url = it }, label = { Text("Catalogue URL") }, singleLine = true,
                    keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.Uri))
                OutlinedTextField(key, { key = it }, label = { Text("API key") }, singleLine = true)
                OutlinedTextField(k, { k = it }, label = { Text("Results per search") }, singleLine = true,
                    keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.Number))
                OutlinedTextField(maxPrice, { maxPrice = it }, label = { Text("Max price (optional)") }, singleLine = true,
                    keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.Decimal))
                Text(problem ?: "Emulator: ${DemoSettings.DEFAULT_URL} is your computer's port ${DemoSettings.DEFAULT_PORT}.",
                    style = MaterialTheme.typography.bodySmall,
                    color = if (problem != null) MaterialTheme.colorScheme.error else MaterialTheme.colorScheme.onSurfaceVariant)
            }
        },
        confirmButton = { TextButton(onClick = { onSave(edited) }, enabled = problem == null) { Text("Save") } },
        dismissButton = { TextButton(onClick = onDismiss) { Text("Cancel") } },
    )
}
