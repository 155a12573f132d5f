// Host tests of the Kotlin bindings: they call the real libshoplook_ffi through JNA.
//
// Environment (set by scripts/test-bindings.sh):
//   SHOPLOOK_MODELS    model directory (models/ of the repository)
//   SHOPLOOK_FIXTURES  fixtures directory (photos/, external/bus.jpg)

import com.shoplook.*
import kotlinx.coroutines.*
import java.io.File
import java.util.concurrent.Executors
import java.util.concurrent.atomic.AtomicInteger
import kotlin.math.abs
import kotlin.math.sqrt
import kotlin.test.*
import org.junit.AfterClass
import org.junit.BeforeClass
import org.junit.Test

class ShopLookTest {
    companion object {
        val modelDir: String = System.getenv("SHOPLOOK_MODELS") ?: "models"
        val fixtures: File = File(System.getenv("SHOPLOOK_FIXTURES") ?: "fixtures")
        lateinit var shop: ShopLook
        lateinit var bus: ByteArray

        @BeforeClass @JvmStatic
        fun load() {
            shop = ShopLook.fromModelDir(modelDir)
            bus = File(fixtures, "external/bus.jpg").readBytes()
        }

        @AfterClass @JvmStatic
        fun close() = shop.close()
    }

    private fun photo(name: String) = File(fixtures, "photos/$name").readBytes()

    // ---------------------------------------------------------------- analysing real photos

    @Test
    fun analyzeFindsShoesOnBus() {
        val a = shop.analyze(bus)
        assertEquals(810u, a.width)
        assertEquals(1080u, a.height)
        val shoes = a.items.filter { it.category == "shoes" }
        assertTrue(shoes.size >= 3, "expected shoes on bus.jpg, got ${a.items.map { it.label }}")
        assertEquals("Footwear", shoes.first().label)
        // Shoes are at the bottom of the photo, in photo pixels.
        for (s in shoes) {
            assertTrue(s.bbox.y > 700f && s.bbox.y + s.bbox.height <= 1080.5f, "box ${s.bbox}")
            assertTrue(s.bbox.x >= -0.5f && s.bbox.x + s.bbox.width <= 810.5f, "box ${s.bbox}")
        }
        assertTrue(a.items.any { it.category == "outfit" }, "people are found as outfits")
        // Best first, ids in order.
        assertEquals(a.items.indices.map { it.toUInt() }, a.items.map { it.id })
        assertEquals(a.items.sortedByDescending { it.score }.map { it.id }, a.items.map { it.id })
    }

    @Test
    fun itemsCarryUnitEmbeddingsAndTimings() {
        val a = shop.analyze(bus, AnalyzeOptions(maxItems = 3u))
        assertEquals(3, a.items.size)
        val dim = shop.embedderContract().dim.toInt()
        assertEquals(a.embedder, shop.embedderContract())
        for (item in a.items) {
            val v = assertNotNull(item.embedding)
            assertEquals(dim, v.size)
            assertEquals(1.0, sqrt(v.sumOf { (it * it).toDouble() }), 1e-3)
        }
        assertTrue(a.timings.totalMs > 0.0 && a.timings.detectMs > 0.0 && a.timings.embedMs > 0.0)
        assertTrue(a.timings.totalMs >= a.timings.decodeMs)
        assertEquals(shop.detectors(), a.detectors)
        assertEquals(1, a.detectors.size)
    }

    @Test
    fun optionsAreApplied() {
        val a = shop.analyze(bus, AnalyzeOptions(minScore = 0.6f, embed = false))
        assertTrue(a.items.isNotEmpty())
        assertTrue(a.items.all { it.score >= 0.6f && it.embedding == null })
        assertEquals(0.0, a.timings.embedMs)
    }

    @Test
    fun embedRegionOfAShoe() {
        val shoe = shop.analyze(bus).items.first { it.category == "shoes" }
        val e = shop.embedRegion(bus, shoe.bbox)
        assertEquals(shop.embedderContract(), e.model)
        assertEquals(shop.embedderContract().dim.toInt(), e.vector.size)
        // A crop of the shoe looks more like the shoe item than like the whole photo does.
        val item = Embedding(shoe.embedding!!, e.model)
        val whole = shop.embedImage(bus)
        assertTrue(cosineSimilarity(e, item) > cosineSimilarity(whole, item))
        assertEquals(1.0f, cosineSimilarity(e, e), 1e-3f)
    }

    @Test
    fun otherFixturePhotosDecode() {
        for (name in listOf("box.png", "chelsea.png", "grace_hopper.jpg", "coffee.png")) {
            val a = shop.analyze(photo(name), AnalyzeOptions(embed = false))
            assertTrue(a.width > 0u && a.height > 0u, name)
        }
    }

    @Test
    fun modelBytesGiveTheSameResultAsTheDirectory() {
        val dir = File(modelDir)
        fun model(name: String): ModelBytes {
            val manifest = File(dir, "$name.json").readBytes()
            return ModelBytes(manifest, File(dir, "$name.onnx").readBytes())
        }
        ShopLook.fromModelBytes(listOf(model("ssd_mbv2_oidv4")), model("efficientnet_lite0_feat")).use { fromBytes ->
            val a = fromBytes.analyze(bus, AnalyzeOptions(embed = false))
            val b = shop.analyze(bus, AnalyzeOptions(embed = false))
            assertEquals(b.items.map { it.bbox }, a.items.map { it.bbox })
        }
    }

    // ---------------------------------------------------------------- error paths

    @Test
    fun emptyBytesAreEmptyInput() {
        val e = assertFailsWith<ShopLookException.EmptyInput> { shop.analyze(ByteArray(0)) }
        assertTrue(e.isBadPhoto())
        assertFalse(e.isRetryable())
    }

    @Test
    fun truncatedJpegIsCorruptImage() {
        val e = assertFailsWith<ShopLookException.CorruptImage> {
            shop.analyze(bus.copyOf(bus.size / 3))
        }
        assertTrue(e.detail.isNotEmpty())
        assertTrue(e.message!!.contains("detail="), "message built from the fields: ${e.message}")
    }

    @Test
    fun garbageBytesAreUnsupportedFormat() {
        assertFailsWith<ShopLookException.UnsupportedFormat> {
            shop.analyze("definitely not a photo".toByteArray())
        }
    }

    @Test
    fun hugePhotoIsImageTooLarge() {
        val limits = DecodeLimits(maxPixels = 100_000uL)
        val config = defaultModelConfig().copy(decodeLimits = limits)
        ShopLook.fromModelDir(modelDir, config).use { small ->
            val e = assertFailsWith<ShopLookException.ImageTooLarge> { small.analyze(bus) }
            assertEquals(810u, e.width)
            assertEquals(1080u, e.height)
            assertEquals(100_000uL, e.maxPixels)
            assertTrue(e.isBadPhoto())
        }
    }

    @Test
    fun regionOutsideThePhotoIsInvalidRegion() {
        assertFailsWith<ShopLookException.InvalidRegion> {
            shop.embedRegion(bus, Rect(5000f, 5000f, 10f, 10f))
        }
        assertFailsWith<ShopLookException.InvalidRegion> {
            shop.embedRegion(bus, Rect(0f, 0f, 0f, 10f))
        }
    }

    @Test
    fun invalidMinScoreIsAnError() {
        assertFailsWith<ShopLookException.ModelInvalid> { shop.analyze(bus, AnalyzeOptions(minScore = 2f)) }
    }

    @Test
    fun missingModelDirIsModelIo() {
        val e = assertFailsWith<ShopLookException.ModelIo> { ShopLook.fromModelDir("/nonexistent/models") }
        assertTrue(e.path.contains("/nonexistent/models"), e.path)
    }

    @Test
    fun unknownModelNameIsModelIo() {
        val config = defaultModelConfig().copy(detectors = listOf("no_such_model"))
        assertFailsWith<ShopLookException.ModelIo> { ShopLook.fromModelDir(modelDir, config) }
    }

    @Test
    fun garbageModelBytesAreModelInvalid() {
        val junk = ModelBytes("{}".toByteArray(), ByteArray(16))
        assertFailsWith<ShopLookException.ModelInvalid> { ShopLook.fromModelBytes(listOf(junk), junk) }
        assertFailsWith<ShopLookException.ModelInvalid> { ShopLook.fromModelBytes(emptyList(), junk) }
    }

    @Test
    fun recordDefaultsAreTheLibrarysDefaults() {
        assertEquals(defaultDecodeLimits(), DecodeLimits())
        val c = defaultModelConfig()
        assertEquals(listOf("ssd_mbv2_oidv4"), c.detectors)
        assertEquals("efficientnet_lite0_feat", c.embedder)
        assertEquals(AnalyzeOptions(null, 20u, true), AnalyzeOptions())
        assertTrue(shoplookVersion().isNotEmpty())
    }

    // ---------------------------------------------------------------- panics

    @Test
    fun panicIsAnInternalErrorNotACrash() {
        val e = assertFailsWith<ShopLookException.Internal> { testPanic("kotlin sync boom") }
        assertTrue(e.detail.contains("kotlin sync boom"), e.detail)
        // The library keeps working after a panic.
        assertTrue(shop.analyze(bus, AnalyzeOptions(embed = false)).items.isNotEmpty())
    }

    @Test
    fun panicInAsyncWorkIsAnInternalError() = runBlocking {
        val e = assertFailsWith<ShopLookException.Internal> { testPanicAsync("kotlin async boom") }
        assertTrue(e.detail.contains("kotlin async boom"), e.detail)
    }

    // ---------------------------------------------------------------- threads and coroutines

    @Test
    fun concurrentCallsFromSeveralThreads() {
        val expected = shop.analyze(bus).items
        val pool = Executors.newFixedThreadPool(4)
        try {
            val futures = (0 until 8).map { i ->
                pool.submit<List<Item>> {
                    if (i % 2 == 0) shop.analyze(bus).items
                    else shop.analyze(photo("grace_hopper.jpg")).items
                }
            }
            val hopper = shop.analyze(photo("grace_hopper.jpg")).items
            futures.forEachIndexed { i, f ->
                assertEquals(if (i % 2 == 0) expected else hopper, f.get())
            }
        } finally {
            pool.shutdown()
        }
    }

    @Test
    fun suspendAnalyzeMatchesBlockingAnalyze() = runBlocking {
        val a = shop.analyzeAsync(bus)
        val b = shop.analyze(bus)
        assertEquals(b.items, a.items)
        val region = shop.embedRegionAsync(bus, a.items[0].bbox)
        assertEquals(shop.embedRegion(bus, a.items[0].bbox), region)
    }

    @Test
    fun suspendCallsDoNotBlockTheCallingThread() {
        // One thread, like Android's main dispatcher: while analyzeAsync is in flight, other
        // coroutines on the same thread keep running.
        val ticks = AtomicInteger()
        val single = Executors.newSingleThreadExecutor().asCoroutineDispatcher()
        try {
            runBlocking(single) {
                val ticker = launch { while (isActive) { ticks.incrementAndGet(); delay(2) } }
                val results = (0 until 4).map { async { shop.analyzeAsync(bus) } }.awaitAll()
                ticker.cancel()
                assertTrue(results.all { it.items == results[0].items })
            }
        } finally {
            single.close()
        }
        assertTrue(ticks.get() > 5, "the UI-like thread was blocked: ${ticks.get()} ticks")
    }

    @Test
    fun suspendLoadFromDirAndBytes() = runBlocking {
        ShopLook.loadFromModelDir(modelDir).use { s ->
            assertTrue(s.analyzeAsync(bus).items.any { it.category == "shoes" })
        }
        assertFailsWith<ShopLookException.ModelIo> { ShopLook.loadFromModelDir("/nonexistent") }
        Unit
    }

    @Test
    fun cancellingTheCoroutineStopsWaiting() = runBlocking {
        val start = System.nanoTime()
        val job = launch(Dispatchers.Default) { testSleepAsync(10_000uL) }
        delay(100)
        job.cancelAndJoin()
        val ms = (System.nanoTime() - start) / 1_000_000
        assertTrue(job.isCancelled)
        assertTrue(ms < 2_000, "cancel took $ms ms")
        // withTimeout cancels too, on a real analysis.
        assertFailsWith<TimeoutCancellationException> {
            withTimeout(1) { shop.analyzeAsync(bus) }
        }
        Unit
    }

    @Test
    fun cancelTokenStopsWaiting() = runBlocking {
        val token = CancelToken()
        val start = System.nanoTime()
        val call = async(Dispatchers.Default) { runCatching { testSleepAsync(10_000uL, token) } }
        delay(100)
        token.cancel()
        val r = call.await()
        val ms = (System.nanoTime() - start) / 1_000_000
        assertIs<ShopLookException.Cancelled>(r.exceptionOrNull())
        assertTrue(ms < 2_000, "cancel took $ms ms")
        assertTrue(token.isCancelled())
        // A cancelled token fails new calls at once.
        assertFailsWith<ShopLookException.Cancelled> { shop.analyzeAsync(bus, cancel = token) }
        Unit
    }
    // ---------------------------------------------------------------- live camera: Tracker

    /** grace_hopper.jpg as an RGBA buffer with `pad` extra bytes per row. */
    private fun rgbaPhoto(pad: Int): Triple<Int, Int, ByteArray> {
        val img = javax.imageio.ImageIO.read(File(fixtures, "photos/grace_hopper.jpg"))
        val stride = img.width * 4 + pad
        val out = ByteArray(stride * img.height)
        for (y in 0 until img.height) for (x in 0 until img.width) {
            val p = img.getRGB(x, y)
            val o = y * stride + x * 4
            out[o] = (p shr 16).toByte(); out[o + 1] = (p shr 8).toByte()
            out[o + 2] = p.toByte(); out[o + 3] = 0xFF.toByte()
        }
        return Triple(img.width, img.height, out)
    }

    @Test
    fun trackerKeepsIdsOnAStillSceneAndCarriesWithoutPixels() {
        val (w, h, rgba) = rgbaPhoto(12)
        val stride = (w * 4 + 12).toUInt()
        Tracker(shop, TrackerOptions(everyNthFrame = 2u, embed = true)).use { tracker ->
            val seen = mutableListOf<List<ULong>>()
            for (i in 0 until 8) {
                val ts = i * 33.3
                val items = if (tracker.needsPixels(ts)) {
                    tracker.pushRgba(w.toUInt(), h.toUInt(), rgba, stride, false, 0, ts)
                } else {
                    tracker.carry(ts)
                }
                for (t in items) {
                    assertEquals(1280, t.embedding!!.size)
                    assertTrue(t.bbox.x + t.bbox.width <= w + 0.5f && t.bbox.y + t.bbox.height <= h + 0.5f)
                }
                seen.add(items.map { it.trackId })
            }
            // Reported after 2 detections (frames 0 and 2), then the same ids on every frame.
            assertTrue(seen[0].isEmpty() && seen[1].isEmpty(), "$seen")
            assertTrue(seen[2].isNotEmpty(), "$seen")
            for (ids in seen.drop(2)) assertEquals(seen[2], ids)
            val stats = tracker.stats()
            assertEquals(8uL, stats.frames)
            assertEquals(4uL, stats.detectionsRun)
            assertEquals(seen[2].size.toULong(), stats.embeddingsRun)
        }
    }

    @Test
    fun trackerRotatesAndRefusesBadFrames() {
        val (w, h, rgba) = rgbaPhoto(0)
        Tracker(shop).use { tracker ->
            // The same buffer reported as rotated 90: boxes in the rotated (h x w) frame.
            for (i in 0 until 3) {
                for (t in tracker.pushRgba(w.toUInt(), h.toUInt(), rgba, (w * 4).toUInt(), false, 90, i * 33.0)) {
                    assertTrue(t.bbox.x + t.bbox.width <= h + 0.5f && t.bbox.y + t.bbox.height <= w + 0.5f, "${t.bbox}")
                }
            }
            assertFailsWith<ShopLookException.CorruptImage> {
                tracker.pushNv21(640u, 480u, ByteArray(1000), 0, 200.0)
            }
            assertFailsWith<ShopLookException.CorruptImage> {
                tracker.pushRgba(w.toUInt(), h.toUInt(), rgba, (w * 4).toUInt(), false, 45, 300.0)
            }
            // I420 planes of a flat grey frame: accepted, nothing found.
            val y = ByteArray(64 * 48) { 128.toByte() }
            val c = ByteArray(32 * 24) { 128.toByte() }
            tracker.reset()
            assertTrue(tracker.pushYuv420(64u, 48u, y, 64u, c, c, 32u, 1u, 0, 400.0).isEmpty())
        }
    }
}
