// Shared demo logic: catalogue settings and display formatting (plain Kotlin, host-tested).
package com.shoplook.demo.logic

import com.shoplook.SearchFilters
import com.shoplook.SearchHit
import java.net.URI
import java.util.Locale

/**
 * Where the catalogue is and how to authenticate. The default URL is the demo catalogue of the
 * top-level README (`shoplook catalogue serve` listens on 127.0.0.1:8787) as seen from the
 * Android emulator, where 10.0.2.2 is the host's loopback. On a device use the host's LAN address
 * (serve with `--listen 0.0.0.0:8787`). The key comes from `shoplook catalogue keys create`.
 */
data class DemoSettings(
    val catalogueUrl: String = DEFAULT_URL,
    val apiKey: String = "",
    val resultsPerSearch: Int = 6,
    /** Only products up to this price (null: any price). */
    val maxPrice: Double? = null,
) {
    /** Null when usable, else what to fix (shown under the field in Settings). */
    fun problem(): String? {
        val url = catalogueUrl.trim()
        val uri = runCatching { URI(url) }.getOrNull()
        return when {
            url.isEmpty() -> "Enter the catalogue URL, e.g. $DEFAULT_URL"
            uri == null || uri.scheme !in setOf("http", "https") || uri.host.isNullOrEmpty() ->
                "The catalogue URL must look like http://host:port"
            apiKey.isBlank() -> "Enter an API key (shoplook catalogue keys create --name demo)"
            resultsPerSearch !in 1..100 -> "Results per search must be between 1 and 100"
            maxPrice != null && !(maxPrice > 0.0) -> "The price limit must be above 0"
            else -> null
        }
    }

    fun filters() = SearchFilters(maxPrice = maxPrice)

    fun normalized() = copy(catalogueUrl = catalogueUrl.trim().trimEnd('/'), apiKey = apiKey.trim())

    companion object {
        const val DEFAULT_PORT = 8787
        const val DEFAULT_URL = "http://10.0.2.2:$DEFAULT_PORT"
    }
}

object Format {
    /** "89.00 EUR": the amount with two decimals and the ISO currency code, in any locale. */
    fun price(amount: Double, currency: String): String = String.format(Locale.ROOT, "%.2f %s", amount, currency)

    /**
     * The product image as a URL the app can load: absolute http(s) URLs as they are; anything else
     * (the demo feed's local file names, which the service does not serve) gives null, and the UI
     * shows a placeholder.
     */
    fun imageUrl(image: String): String? =
        image.takeIf { it.startsWith("https://") || it.startsWith("http://") }

    /** "similar 42%" from a cosine similarity. */
    fun similarity(score: Float): String = "similar ${(score.coerceIn(0f, 1f) * 100).toInt()}%"

    /**
     * Why a hit is where it is: its visual similarity, and what the learned ranking added (in
     * points of similarity, when it is at least half a point): "similar 83%", "similar 83% · learned +4".
     */
    fun explanation(hit: SearchHit): String {
        val points = Math.round(hit.boost * 100f)
        return similarity(hit.similarity) + when {
            points > 0 -> " · learned +$points"
            points < 0 -> " · learned \u2212${-points}"
            else -> ""
        }
    }
}
