// Host tests of the live viewfinder (logic/LiveViewfinder.kt, LiveGeometry.kt, CameraFrame.kt) with
// the real library and real video frames delivered as a camera does (LiveFixtures): box geometry
// under rotation and fill-center cropping, stable ids and captions for walking people,
// back-pressure, every buffer layout, and errors that do not stop the viewfinder. The tap ->
// catalogue part is LiveFlowTest (it needs the catalogue server).
package com.shoplook.demo.logic

import com.shoplook.Rect
import com.shoplook.TrackedItem
import com.shoplook.Tracker
import com.shoplook.TrackerOptions
import com.shoplook.demo.logic.LiveFixtures.Layout
import kotlin.math.abs
import kotlin.math.hypot
import kotlin.math.max
import kotlin.math.min
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

/** A [ProductLookup] that must not be reached (these tests never tap). */
object NoLookup : ProductLookup {
    override suspend fun searchEmbedding(embedding: com.shoplook.Embedding, category: String?) = fail("no search expected")
    override fun reportEvent(type: com.shoplook.EventType, hit: com.shoplook.SearchHit, queryId: String?, position: Int?) = fail("no event expected")
}

/** Feeding helpers shared with LiveFlowTest. */
object LiveDriver {
    /** Waits until the tracker is loaded (frames offered before are dropped). */
    suspend fun ready(v: LiveViewfinder) = withTimeout(60_000) {
        v.prepare()
        while (!v.isReady) delay(10)
    }

    /** Offers frame [i] and waits until it is processed; returns whether it was taken. */
    suspend fun feed(v: LiveViewfinder, f: CameraFrame): Boolean {
        val taken = v.offer(f)
        withTimeout(30_000) { while (v.busy) delay(2) }
        return taken
    }
}

class LiveViewfinderTest {
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
    @After fun stop() = scope.cancel()

    private fun near(expected: Float, actual: Float, eps: Float = 0.01f, what: String = "") =
        assertTrue(abs(expected - actual) <= eps, "$what: expected $expected, got $actual")

    private fun item(id: Long, x: Float, y: Float, w: Float, h: Float, label: String = "Person") =
        TrackedItem(id.toULong(), label, "outfit", 0.8f, Rect(x, y, w, h), true, 3u, null, "ssd-mbv2-oidv4")

    private fun viewfinder(options: TrackerOptions = TrackerOptions()) =
        LiveViewfinder(scope, { Tracker(DemoFixtures.shop, options) }, NoLookup)

    @Test
    fun frameBoxesMapToThePreviewUnderRotationFillCenterAndMirroring() {
        // rotationDegrees swaps the sides of the buffer; any multiple of 90, also negative.
        val f = CameraFrame(768, 576, 90, 0.0) { fail("no pixels") }
        assertEquals(576 to 768, f.displayWidth to f.displayHeight)
        assertEquals(576 to 768, CameraFrame(768, 576, 270, 0.0) { fail() }.let { it.displayWidth to it.displayHeight })
        assertEquals(768 to 576, CameraFrame(768, 576, 180, 0.0) { fail() }.let { it.displayWidth to it.displayHeight })
        assertEquals(576 to 768, CameraFrame(768, 576, -90, 0.0) { fail() }.let { it.displayWidth to it.displayHeight })
        // A 768x576 frame in a landscape phone's 2340x1080 preview, FILL_CENTER: width-bound,
        // factor 2340/768 = 3.046875; 576 * 3.046875 = 1755 px tall, 337.5 px cropped top and bottom.
        val land = ViewfinderMapper(768, 576, 2340f, 1080f)
        near(3.046875f, land.mapper.factor, 1e-6f); near(0f, land.mapper.offsetX); near(-337.5f, land.mapper.offsetY)
        val b = land.toView(Box(100f, 200f, 150f, 300f))
        near(304.6875f, b.left); near(271.875f, b.top); near(457.03125f, b.right); near(576.5625f, b.bottom)
        // The front camera's preview is mirrored: x flips, y does not.
        val m = ViewfinderMapper(768, 576, 2340f, 1080f, mirrored = true).toView(Box(100f, 200f, 150f, 300f))
        near(2340f - 457.03125f, m.left); near(2340f - 304.6875f, m.right); near(271.875f, m.top)
        val (fx, fy) = ViewfinderMapper(768, 576, 2340f, 1080f, mirrored = true).toFrame(m.left, m.top)
        near(150f, fx, 1e-3f); near(200f, fy, 1e-3f)
        // The portrait case (a 576x768 frame after rotation 90 in a 1080x2340 preview): height-bound,
        // 337.5 px cropped left and right.
        val port = ViewfinderMapper(576, 768, 1080f, 2340f)
        near(3.046875f, port.mapper.factor, 1e-6f); near(-337.5f, port.mapper.offsetX); near(0f, port.mapper.offsetY)
        // Boxes: clipped to the view; one mostly cropped away is left out; captions per label.
        val caps = TrackCaptions()
        val items = listOf(
            item(7, 300f, 300f, 40f, 100f),           // inside
            item(9, 0f, 300f, 120f, 100f),            // 337.5 px / 3.047 = 110.8 frame px hidden: 92 % cropped
            item(12, 90f, 300f, 60f, 100f),           // left 20.8 of 60 px hidden: kept, clipped at x = 0
            item(15, 400f, 400f, 30f, 30f, "Footwear"),
        )
        val boxes = layoutTracked(items, port, caps)
        assertEquals(listOf(7uL, 12uL, 15uL), boxes.map { it.trackId })
        val clipped = boxes.single { it.trackId == 12uL }.rect
        near(0f, clipped.left); near(150f * 3.046875f - 337.5f, clipped.right, 1e-3f)
        assertEquals(listOf("Person 1", "Person 2", "Footwear 1"), boxes.map { it.caption })
        // Captions stay with their track, also after it was hidden for a while.
        assertEquals(listOf("Footwear 1", "Person 2"), layoutTracked(listOf(items[3], items[2]), port, caps).map { it.caption })
        assertEquals("Person 1", caps.captionOf(items[0]))
        assertEquals("Person 3", caps.captionOf(items[1]))
    }

    @Test
    fun walkingPeopleKeepTheirIdsAndCaptionsAndBoxesLandWhereThePreviewShowsThem(): Unit = runBlocking {
        LiveFixtures.requireFrames()
        val v = viewfinder()
        v.setView(2340f, 1080f)   // landscape phone, FILL_CENTER (see the test above)
        LiveDriver.ready(v)
        // The reference: the same upright frames as RGBA, rotation 0, straight into a tracker.
        val reference = Tracker(DemoFixtures.shop, TrackerOptions())
        val n = 60
        val seen = HashMap<ULong, MutableList<Pair<Int, TrackedItem>>>()
        val captionOf = HashMap<ULong, String>()
        var matched = 0
        var compared = 0
        var pixelCalls = 0
        for (i in 0 until n) {
            assertTrue(LiveDriver.feed(v, LiveFixtures.frame(i, Layout.NV21) { pixelCalls++ }), "frame $i dropped")
            val s = assertIs<LiveState.Running>(v.state.value)
            assertNull(s.notice)
            assertEquals(768 to 576, s.frameWidth to s.frameHeight, "display size after rotation 90")
            assertEquals(i * LiveFixtures.FRAME_MS, s.timestampMs)
            // Every item in the upright frame; its view box computed here independently.
            val expected = s.items.mapNotNull { t ->
                assertTrue(t.bbox.x >= 0f && t.bbox.y >= 0f && t.bbox.x + t.bbox.width <= 768.01f && t.bbox.y + t.bbox.height <= 576.01f, "$t")
                val l = t.bbox.x * 3.046875f; val r = (t.bbox.x + t.bbox.width) * 3.046875f
                val top = t.bbox.y * 3.046875f - 337.5f; val bot = (t.bbox.y + t.bbox.height) * 3.046875f - 337.5f
                val vis = (min(r, 2340f) - max(l, 0f)) * (min(bot, 1080f) - max(top, 0f))
                if (min(bot, 1080f) <= max(top, 0f) || vis / ((r - l) * (bot - top)) < 0.5f) null
                else t.trackId to Box(max(l, 0f), max(top, 0f), min(r, 2340f), min(bot, 1080f))
            }.toMap()
            assertEquals(expected.keys, s.boxes.map { it.trackId!! }.toSet(), "frame $i: boxes on screen")
            for (b in s.boxes) {
                val e = expected.getValue(b.trackId!!)
                for ((a, c) in listOf(e.left to b.rect.left, e.top to b.rect.top, e.right to b.rect.right, e.bottom to b.rect.bottom)) near(a, c, 0.05f, "frame $i #${b.trackId}")
                // One caption per track, for as long as it is followed.
                assertEquals(captionOf.getOrPut(b.trackId!!) { b.caption }, b.caption, "caption of #${b.trackId}")
            }
            for (t in s.items) seen.getOrPut(t.trackId) { mutableListOf() }.add(i to t)
            // The rotated NV21 buffer gives the boxes of the upright RGBA frame.
            val (scene, rgba) = LiveFixtures.uprightRgba(i)
            val ref = reference.pushRgba(scene.width.toUInt(), scene.height.toUInt(), rgba, (scene.width * 4).toUInt(), false, 0, i * LiveFixtures.FRAME_MS)
            for (t in s.items) {
                compared++
                if (ref.any { LiveFixtures.iou(it.bbox, t.bbox) >= 0.7f }) matched++
            }
        }
        assertEquals(captionOf.size, captionOf.values.toSet().size, "two tracks shared a caption: $captionOf")
        println("live: rotated NV21 boxes matching the upright RGBA run: $matched/$compared; tracks ${seen.size}; pixels copied on $pixelCalls of $n frames")
        assertTrue(compared > 100 && matched * 10 >= compared * 8, "$matched/$compared")
        // Pixels are copied only for detections (every 3rd frame), the other frames are carried.
        assertEquals((n + 2) / 3, pixelCalls)
        assertEquals(pixelCalls.toLong(), v.counters.withPixels)
        // Walking people: Person tracks followed through 30+ frames that moved at least 40 px (the
        // stone and the cone the detector calls Person stand still), each under one id, never
        // jumping to someone else (consecutive boxes overlap).
        fun centre(r: Rect) = (r.x + r.width / 2) to (r.y + r.height / 2)
        fun moved(p: List<Pair<Int, TrackedItem>>): Float {
            val (x0, y0) = centre(p.first().second.bbox); val (x1, y1) = centre(p.last().second.bbox)
            return hypot(x1 - x0, y1 - y0)
        }
        val people = seen.filter { (_, p) -> p.first().second.label == "Person" }
        for ((id, p) in people.entries.sortedByDescending { it.value.size }) {
            println("live: #$id '${captionOf[id]}' on ${p.size} frames (${p.first().first}..${p.last().first}), moved ${moved(p).toInt()} px")
        }
        val walkers = people.filter { (_, p) -> p.size >= 30 && moved(p) >= 40f }
        assertTrue(walkers.size >= 2, "walking people followed 30+ frames: ${walkers.keys}")
        // One of them crossed a good part of the square (vtest: about 290 px in 36 frames) under one id.
        assertTrue(walkers.values.any { it.size >= 35 && moved(it) >= 200f }, "nobody followed across the square")
        for ((id, path) in walkers) {
            assertTrue(path.all { it.second.label == "Person" && it.second.trackId == id })
            for ((a, b) in path.zipWithNext()) {
                if (b.first == a.first + 1) assertTrue(LiveFixtures.iou(a.second.bbox, b.second.bbox) >= 0.3f, "#$id jumped at frame ${b.first}: ${a.second.bbox} -> ${b.second.bbox}")
            }
        }
    }

    @Test
    fun framesArrivingWhileOneIsInFlightAreDroppedNotQueued(): Unit = runBlocking {
        LiveFixtures.requireFrames()
        val v = viewfinder()
        v.setView(1080f, 2340f)
        LiveDriver.ready(v)
        // A 30 fps camera: a frame every 33 ms, whatever the tracker is doing. Detection frames
        // take longer than that here, so frames must be dropped.
        val offered = 45
        var taken = 0
        var pixelCalls = 0
        val frames = (0 until offered).map { i -> LiveFixtures.frame(i, Layout.I420) { pixelCalls++ } }
        (0 until offered).forEach { LiveFixtures.scene(it) }   // decode the JPEGs up front: time the tracker, not ImageIO
        val before = v.counters
        val t0 = System.nanoTime()
        for ((i, f) in frames.withIndex()) {
            if (v.offer(f)) taken++
            val next = t0 + (i + 1) * 33_000_000L
            delay(max(0L, (next - System.nanoTime()) / 1_000_000))
        }
        withTimeout(30_000) { while (v.busy) delay(2) }
        val c = v.counters
        println("live: 30 fps for ${offered} frames: taken $taken, dropped ${c.dropped - before.dropped}, with pixels ${c.withPixels}, max in flight ${v.maxConcurrent}")
        assertEquals(offered.toLong(), c.offered - before.offered)
        assertEquals(taken.toLong(), c.processed - before.processed, "every frame taken is processed")
        assertEquals(offered - taken, (c.dropped - before.dropped).toInt())
        assertTrue(offered - taken >= 3, "no frame dropped while detections ran: frames are being queued")
        assertTrue(taken >= 8, "only $taken frames taken")
        assertEquals(1, v.maxConcurrent, "two frames processed at once")
        assertEquals(pixelCalls.toLong(), c.withPixels, "pixels copied for frames that were dropped")
        assertTrue(pixelCalls < taken, "every frame copied ($pixelCalls of $taken): carrying is not used")
        assertEquals(0L, c.errors)
        // It still follows people.
        assertTrue(assertIs<LiveState.Running>(v.state.value).items.isNotEmpty())
    }

    @Test
    fun everyCameraLayoutGivesTheSameBoxes(): Unit = runBlocking {
        LiveFixtures.requireFrames()
        val n = 9   // three detections: tracks confirmed
        val boxes = Layout.entries.associateWith { layout ->
            val v = viewfinder()
            v.setView(2340f, 1080f)
            LiveDriver.ready(v)
            for (i in 0 until n) assertTrue(LiveDriver.feed(v, LiveFixtures.frame(i, layout)))
            val s = assertIs<LiveState.Running>(v.state.value)
            assertEquals(768 to 576, s.frameWidth to s.frameHeight, "$layout")
            assertNull(s.notice, "$layout")
            s.items.map { it.bbox }
        }
        val nv21 = boxes.getValue(Layout.NV21)
        assertTrue(nv21.size >= 3, "$nv21")
        for ((layout, b) in boxes) {
            // Every box of the NV21 run is found in the same place; a marginal detection more or
            // less (BGRA has full-resolution colour) is allowed.
            val found = nv21.count { x -> b.any { LiveFixtures.iou(it, x) >= 0.8f } }
            println("live: $layout ${b.size} boxes, $found of NV21's ${nv21.size} found")
            assertEquals(nv21.size, found, "$layout: $b vs $nv21")
            assertTrue(abs(b.size - nv21.size) <= 1, "$layout: ${b.size} boxes vs ${nv21.size}")
        }
    }

    @Test
    fun aBadFrameShowsANoticeAndTheViewfinderKeepsGoing(): Unit = runBlocking {
        LiveFixtures.requireFrames()
        val v = viewfinder(TrackerOptions(everyNthFrame = 1u))   // every frame needs its pixels
        v.setView(2340f, 1080f)
        LiveDriver.ready(v)
        for (i in 0 until 6) LiveDriver.feed(v, LiveFixtures.frame(i, Layout.NV21))
        val good = assertIs<LiveState.Running>(v.state.value)
        assertTrue(good.items.isNotEmpty())
        // A frame whose Y plane is short (a driver handing a cropped buffer): the tracker refuses it.
        val short = CameraFrame(576, 768, 90, 6 * LiveFixtures.FRAME_MS) {
            val p = LiveFixtures.sensorPixels(LiveFixtures.scene(6), Layout.NV21) as FramePixels.Yuv420
            FramePixels.Yuv420(p.y.copyOfRange(0, 1000), p.yRowStride, p.u, p.v, p.uvRowStride, p.uvPixelStride)
        }
        assertTrue(LiveDriver.feed(v, short))
        val bad = assertIs<LiveState.Running>(v.state.value)
        assertEquals(MessageKind.CAMERA, bad.notice?.kind, "${bad.notice}")
        assertEquals(good.items, bad.items, "the last good boxes stay")
        // A camera buffer that cannot be read (closed under us): dropped, noticed, no crash.
        assertFalse(v.offer(CameraFrame(576, 768, 90, 7 * LiveFixtures.FRAME_MS) { throw IllegalStateException("image is already closed") }))
        assertEquals(MessageKind.CAMERA, assertIs<LiveState.Running>(v.state.value).notice?.kind)
        assertEquals(2L, v.counters.errors)
        // The next good frames clear the notice and boxes follow again.
        for (i in 7 until 10) assertTrue(LiveDriver.feed(v, LiveFixtures.frame(i, Layout.NV21)))
        val after = assertIs<LiveState.Running>(v.state.value)
        assertNull(after.notice)
        assertTrue(after.items.isNotEmpty())
        assertEquals(9 * LiveFixtures.FRAME_MS, after.timestampMs)
    }
}
