// The bottom sheet of products for the tapped box (of a photo, or of the frozen live viewfinder): loading, products (image, title, brand, price,
// why it is there, a "Sponsored" label on paid placements, Buy), or a message (no products, offline, unauthorised, error) with a retry.
package com.shoplook.demo.ui

import androidx.compose.foundation.background
import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.size
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.Button
import androidx.compose.material3.CircularProgressIndicator
import androidx.compose.material3.ExperimentalMaterial3Api
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.ModalBottomSheet
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.layout.ContentScale
import androidx.compose.ui.text.font.FontWeight
import androidx.compose.ui.unit.dp
import coil.compose.AsyncImage
import com.shoplook.demo.logic.SheetDriver
import com.shoplook.demo.logic.Format
import com.shoplook.demo.logic.ProductRow
import com.shoplook.demo.logic.Sheet

@OptIn(ExperimentalMaterial3Api::class)
@Composable
fun ProductSheet(sheet: Sheet, controller: SheetDriver, onSettings: () -> Unit, openUrl: (String) -> Unit) {
    ModalBottomSheet(onDismissRequest = controller::dismissSheet) {
        Text(sheet.target.label, style = MaterialTheme.typography.titleMedium, modifier = Modifier.padding(horizontal = 16.dp))
        when (sheet) {
            is Sheet.Loading -> Row(Modifier.fillMaxWidth().padding(24.dp), horizontalArrangement = Arrangement.spacedBy(16.dp),
                verticalAlignment = Alignment.CenterVertically) {
                CircularProgressIndicator()
                Text("Searching the catalogue…", Modifier.weight(1f))
                OutlinedButton(onClick = controller::cancel) { Text("Cancel") }
            }
            is Sheet.Failed -> MessageView(sheet.message, onRetry = controller::retry, onSettings = onSettings,
                onNewPhoto = controller::newPhoto, modifier = Modifier.fillMaxWidth())
            is Sheet.Products -> LazyColumn(Modifier.padding(bottom = 24.dp)) {
                items(sheet.rows, key = { "${it.position}:${it.hit.id}" }) { row ->
                    ProductCard(row, onOpen = { controller.openProduct(row.hit) }, onBuy = { openUrl(controller.buy(row.hit)) })
                }
            }
        }
    }
}

@Composable
private fun ProductCard(row: ProductRow, onOpen: () -> Unit, onBuy: () -> Unit) {
    val hit = row.hit
    Row(Modifier.fillMaxWidth().clickable(onClick = onOpen).padding(horizontal = 16.dp, vertical = 8.dp),
        horizontalArrangement = Arrangement.spacedBy(12.dp), verticalAlignment = Alignment.CenterVertically) {
        // The demo feed's images are file names the service does not serve: a grey placeholder then.
        AsyncImage(model = Format.imageUrl(hit.image), contentDescription = hit.title, contentScale = ContentScale.Crop,
            modifier = Modifier.size(72.dp).background(Color.LightGray))
        Column(Modifier.weight(1f)) {
            // Paid placements are always labelled.
            row.label?.let { Text(it, style = MaterialTheme.typography.labelSmall, fontWeight = FontWeight.Bold) }
            Text(hit.title, fontWeight = FontWeight.SemiBold, maxLines = 2)
            Text(hit.brand, style = MaterialTheme.typography.bodySmall)
            Text(Format.price(hit.price, hit.currency), style = MaterialTheme.typography.bodyMedium)
            Text(row.explanation + if (hit.inStock) "" else " · out of stock", style = MaterialTheme.typography.labelSmall)
        }
        Button(onClick = onBuy) { Text("Buy") }
    }
}
