// Host tests of the demo's state machine (DemoController) against the real library, real photos
// and the real catalogue server that scripts/test-bindings.sh starts on loopback
// (SHOPLOOK_CATALOGUE_URL / _KEY / _OFFLINE_URL; _ADVERTISER_KEY for the sponsored campaign): the
// whole flow of the app, minus the pixels.
package com.shoplook.demo.logic

import com.shoplook.EventType
import com.shoplook.ShopLookException
import com.shoplook.testing.TestCampaigns
import java.net.URI
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import kotlin.test.*
import org.junit.After
import org.junit.Test

class DemoFlowTest {
    private val url = System.getenv("SHOPLOOK_CATALOGUE_URL")!!
    private val key = System.getenv("SHOPLOOK_CATALOGUE_KEY")!!
    private val offlineUrl = System.getenv("SHOPLOOK_CATALOGUE_OFFLINE_URL") ?: "http://127.0.0.1:9"
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
    private val good = DemoSettings(catalogueUrl = url, apiKey = key, resultsPerSearch = 4)

    @After fun stop() = scope.cancel()

    private fun controller(settings: DemoSettings = good) =
        DemoController(scope, { DemoFixtures.shop }, settings)

    private suspend inline fun <reified T : Screen> DemoController.await(ms: Long = 30_000): T =
        withTimeout(ms) { state.first { it is T } as T }

    private suspend fun DemoController.awaitSheet(ms: Long = 30_000): Sheet =
        withTimeout(ms) { (state.first { (it as? Screen.Photo)?.sheet.let { s -> s != null && s !is Sheet.Loading } } as Screen.Photo).sheet!! }

    /** Stored events, from `/metrics` (an admin key's page). */
    private fun eventsStored(): Int {
        val c = URI("$url/metrics").toURL().openConnection()
        c.setRequestProperty("Authorization", "Bearer " + System.getenv("SHOPLOOK_CATALOGUE_ADMIN_KEY")!!)
        return c.getInputStream().bufferedReader().use { it.readText() }.lines()
            .first { it.startsWith("shoplook_events ") }.substringAfter(' ').trim().toDouble().toInt()
    }

    /** Taps the centre of [item]'s box as laid out on a 1080x2340 portrait phone. */
    private fun DemoController.tapItem(p: Screen.Photo, index: Int): ScreenBox? {
        val m = BoxMapper.of(p.analysis.width, p.analysis.height, 1080f, 2340f)
        val v = m.toView(p.analysis.items[index].bbox)
        return tap(layoutBoxes(p.targets, m), v.centerX, v.centerY)
    }

    @Test
    fun snapTapBuyOnBusReportsClickAndPurchase() = runBlocking {
        val c = controller()
        val t0 = System.nanoTime()
        c.analyze(DemoFixtures.bus)
        val callMs = (System.nanoTime() - t0) / 1e6
        assertIs<Screen.Analyzing>(c.state.value, "progress state while the analysis runs")
        assertTrue(callMs < 50, "analyze() returned after $callMs ms: it must not run on the caller's thread")
        val p = c.await<Screen.Photo>()
        assertNull(p.notice)
        assertTrue(p.targets.size >= 5, "${p.targets}")
        val shoeIndex = p.analysis.items.indexOfFirst { it.category == "shoes" }
        val hit = assertNotNull(c.tapItem(p, shoeIndex))
        assertEquals(Target.Detected(p.analysis.items[shoeIndex]), hit.target)
        assertIs<Sheet.Loading>((c.state.value as Screen.Photo).sheet)
        val sheet = assertIs<Sheet.Products>(c.awaitSheet())
        assertTrue(sheet.hits.size in 1..4, "${sheet.hits}")
        assertTrue(sheet.hits.all { it.category == "shoes" && it.url.startsWith("https://example.com/demo/products/") && it.title.isNotEmpty() && it.brand.isNotEmpty() && it.price > 0 })
        val before = eventsStored()
        c.awaitEvents()   // the impressions of the sheet
        val top = sheet.hits.first()
        c.openProduct(top)
        assertEquals(top.url, c.buy(top))
        c.awaitEvents()
        val ev = c.events.value
        assertTrue(ev.all { it.accepted }, "$ev")
        assertEquals(sheet.hits.map { it.id }.sorted(), ev.filter { it.type == EventType.IMPRESSION }.map { it.productId }.sorted())
        // Events are sent concurrently: compare without order.
        assertEquals(setOf(EventType.CLICK to top.id, EventType.PURCHASE to top.id), ev.filter { it.type != EventType.IMPRESSION }.map { it.type to it.productId }.toSet())
        assertEquals(2, ev.count { it.type != EventType.IMPRESSION })
        assertTrue(ev.all { it.queryId == sheet.response.queryId })
        // Each impression with its 1-based position in the list, the click and the purchase with the top's.
        assertEquals(sheet.rows.map { it.hit.id to it.position },
            ev.filter { it.type == EventType.IMPRESSION }.map { it.productId to it.position }.sortedBy { it.second })
        assertTrue(ev.filter { it.type != EventType.IMPRESSION }.all { it.position == 1 }, "$ev")
        assertTrue(eventsStored() >= before + 2, "the server stored the click and the purchase")
        c.dismissSheet()
        assertNull((c.state.value as Screen.Photo).sheet)
    }

    @Test
    fun aSponsoredResultIsLabelledAndANewSessionSeesItAgain() = runBlocking {
        assertNotNull(TestCampaigns.advertiserKey, "SHOPLOOK_CATALOGUE_ADVERTISER_KEY is not set")
        val c = controller()
        assertNull(c.sessionId, "no client before the first search")
        // A catalogue photo, searched as a box drawn around all of it: its shoe and the shoes like it.
        c.analyze(DemoFixtures.photo("demo-catalogue/demo-shoe-1.jpg"))
        val p = c.await<Screen.Photo>()
        val whole = com.shoplook.Rect(0f, 0f, p.analysis.width.toFloat(), p.analysis.height.toFloat())
        c.addDrawnBox(whole)
        var searched = false
        suspend fun tapShoe(): Sheet.Products {
            if (searched) {
                c.dismissSheet()
                c.select(Target.Drawn(whole))
            }
            searched = true
            return assertIs<Sheet.Products>(c.awaitSheet())
        }
        val organic = tapShoe()
        assertTrue(organic.rows.all { it.label == null && !it.hit.sponsored }, "no live campaign yet")
        assertEquals((1..organic.rows.size).toList(), organic.rows.map { it.position })
        // A product that looks like the query (above the catalogue's relevance floor), second if it can be.
        val similar = organic.hits.filter { it.inStock && it.similarity >= 0.55f }
        val promoted = similar.getOrNull(1) ?: similar.firstOrNull()
            ?: fail("nothing above the relevance floor: ${organic.hits.map { it.id to it.similarity }}")
        // One ad per app session.
        val campaign = TestCampaigns.create(promoted.id, "android demo test", frequencyCap = 1)
        try {
            val sheet = tapShoe()
            val ad = sheet.rows.first()
            assertEquals(ProductRow.SPONSORED, ad.label, "${sheet.rows}")
            assertEquals(campaign.id, ad.hit.campaignId)
            assertEquals(promoted.id to 1, ad.hit.id to ad.position)
            assertTrue(ad.explanation.startsWith("similar "), ad.explanation)
            assertTrue(sheet.rows.drop(1).all { it.label == null }, "${sheet.rows}")
            c.awaitEvents()
            Thread.sleep(1100) // a click within 1 s of its ad's serve is not billed (docs/security.md): a shopper looks first
            c.openProduct(ad.hit)
            c.awaitEvents()
            val ev = c.events.value.filter { it.queryId == sheet.response.queryId }
            assertEquals(sheet.rows.map { it.hit.id to it.position },
                ev.filter { it.type == EventType.IMPRESSION }.map { it.productId to it.position }.sortedBy { it.second })
            val click = ev.single { it.type == EventType.CLICK }
            assertEquals(promoted.id to 1, click.productId to click.position)
            assertTrue(ev.all { it.accepted }, "$ev")
            assertTrue(TestCampaigns.get(campaign.id).spentTodayCents > 0, "the ad's click was charged")

            // Same session: its one ad was shown. Back from the background: a new session sees it again.
            val session = assertNotNull(c.sessionId)
            assertTrue(tapShoe().rows.none { it.label != null })
            c.onForeground()
            assertNotEquals(session, c.sessionId)
            assertEquals(ProductRow.SPONSORED, tapShoe().rows.first().label)
        } finally {
            TestCampaigns.pause(campaign.id)
        }
    }

    @Test
    fun aBoxDrawnByHandIsSearched() = runBlocking {
        val c = controller()
        c.analyze(DemoFixtures.bus)
        val p = c.await<Screen.Photo>()
        c.setDrawing(true)
        assertTrue((c.state.value as Screen.Photo).drawing)
        // Taps do nothing while drawing.
        assertNull(c.tapItem(c.state.value as Screen.Photo, 0))
        val m = BoxMapper.of(p.analysis.width, p.analysis.height, 1080f, 2340f)
        val shoe = m.toView(p.analysis.items.first { it.category == "shoes" }.bbox)
        val region = assertNotNull(drawnRegion(m, shoe.right + 4f, shoe.bottom + 4f, shoe.left - 4f, shoe.top - 4f))
        c.addDrawnBox(region)
        val s = c.state.value as Screen.Photo
        assertFalse(s.drawing)
        assertEquals(Target.Drawn(region), s.targets.last())
        val sheet = assertIs<Sheet.Products>(c.awaitSheet())
        assertEquals(Target.Drawn(region), sheet.target)
        assertTrue(sheet.hits.isNotEmpty())
        // The drawn box is tappable like the detected ones.
        val boxes = layoutBoxes(s.targets, m)
        val drawnOnScreen = boxes.first { it.target is Target.Drawn }
        assertEquals("Your box", drawnOnScreen.caption)
    }

    @Test
    fun cancellingTheAnalysisGoesBackToTheCameraAndDropsTheResult() = runBlocking {
        val c = controller()
        c.analyze(DemoFixtures.bus)
        assertIs<Screen.Analyzing>(c.state.value)
        c.cancel()
        assertSame(Screen.Capture, c.state.value)
        delay(3000)   // the inference finishes on its worker thread; its result must not show up
        assertSame(Screen.Capture, c.state.value)
        // A new photo while one is being analysed: only the new one's result shows.
        c.analyze(DemoFixtures.photo("photos/stuff.jpg"))
        c.analyze(DemoFixtures.bus)
        val p = c.await<Screen.Photo>()
        assertEquals(810u to 1080u, p.analysis.width to p.analysis.height)
    }

    @Test
    fun offlineShowsAMessageAndRetryWorksOnceTheCatalogueIsBack() = runBlocking {
        val c = controller(good.copy(catalogueUrl = offlineUrl))
        c.analyze(DemoFixtures.bus)
        val p = c.await<Screen.Photo>()
        c.tapItem(p, 0)
        val failed = assertIs<Sheet.Failed>(c.awaitSheet())
        assertEquals(MessageKind.OFFLINE, failed.message.kind)
        assertTrue(failed.message.retryable && failed.message.opensSettings)
        assertEquals("You're offline", failed.message.title)
        c.updateSettings(good)
        c.retry()
        val ok = assertIs<Sheet.Products>(c.awaitSheet())
        assertEquals(failed.target, ok.target)
    }

    @Test
    fun wrongKeyIsUnauthorizedAndEventsAreRefused() = runBlocking {
        val c = controller(good.copy(apiKey = "slk_wrong"))
        c.analyze(DemoFixtures.bus)
        c.tapItem(c.await<Screen.Photo>(), 0)
        val failed = assertIs<Sheet.Failed>(c.awaitSheet())
        assertEquals(MessageKind.UNAUTHORIZED, failed.message.kind)
        assertTrue(failed.message.opensSettings)
        assertEquals("Open Settings", failed.message.retryLabel)
    }

    @Test
    fun aCorruptPhotoAsksForAnotherOne() = runBlocking {
        val c = controller()
        val bus = DemoFixtures.bus
        c.analyze(bus.copyOfRange(0, bus.size / 3))   // truncated JPEG
        val f = c.await<Screen.Failed>()
        assertEquals(MessageKind.BAD_PHOTO, f.message.kind)
        assertTrue(f.message.needsNewPhoto && !f.message.retryable)
        c.retry()
        assertSame(Screen.Capture, c.state.value)
        c.analyze(ByteArray(0))
        assertEquals(MessageKind.BAD_PHOTO, c.await<Screen.Failed>().message.kind)
        c.analyze("not a photo".toByteArray())
        assertEquals(MessageKind.BAD_PHOTO, c.await<Screen.Failed>().message.kind)
    }

    @Test
    fun emptyResultsAndAnEmptyPhotoHaveTheirOwnMessages() = runBlocking {
        // A price limit no demo product meets: the catalogue answers with no results.
        val c = controller(good.copy(maxPrice = 1.0))
        c.analyze(DemoFixtures.bus)
        c.tapItem(c.await<Screen.Photo>(), 0)
        val empty = assertIs<Sheet.Failed>(c.awaitSheet())
        assertEquals(Messages.noProducts, empty.message)
        // stuff.jpg: the detector finds nothing; the notice offers to draw a box, and retry does that.
        c.analyze(DemoFixtures.photo("photos/stuff.jpg"))
        val p = c.await<Screen.Photo>()
        assertTrue(p.targets.isEmpty())
        assertEquals(MessageKind.NOTHING_FOUND, p.notice?.kind)
        c.retry()
        assertTrue((c.state.value as Screen.Photo).drawing)
    }

    @Test
    fun errorMessagesForRealErrorsOfTheLibrary() {
        val bad = assertFailsWith<ShopLookException.BadRequest> { com.shoplook.CatalogueClient("ftp://example.com", key) }
        assertEquals(MessageKind.SETTINGS, Messages.forError(bad).kind)
        val corrupt = assertFailsWith<ShopLookException.CorruptImage> { DemoFixtures.shop.analyze(DemoFixtures.bus.copyOfRange(0, 5000)) }
        assertEquals(MessageKind.BAD_PHOTO, Messages.forError(corrupt).kind)
        val region = assertFailsWith<ShopLookException.InvalidRegion> {
            DemoFixtures.shop.embedRegion(DemoFixtures.bus, com.shoplook.Rect(5000f, 5000f, 10f, 10f))
        }
        assertEquals(MessageKind.BAD_PHOTO, Messages.forError(region).kind)
        assertFalse(Messages.forError(region).needsNewPhoto)
        assertEquals(MessageKind.RATE_LIMITED, Messages.forError(ShopLookException.RateLimited(3uL)).kind)
        assertTrue(Messages.forError(ShopLookException.RateLimited(3uL)).message.contains("3 s"))
        assertEquals(MessageKind.SERVER, Messages.forError(ShopLookException.Server(503u, "down")).kind)
        assertEquals(MessageKind.APP_BUG, Messages.forError(IllegalStateException("x")).kind)
    }
}
