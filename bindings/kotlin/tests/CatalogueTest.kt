// Catalogue client tests against a real `shoplook catalogue serve` on loopback, started by
// scripts/test-bindings.sh with the demo feed (fixtures/demo-catalogue) ingested.
//
// Environment: SHOPLOOK_CATALOGUE_URL, SHOPLOOK_CATALOGUE_KEY, SHOPLOOK_CATALOGUE_OFFLINE_URL
// (a loopback port where nothing listens), SHOPLOOK_CATALOGUE_ADVERTISER_KEY (creates the
// sponsored-product campaigns), plus SHOPLOOK_MODELS / SHOPLOOK_FIXTURES.

import com.shoplook.*
import com.shoplook.testing.TestCampaigns
import kotlinx.coroutines.runBlocking
import java.io.File
import kotlin.test.*
import org.junit.Test

class CatalogueTest {
    companion object {
        val url: String? = System.getenv("SHOPLOOK_CATALOGUE_URL")
        val key: String = System.getenv("SHOPLOOK_CATALOGUE_KEY") ?: ""
        val offlineUrl: String = System.getenv("SHOPLOOK_CATALOGUE_OFFLINE_URL") ?: "http://127.0.0.1:9"
        val client: CatalogueClient by lazy { CatalogueClient(url!!, key) }
    }

    private val fixtures = File(System.getenv("SHOPLOOK_FIXTURES") ?: "fixtures")
    private val engine: ShopLook by lazy { ShopLook.fromModelDir(System.getenv("SHOPLOOK_MODELS") ?: "models") }

    private fun checkHit(h: SearchHit) {
        assertTrue(h.title.isNotEmpty() && h.brand.isNotEmpty(), "$h")
        assertTrue(h.price > 0.0 && h.currency == "EUR", "$h")
        assertTrue(h.url.startsWith("https://example.com/demo/products/"), "purchase URL: ${h.url}")
        assertTrue(h.image.isNotEmpty())
        assertTrue(h.similarity in -1.0f..1.0001f, "similarity ${h.similarity}")
        // The ranking explanation: the order's score is the similarity plus the learned boost.
        assertEquals(h.similarity + h.boost, h.score, 1e-4f, "$h")
        assertEquals(h.sponsored, h.campaignId != null, "$h")
    }

    @Test
    fun searchForAShoeOnBusReturnsShoesWithPurchaseUrls() {
        val analysis = engine.analyze(File(fixtures, "external/bus.jpg").readBytes())
        val shoe = analysis.items.first { it.category == "shoes" }
        val found = client.search(shoe, analysis.embedder, k = 3u)
        assertTrue(found.results.size in 1..3, "${found.results}")
        assertTrue(found.results.all { it.category == "shoes" }, "${found.results.map { it.category }}")
        found.results.forEach(::checkHit)
        assertTrue(found.queryId.isNotEmpty())
        assertEquals("${analysis.embedder.id}@${analysis.embedder.version}", found.model)
        assertEquals(found.results.sortedByDescending { it.score }, found.results)
    }

    @Test
    fun aCatalogueImageFindsItsOwnProduct() {
        val photo = File(fixtures, "demo-catalogue/demo-shoe-1.jpg").readBytes()
        val found = client.searchEmbedding(engine.embedImage(photo), k = 5u)
        val hit = found.results.firstOrNull { it.id == "demo-shoe-1" }
        assertNotNull(hit, "demo-shoe-1 not in ${found.results.map { it.id }}")
        assertEquals("https://example.com/demo/products/demo-shoe-1", hit.url)
        found.results.forEach(::checkHit)
    }

    @Test
    fun filtersAreApplied() {
        val photo = File(fixtures, "demo-catalogue/demo-shoe-1.jpg").readBytes()
        val found = client.searchEmbedding(engine.embedImage(photo), "shoes", 10u, SearchFilters(maxPrice = 60.0))
        assertTrue(found.results.isNotEmpty())
        assertTrue(found.results.all { it.price <= 60.0 && it.category == "shoes" }, "${found.results}")
    }

    @Test
    fun productAndEvents() = runBlocking {
        val p = client.product("demo-shoe-1")
        assertEquals("https://example.com/demo/products/demo-shoe-1", p.url)
        val photo = File(fixtures, "demo-catalogue/demo-shoe-1.jpg").readBytes()
        val found = client.searchEmbeddingAsync(engine.embedImage(photo), category = "shoes")
        val top = found.results.first()
        client.reportEvent(EventType.IMPRESSION, top.id, found.queryId)
        client.reportEventAsync(EventType.CLICK, top.id, found.queryId)
        client.reportEvent(EventType.PURCHASE, top.id)
    }

    @Test
    fun wrongKeyIsUnauthorized() {
        val bad = CatalogueClient(url!!, "slk_not_a_key")
        val e = assertFailsWith<ShopLookException.Unauthorized> { bad.product("demo-shoe-1") }
        assertFalse(e.isRetryable())
    }

    @Test
    fun noServerIsOffline() {
        val nobody = CatalogueClient(offlineUrl, key)
        val item = engine.analyze(File(fixtures, "external/bus.jpg").readBytes()).items.first()
        val e = assertFailsWith<ShopLookException.Offline> { nobody.search(item, engine.embedderContract()) }
        assertTrue(e.isRetryable())
        assertTrue(e.detail.isNotEmpty())
        runBlocking {
            assertFailsWith<ShopLookException.Offline> { nobody.searchAsync(item, engine.embedderContract()) }
        }
        Unit
    }

    @Test
    fun badUrlAndItemWithoutEmbeddingAreBadRequests() {
        assertFailsWith<ShopLookException.BadRequest> { CatalogueClient("ftp://example.com", key) }
        val item = engine.analyze(File(fixtures, "external/bus.jpg").readBytes(), AnalyzeOptions(embed = false)).items.first()
        assertFailsWith<ShopLookException.BadRequest> { client.search(item, engine.embedderContract()) }
    }

    @Test
    fun theSessionIdIsStableUntilRotated() {
        val c = CatalogueClient(url!!, key)
        val first = c.sessionId()
        assertTrue(Regex("[0-9a-f]{32}").matches(first), first)
        c.product("demo-shoe-1")
        assertEquals(first, c.sessionId(), "calls keep the session")
        val second = c.rotateSession()
        assertNotEquals(first, second)
        assertTrue(Regex("[0-9a-f]{32}").matches(second), second)
        assertEquals(second, c.sessionId())
        assertNotEquals(c.sessionId(), CatalogueClient(url, key).sessionId(), "each client has its own session")
    }

    @Test
    fun aSponsoredHitCarriesItsCampaignAndItsClickIsCharged() = runBlocking {
        assertNotNull(TestCampaigns.advertiserKey, "SHOPLOOK_CATALOGUE_ADVERTISER_KEY is not set")
        val c = CatalogueClient(url!!, key)
        val embedding = engine.embedImage(File(fixtures, "demo-catalogue/demo-shoe-1.jpg").readBytes())
        val organic = c.searchEmbedding(embedding, "shoes", 5u)
        assertTrue(organic.results.size >= 2, "${organic.results}")
        assertTrue(organic.results.none { it.sponsored || it.campaignId != null }, "no live campaign yet: ${organic.results}")
        organic.results.forEach(::checkHit)
        if (organic.ranking == Ranking.VISUAL) assertTrue(organic.results.all { it.boost == 0f })
        // Promote a product that looks like the query but is not first (above the relevance floor).
        val promoted = organic.results.drop(1).firstOrNull { it.inStock && it.similarity >= 0.6f } ?: organic.results.first()
        // Frequency cap 1: one ad per app session.
        val campaign = TestCampaigns.create(promoted.id, "kotlin host test", frequencyCap = 1)
        try {
            val found = c.searchEmbedding(embedding, "shoes", 5u)
            val ad = found.results.first()
            assertTrue(ad.sponsored, "${found.results}")
            assertEquals(campaign.id, ad.campaignId)
            assertEquals(promoted.id, ad.id)
            assertTrue(ad.similarity >= 0.5f, "an ad is as similar as the relevance floor: ${ad.similarity}")
            assertEquals(0f, ad.boost)
            assertEquals(1, found.results.count { it.sponsored }, "one ad slot by default")
            assertEquals(1, found.results.count { it.id == promoted.id }, "the ad is not shown twice")
            found.results.forEach(::checkHit)

            // The session has had its one ad; a new session (the app back in the foreground) gets it again.
            val session = c.sessionId()
            assertTrue(c.searchEmbedding(embedding, "shoes", 5u).results.none { it.sponsored })
            assertEquals(session, c.sessionId())
            c.rotateSession()
            val fresh = c.searchEmbeddingAsync(embedding, category = "shoes", k = 5u)
            assertEquals(campaign.id, fresh.results.first().campaignId, "${fresh.results}")

            // Impressions with their 1-based positions, then a click on the ad: the campaign pays.
            assertEquals(0L, TestCampaigns.get(campaign.id).spentTodayCents)
            fresh.results.forEachIndexed { i, h -> c.reportEvent(EventType.IMPRESSION, h.id, fresh.queryId, (i + 1).toUInt()) }
            Thread.sleep(1100) // a click within 1 s of its ad's serve is not billed (docs/security.md): a shopper looks first
            c.reportEventAsync(EventType.CLICK, fresh.results.first().id, fresh.queryId, position = 1u)
            val spent = TestCampaigns.get(campaign.id).spentTodayCents
            assertTrue(spent in 1L..100L, "charged at most the bid: $spent")
            // The same click again is not charged twice.
            c.reportEvent(EventType.CLICK, fresh.results.first().id, fresh.queryId, 1u)
            assertEquals(spent, TestCampaigns.get(campaign.id).spentTodayCents)
            // Positions are 1-based.
            val e = assertFailsWith<ShopLookException.BadRequest> { c.reportEvent(EventType.CLICK, ad.id, fresh.queryId, 0u) }
            assertTrue(e.detail.contains("position"), e.detail)
        } finally {
            TestCampaigns.pause(campaign.id)
        }
        c.rotateSession()
        assertTrue(c.searchEmbedding(embedding, "shoes", 5u).results.none { it.sponsored }, "a paused campaign serves no ads")
    }

    /** The app's transport, counting the requests that went through it. */
    private class Counting(private val inner: HttpTransport) : HttpTransport {
        val sent = java.util.concurrent.atomic.AtomicInteger()
        override fun send(request: HttpRequest): HttpResponse {
            sent.incrementAndGet()
            return inner.send(request)
        }
    }

    @Test
    fun platformTransportTalksToTheRealServer() = runBlocking {
        val transport = Counting(HttpUrlConnectionTransport())
        val viaApp = CatalogueClient(url!!, key, transport)
        val embedding = engine.embedImage(File(fixtures, "demo-catalogue/demo-shoe-1.jpg").readBytes())
        val found = viaApp.searchEmbeddingAsync(embedding, category = "shoes", k = 5u)
        assertNotNull(found.results.firstOrNull { it.id == "demo-shoe-1" }, "${found.results.map { it.id }}")
        found.results.forEach(::checkHit)
        // The same answer as through the built-in client (query ids differ per search).
        assertEquals(client.searchEmbedding(embedding, "shoes", 5u).results, found.results)
        viaApp.reportEvent(EventType.CLICK, found.results.first().id, found.queryId)
        assertEquals("https://example.com/demo/products/demo-shoe-1", viaApp.product("demo-shoe-1").url)
        assertEquals(3, transport.sent.get())

        val bad = CatalogueClient(url, "slk_not_a_key", HttpUrlConnectionTransport())
        assertFailsWith<ShopLookException.Unauthorized> { bad.product("demo-shoe-1") }
        val nobody = CatalogueClient(offlineUrl, key, HttpUrlConnectionTransport())
        val e = assertFailsWith<ShopLookException.Offline> { nobody.product("demo-shoe-1") }
        assertTrue(e.detail.contains("ConnectException"), e.detail)
    }

    @Test
    fun anExceptionThrownByTheAppTransportIsOffline() {
        val calls = java.util.concurrent.atomic.AtomicInteger()
        val broken = object : HttpTransport {
            override fun send(request: HttpRequest): HttpResponse {
                calls.incrementAndGet()
                throw IllegalStateException("no network stack today")
            }
        }
        val e = assertFailsWith<ShopLookException.Offline> { CatalogueClient(url!!, key, broken).product("demo-shoe-1") }
        assertTrue(e.detail.contains("no network stack today"), e.detail)
        assertEquals(3, calls.get(), "offline is retried twice")
    }
}
