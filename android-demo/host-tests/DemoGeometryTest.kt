// Host tests of the demo's shared logic (android-demo/app/src/main/java/com/shoplook/demo/logic):
// box mapping, hit-testing and drawn boxes on real analyses of real photos (bus.jpg), with the
// real library. Run by scripts/test-bindings.sh in the same JVM run as the bindings' tests.
package com.shoplook.demo.logic

import com.shoplook.Analysis
import com.shoplook.Rect
import com.shoplook.ShopLook
import java.awt.image.BufferedImage
import java.io.ByteArrayOutputStream
import java.io.File
import javax.imageio.ImageIO
import kotlin.math.abs
import kotlin.test.*
import org.junit.Test

object DemoFixtures {
    val fixtures = File(System.getenv("SHOPLOOK_FIXTURES") ?: "fixtures")
    val shop: ShopLook by lazy { ShopLook.fromModelDir(System.getenv("SHOPLOOK_MODELS") ?: "models") }
    val bus: ByteArray by lazy { File(fixtures, "external/bus.jpg").readBytes() }
    val busAnalysis: Analysis by lazy { shop.analyze(bus) }
    fun photo(path: String) = File(fixtures, path).readBytes()

    /** [jpeg] with an EXIF APP1 segment carrying [orientation], inserted after SOI (as a phone writes it). */
    fun withExifOrientation(jpeg: ByteArray, orientation: Int): ByteArray {
        val tiff = byteArrayOf(0x4D, 0x4D, 0, 0x2A, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1,
            0, orientation.toByte(), 0, 0, 0, 0, 0, 0)
        val app1 = "Exif".toByteArray() + byteArrayOf(0, 0) + tiff
        val len = app1.size + 2
        return jpeg.copyOfRange(0, 2) + byteArrayOf(0xFF.toByte(), 0xE1.toByte(), (len shr 8).toByte(), len.toByte()) +
            app1 + jpeg.copyOfRange(2, jpeg.size)
    }
}

class DemoGeometryTest {
    private val a get() = DemoFixtures.busAnalysis
    private fun near(expected: Float, actual: Float, eps: Float = 0.01f, what: String = "") =
        assertTrue(abs(expected - actual) <= eps, "$what: expected $expected, got $actual")

    @Test
    fun fitLetterboxesAPortraitPhotoInPortraitAndLandscapeViews() {
        assertEquals(810u to 1080u, a.width to a.height)
        val shoe = a.items.first { it.category == "shoes" }.bbox
        // Landscape tablet 1920x1080: height-bound, factor 1, 555 px bars left and right.
        val land = BoxMapper.of(a.width, a.height, 1920f, 1080f)
        near(1f, land.factor); near(555f, land.offsetX); near(0f, land.offsetY)
        val v = land.toView(shoe)
        near(555f + shoe.x, v.left, what = "left"); near(shoe.y, v.top, what = "top")
        // Portrait phone 1080x2340: width-bound, factor 4/3, 450 px bars top and bottom.
        val port = BoxMapper.of(a.width, a.height, 1080f, 2340f)
        near(4f / 3f, port.factor); near(0f, port.offsetX); near(450f, port.offsetY)
        val p = port.toView(shoe)
        near(shoe.x * 4f / 3f, p.left, 0.01f, "left"); near(450f + (shoe.y + shoe.height) * 4f / 3f, p.bottom, 0.05f, "bottom")
        // Every item's box lies inside the drawn photo and maps back to itself.
        for (m in listOf(land, port, BoxMapper.of(a.width, a.height, 300f, 300f))) {
            for (item in a.items) {
                val vb = m.toView(item.bbox)
                val photo = m.photoInView.inflate(0.01f)
                assertTrue(photo.contains(vb.left, vb.top) && photo.contains(vb.right, vb.bottom), "$vb outside $photo")
                val back = m.toPhoto(vb)
                near(item.bbox.x, back.left, 0.01f, "x"); near(item.bbox.y + item.bbox.height, back.bottom, 0.01f, "bottom")
            }
        }
    }

    @Test
    fun fillCropsAndLeavesOutBoxesCroppedAway() {
        // A wide 2000x600 strip filled with the portrait photo shows photo rows ~418..661 only:
        // the shoes (y > 780) are cropped away, the people (y 367..886) are partly visible.
        val m = BoxMapper.of(a.width, a.height, 2000f, 600f, ContentScale.FILL)
        near(2000f / 810f, m.factor, 1e-4f)
        val boxes = layoutBoxes(a.items.map { Target.Detected(it) }, m, minVisible = 0.3f)
        assertTrue(boxes.none { (it.target as Target.Detected).item.category == "shoes" }, "$boxes")
        assertTrue(boxes.isNotEmpty() && boxes.all { (it.target as Target.Detected).item.category == "outfit" })
        assertTrue(boxes.all { it.rect.left >= 0f && it.rect.top >= 0f && it.rect.right <= 2000f && it.rect.bottom <= 600f })
        // A square view filled: everything visible vertically is cropped 180 px top and bottom.
        val sq = BoxMapper.of(a.width, a.height, 1080f, 1080f, ContentScale.FILL)
        near(-180f, sq.offsetY, 0.01f)
        assertEquals(a.items.size, layoutBoxes(a.items.map { Target.Detected(it) }, sq).size)
    }

    @Test
    fun tapAtABoxCentreGivesThatItemAndTheSmallestBoxWins() {
        val m = BoxMapper.of(a.width, a.height, 1080f, 2340f)
        val boxes = layoutBoxes(a.items.map { Target.Detected(it) }, m)
        val shoe = a.items[0]
        assertEquals("shoes", shoe.category)
        val sv = m.toView(shoe.bbox)
        // The shoe lies inside a person's box: the tap on the shoe means the shoe.
        val person = a.items.first { it.category == "outfit" && Box.of(it.bbox).contains(Box.of(shoe.bbox).centerX, Box.of(shoe.bbox).centerY) }
        assertEquals(Target.Detected(shoe), hitTest(boxes, sv.centerX, sv.centerY)?.target)
        // The person's torso (far from any shoe) means the person.
        val pv = m.toView(person.bbox)
        assertEquals(Target.Detected(person), hitTest(boxes, pv.centerX, pv.top + pv.height * 0.3f)?.target)
        // Just right of the shoe, inside the person: the person (containment beats the slop).
        assertEquals(Target.Detected(person), hitTest(boxes, sv.right + 6f, sv.centerY)?.target)
        // The sky above the bus and the letterbox bars: nothing.
        assertNull(hitTest(boxes, m.toView(Box(400f, 40f, 400f, 40f)).left, m.toView(Box(400f, 40f, 400f, 40f)).top))
        assertNull(hitTest(boxes, 540f, 100f))
        // Every item is reachable: a tap at its box centre gives a box that contains the centre.
        for (b in boxes) assertTrue(hitTest(boxes, b.rect.centerX, b.rect.centerY)!!.rect.contains(b.rect.centerX, b.rect.centerY))
    }

    @Test
    fun slopReachesSmallBoxesOnlyNearby() {
        val m = BoxMapper.of(a.width, a.height, 1080f, 2340f)
        val drawn = Target.Drawn(Rect(400f, 100f, 30f, 30f))   // sky: no other box near
        val boxes = layoutBoxes(listOf(drawn), m)
        val r = boxes.single().rect
        assertEquals(drawn, hitTest(boxes, r.right + 20f, r.centerY, slop = 24f)?.target)
        assertNull(hitTest(boxes, r.right + 30f, r.centerY, slop = 24f))
        assertNull(hitTest(boxes, r.right + 20f, r.centerY, slop = 0f))
    }

    @Test
    fun drawnBoxesAreNormalisedAndClampedToThePhoto() {
        val m = BoxMapper.of(a.width, a.height, 1920f, 1080f)   // photo spans x 555..1365
        // Dragged up-left, starting in the right bar below the photo's edge: clamped to the photo.
        val r = assertNotNull(drawnRegion(m, 1500f, 1200f, 1000f, 900f))
        near(1000f - 555f, r.x); near(900f, r.y); near(810f - (1000f - 555f), r.width); near(1080f - 900f, r.height)
        // A tap (no drag) and a drag inside the bar give nothing.
        assertNull(drawnRegion(m, 700f, 500f, 705f, 503f))
        assertNull(drawnRegion(m, 10f, 10f, 500f, 1000f))
        // A drawn box around the first shoe is that shoe's region, give or take a pixel.
        val shoe = a.items[0].bbox
        val v = m.toView(shoe)
        val d = assertNotNull(drawnRegion(m, v.left, v.top, v.right, v.bottom))
        near(shoe.x, d.x, 0.01f); near(shoe.width, d.width, 0.01f)
    }

    @Test
    fun exifOrientationIsAppliedSoBoxesMatchTheDisplayedPhoto() {
        // A phone held sideways stores the photo rotated and tags it "rotate 90 CW" (6).
        val upright = ImageIO.read(DemoFixtures.bus.inputStream())
        val stored = BufferedImage(upright.height, upright.width, BufferedImage.TYPE_INT_RGB)
        for (y in 0 until upright.height) for (x in 0 until upright.width) stored.setRGB(y, upright.width - 1 - x, upright.getRGB(x, y))
        val jpeg = ByteArrayOutputStream().also { ImageIO.write(stored, "jpg", it) }.toByteArray()
        val sideways = DemoFixtures.shop.analyze(jpeg)
        assertEquals(1080u to 810u, sideways.width to sideways.height, "stored as landscape")
        val tagged = DemoFixtures.shop.analyze(DemoFixtures.withExifOrientation(jpeg, 6))
        assertEquals(810u to 1080u, tagged.width to tagged.height, "displayed upright")
        // The first shoe is where it is on the upright photo, and a tap on it in a landscape view hits a shoe.
        val want = Box.of(a.items[0].bbox)
        val got = tagged.items.filter { it.category == "shoes" }.minBy { abs(Box.of(it.bbox).centerX - want.centerX) + abs(Box.of(it.bbox).centerY - want.centerY) }
        near(want.centerX, Box.of(got.bbox).centerX, 12f, "shoe x"); near(want.centerY, Box.of(got.bbox).centerY, 12f, "shoe y")
        val m = BoxMapper.of(tagged.width, tagged.height, 2340f, 1080f)
        val boxes = layoutBoxes(tagged.items.map { Target.Detected(it) }, m)
        val v = m.toView(got.bbox)
        assertEquals("shoes", (hitTest(boxes, v.centerX, v.centerY)!!.target as Target.Detected).item.category)
    }

    @Test
    fun settingsAndFormatting() {
        assertNull(DemoSettings(apiKey = "slk_x").problem())
        assertEquals("http://10.0.2.2:8787", DemoSettings().catalogueUrl)
        assertNotNull(DemoSettings(apiKey = "").problem())
        assertNotNull(DemoSettings(catalogueUrl = "ftp://x", apiKey = "k").problem())
        assertNotNull(DemoSettings(catalogueUrl = "localhost:8787", apiKey = "k").problem())
        assertEquals("http://h:1", DemoSettings(catalogueUrl = " http://h:1/ ", apiKey = "k").normalized().catalogueUrl)
        assertEquals("89.00 EUR", Format.price(89.0, "EUR"))
        assertEquals("1234.50 USD", Format.price(1234.5, "USD"))
        assertNull(Format.imageUrl("demo-shoe-1.jpg"))
        assertEquals("https://x/y.jpg", Format.imageUrl("https://x/y.jpg"))
    }

    private fun hit(similarity: Float, boost: Float, campaign: String? = null) = com.shoplook.SearchHit(
        "p1", "Boot", "Acme", 89.0, "EUR", "shoes", "boot.jpg", "https://example.com/p1", true,
        similarity + boost, similarity, boost, campaign != null, campaign)

    @Test
    fun productRowsLabelSponsoredHitsAndExplainTheRanking() {
        val organic = ProductRow(hit(0.83f, 0f), 2)
        assertNull(organic.label)
        assertEquals("similar 83%", organic.explanation)
        assertEquals("similar 83% · learned +4", ProductRow(hit(0.83f, 0.04f), 1).explanation)
        assertEquals("similar 83% · learned \u22123", ProductRow(hit(0.83f, -0.03f), 1).explanation)
        assertEquals("similar 83%", ProductRow(hit(0.83f, 0.004f), 1).explanation, "under half a point: not shown")
        val ad = ProductRow(hit(0.7f, 0f, "cmp_0123456789abcdef"), 1)
        assertEquals("Sponsored", ad.label)
        assertEquals("similar 70%", ad.explanation)
    }
}
