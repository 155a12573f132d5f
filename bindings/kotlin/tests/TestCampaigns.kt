// Sponsored-product campaigns for the host tests (bindings/kotlin/tests and android-demo/host-tests,
// compiled into the same jar): created and paused through the catalogue's HTTP API
// (`POST /v1/campaigns`, `POST /v1/campaigns/{id}/pause`) with the advertiser key that
// scripts/bindings-catalogue.sh makes (SHOPLOOK_CATALOGUE_ADVERTISER_KEY). Campaigns are not part
// of the app SDK: advertisers manage them from their own back office.
package com.shoplook.testing

import java.net.HttpURLConnection
import java.net.URI

object TestCampaigns {
    val url: String? = System.getenv("SHOPLOOK_CATALOGUE_URL")
    val advertiserKey: String? = System.getenv("SHOPLOOK_CATALOGUE_ADVERTISER_KEY")

    /** One campaign as the catalogue shows it (the fields the tests read). */
    data class Campaign(val id: String, val productId: String, val status: String, val spentTodayCents: Long)

    /**
     * A live campaign promoting [productId] (asap pacing, a budget no test spends): its id.
     * [frequencyCap]: ads of it per app session per day.
     */
    fun create(productId: String, name: String, bidCents: Int = 100, frequencyCap: Int = 1000): Campaign {
        val body = """{"name":"$name","product_id":"$productId","bid_cents":$bidCents,""" +
            """"daily_budget_cents":100000,"pacing":"asap","frequency_cap":$frequencyCap}"""
        val (status, text) = call("POST", "/v1/campaigns", body)
        check(status == 201) { "POST /v1/campaigns: $status $text" }
        return parse(text)
    }

    /** The campaign as the catalogue has it now (spend included). */
    fun get(id: String): Campaign {
        val (status, text) = call("GET", "/v1/campaigns/$id", null)
        check(status == 200) { "GET /v1/campaigns/$id: $status $text" }
        return parse(text)
    }

    /** Stops [id] serving (tests pause their campaigns so that the others see organic results only). */
    fun pause(id: String) {
        val (status, text) = call("POST", "/v1/campaigns/$id/pause", "{}")
        check(status == 200) { "pause $id: $status $text" }
    }

    private fun parse(json: String): Campaign {
        fun str(field: String) = Regex(""""$field"\s*:\s*"([^"]*)"""").find(json)?.groupValues?.get(1)
            ?: error("no $field in $json")
        fun num(field: String) = Regex(""""$field"\s*:\s*(-?\d+)""").find(json)?.groupValues?.get(1)?.toLong()
            ?: error("no $field in $json")
        return Campaign(str("id"), str("product_id"), str("status"), num("spent_today_cents"))
    }

    private fun call(method: String, path: String, body: String?): Pair<Int, String> {
        val c = URI("${url ?: error("SHOPLOOK_CATALOGUE_URL is not set")}$path").toURL().openConnection() as HttpURLConnection
        c.requestMethod = method
        c.setRequestProperty("Authorization", "Bearer ${advertiserKey ?: error("SHOPLOOK_CATALOGUE_ADVERTISER_KEY is not set")}")
        c.connectTimeout = 10_000
        c.readTimeout = 10_000
        if (body != null) {
            c.doOutput = true
            c.setRequestProperty("Content-Type", "application/json")
            c.outputStream.use { it.write(body.toByteArray()) }
        }
        val status = c.responseCode
        val text = (if (status < 400) c.inputStream else c.errorStream)?.use { it.readBytes().decodeToString() } ?: ""
        c.disconnect()
        return status to text
    }
}
