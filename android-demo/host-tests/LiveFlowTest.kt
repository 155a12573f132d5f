// Host tests of the live viewfinder's tap flow against the real library, real video frames
// (LiveFixtures) and the real catalogue server scripts/test-bindings.sh starts on loopback: a tap
// on a box freezes the viewfinder and finds products for that object through the photo screen's
// DemoController (same client, session, events); a tap elsewhere does nothing; the catalogue
// down is a message, and the viewfinder resumes.
package com.shoplook.demo.logic

import com.shoplook.EventType
import com.shoplook.Tracker
import com.shoplook.TrackerOptions
import com.shoplook.demo.logic.LiveFixtures.Layout
import kotlin.test.*
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.After
import org.junit.Test

class LiveFlowTest {
    private val url = System.getenv("SHOPLOOK_CATALOGUE_URL")!!
    private val key = System.getenv("SHOPLOOK_CATALOGUE_KEY")!!
    private val offlineUrl = System.getenv("SHOPLOOK_CATALOGUE_OFFLINE_URL") ?: "http://127.0.0.1:9"
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
    private val good = DemoSettings(catalogueUrl = url, apiKey = key, resultsPerSearch = 4)

    @After fun stop() = scope.cancel()

    /** The photo screen's controller (the lookup) and a viewfinder over it, live on [frames] frames. */
    private suspend fun live(settings: DemoSettings = good, frames: Int = 12): Pair<DemoController, LiveViewfinder> {
        LiveFixtures.requireFrames()
        val demo = DemoController(scope, { DemoFixtures.shop }, settings)
        val v = LiveViewfinder(scope, { Tracker(DemoFixtures.shop, TrackerOptions()) }, demo)
        v.setView(2340f, 1080f)
        LiveDriver.ready(v)
        for (i in 0 until frames) assertTrue(LiveDriver.feed(v, LiveFixtures.frame(i, Layout.NV21)))
        return demo to v
    }

    private suspend fun LiveViewfinder.awaitSheet(): Sheet = withTimeout(30_000) {
        while (true) {
            val s = state.value as? LiveState.Frozen
            if (s != null && s.sheet !is Sheet.Loading) return@withTimeout s.sheet
            delay(10)
        }
        @Suppress("UNREACHABLE_CODE") error("unreachable")
    }

    /** The biggest person box on screen (a fingertip finds it easily). */
    private fun LiveState.Running.person(): ScreenBox =
        boxes.filter { it.target.label == "Person" }.maxBy { it.rect.area }

    @Test
    fun tapOnAPersonFreezesTheViewfinderAndFindsOutfits(): Unit = runBlocking {
        val (demo, v) = live()
        val s = assertIs<LiveState.Running>(v.state.value)
        val box = s.person()
        val hit = assertNotNull(v.tap(box.rect.centerX, box.rect.centerY))
        assertEquals(box.trackId, hit.trackId)
        val frozen = assertIs<LiveState.Frozen>(v.state.value)
        assertEquals(box.trackId, frozen.selected.trackId)
        assertIs<Sheet.Loading>(frozen.sheet)
        assertEquals(s.items, frozen.items, "the frame's boxes stay as they were")
        assertEquals(s.timestampMs, frozen.timestampMs)
        // Frozen: frames are no longer fed.
        val processed = v.counters.processed
        for (i in 12 until 15) assertFalse(v.offer(LiveFixtures.frame(i, Layout.NV21)), "frame $i taken while frozen")
        assertEquals(processed, v.counters.processed)
        // The tapped person's crop, embedded and searched in its category: outfits, with links.
        val sheet = assertIs<Sheet.Products>(v.awaitSheet())
        assertEquals(box.trackId, (sheet.target as Target.Tracked).item.trackId)
        assertTrue(sheet.hits.size in 1..4, "${sheet.hits}")
        assertTrue(sheet.hits.all { it.category == "outfit" && it.url.startsWith("https://example.com/demo/products/") }, "${sheet.hits.map { it.category to it.url }}")
        assertEquals(s.timestampMs, assertIs<LiveState.Frozen>(v.state.value).timestampMs)
        // Impressions, then a click and a purchase, through the photo screen's catalogue session.
        // The sheet shows before its impressions are reported: the search job reports them last.
        v.awaitSearch()
        demo.awaitEvents()
        val top = sheet.hits.first()
        v.openProduct(top)
        assertEquals(top.url, v.buy(top))
        demo.awaitEvents()
        val ev = demo.events.value
        assertTrue(ev.all { it.accepted && it.queryId == sheet.response.queryId }, "$ev")
        assertEquals(sheet.rows.map { it.hit.id to it.position },
            ev.filter { it.type == EventType.IMPRESSION }.map { it.productId to it.position }.sortedBy { it.second })
        assertEquals(setOf(EventType.CLICK, EventType.PURCHASE), ev.filter { it.type != EventType.IMPRESSION }.map { it.type }.toSet())
        assertTrue(ev.filter { it.type != EventType.IMPRESSION }.all { it.productId == top.id && it.position == 1 })
        // Dismissed: live again, boxes come back on the next frames.
        v.resume()
        assertSame(LiveState.Starting, v.state.value)
        for (i in 15 until 24) assertTrue(LiveDriver.feed(v, LiveFixtures.frame(i, Layout.NV21)), "frame $i dropped after resume")
        val again = assertIs<LiveState.Running>(v.state.value)
        assertTrue(again.boxes.isNotEmpty())
        assertEquals(23 * LiveFixtures.FRAME_MS, again.timestampMs)
    }

    @Test
    fun aTapOutsideEveryBoxDoesNothing(): Unit = runBlocking {
        val (_, v) = live()
        val s = assertIs<LiveState.Running>(v.state.value)
        assertTrue(s.boxes.isNotEmpty())
        // A point of the view at least 100 px from every box.
        val far = (0 until 2340 step 20).flatMap { x -> (0 until 1080 step 20).map { y -> x.toFloat() to y.toFloat() } }
            .first { (x, y) -> s.boxes.all { it.rect.distanceTo(x, y) > 100f } }
        assertNull(v.tap(far.first, far.second))
        assertSame(s, v.state.value, "nothing changed")
        assertTrue(LiveDriver.feed(v, LiveFixtures.frame(12, Layout.NV21)), "still live")
        // A tap just outside a box, within the finger slop, still means that box.
        val b = s.person()
        assertEquals(b.trackId, v.tap(b.rect.right + 10f, b.rect.centerY)?.trackId)
        assertIs<LiveState.Frozen>(v.state.value)
    }

    @Test
    fun catalogueDownIsAMessageAndTheViewfinderResumes(): Unit = runBlocking {
        val (demo, v) = live(good.copy(catalogueUrl = offlineUrl))
        val box = assertIs<LiveState.Running>(v.state.value).person()
        assertNotNull(v.tap(box.rect.centerX, box.rect.centerY))
        val failed = assertIs<Sheet.Failed>(v.awaitSheet())
        assertEquals(MessageKind.OFFLINE, failed.message.kind)
        assertEquals("You're offline", failed.message.title)
        assertTrue(failed.message.retryable)
        // Retry while still offline: the same message again, still frozen.
        v.retry()
        assertEquals(MessageKind.OFFLINE, assertIs<Sheet.Failed>(v.awaitSheet()).message.kind)
        // Back to the catalogue: retry finds products.
        demo.updateSettings(good)
        v.retry()
        assertIs<Sheet.Products>(v.awaitSheet())
        // The sheet swiped away (the product sheet's dismiss, as for photos): live again.
        (v as SheetDriver).dismissSheet()
        assertSame(LiveState.Starting, v.state.value)
        for (i in 12 until 21) assertTrue(LiveDriver.feed(v, LiveFixtures.frame(i, Layout.NV21)))
        val again = assertIs<LiveState.Running>(v.state.value)
        assertNull(again.notice)
        assertTrue(again.boxes.isNotEmpty())
    }
}
