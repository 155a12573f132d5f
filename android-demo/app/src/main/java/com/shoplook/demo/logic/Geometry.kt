// Shared demo logic (plain Kotlin, no android.* imports): compiled and tested on the host JVM by
// scripts/test-bindings.sh against the real library, and used as is by the Compose UI.
//
// Photo space: pixels of the photo in display orientation, as `Analysis.width/height` and
// `Item.bbox` report them (the core decoder has applied the EXIF orientation already).
// View space: pixels of the on-screen image view the photo is drawn into.
package com.shoplook.demo.logic

import com.shoplook.Item
import com.shoplook.Rect
import com.shoplook.TrackedItem
import kotlin.math.abs
import kotlin.math.max
import kotlin.math.min

/** An axis-aligned rectangle given by its edges (view or photo pixels). */
data class Box(val left: Float, val top: Float, val right: Float, val bottom: Float) {
    val width: Float get() = right - left
    val height: Float get() = bottom - top
    val area: Float get() = max(0f, width) * max(0f, height)
    val centerX: Float get() = (left + right) / 2f
    val centerY: Float get() = (top + bottom) / 2f
    fun contains(x: Float, y: Float): Boolean = x >= left && x <= right && y >= top && y <= bottom
    fun inflate(d: Float) = Box(left - d, top - d, right + d, bottom + d)
    fun intersect(o: Box): Box? {
        val l = max(left, o.left); val t = max(top, o.top); val r = min(right, o.right); val b = min(bottom, o.bottom)
        return if (r > l && b > t) Box(l, t, r, b) else null
    }
    /** Distance from (x, y) to the nearest point of the box (0 inside). */
    fun distanceTo(x: Float, y: Float): Float {
        val dx = max(0f, max(left - x, x - right)); val dy = max(0f, max(top - y, y - bottom))
        return kotlin.math.sqrt(dx * dx + dy * dy)
    }

    companion object {
        fun of(r: Rect) = Box(r.x, r.y, r.x + r.width, r.y + r.height)
    }
}

/** How the photo is drawn into the view (Compose `ContentScale.Fit/Crop`, SwiftUI `.fit/.fill`). */
enum class ContentScale { FIT, FILL }

/**
 * Maps photo pixels to view pixels and back for a photo of any size drawn centred into a view of
 * any size with [scale]. FIT letterboxes (the whole photo is visible), FILL crops (the view is
 * covered; parts of the photo fall outside it).
 */
class BoxMapper(
    val photoWidth: Float,
    val photoHeight: Float,
    val viewWidth: Float,
    val viewHeight: Float,
    val scale: ContentScale = ContentScale.FIT,
) {
    init {
        require(photoWidth > 0 && photoHeight > 0) { "empty photo ${photoWidth}x$photoHeight" }
        require(viewWidth > 0 && viewHeight > 0) { "empty view ${viewWidth}x$viewHeight" }
    }

    /** View pixels per photo pixel. */
    val factor: Float = when (scale) {
        ContentScale.FIT -> min(viewWidth / photoWidth, viewHeight / photoHeight)
        ContentScale.FILL -> max(viewWidth / photoWidth, viewHeight / photoHeight)
    }
    val offsetX: Float = (viewWidth - photoWidth * factor) / 2f
    val offsetY: Float = (viewHeight - photoHeight * factor) / 2f

    /** Where the photo is drawn in the view (larger than the view with FILL). */
    val photoInView: Box get() = Box(offsetX, offsetY, offsetX + photoWidth * factor, offsetY + photoHeight * factor)
    val view: Box get() = Box(0f, 0f, viewWidth, viewHeight)

    fun toView(r: Rect): Box = toView(Box.of(r))
    fun toView(b: Box): Box = Box(
        offsetX + b.left * factor, offsetY + b.top * factor,
        offsetX + b.right * factor, offsetY + b.bottom * factor,
    )
    fun toPhotoX(viewX: Float): Float = (viewX - offsetX) / factor
    fun toPhotoY(viewY: Float): Float = (viewY - offsetY) / factor
    fun toPhoto(b: Box): Box = Box(toPhotoX(b.left), toPhotoY(b.top), toPhotoX(b.right), toPhotoY(b.bottom))

    companion object {
        fun of(photoWidth: UInt, photoHeight: UInt, viewWidth: Float, viewHeight: Float, scale: ContentScale = ContentScale.FIT) =
            BoxMapper(photoWidth.toFloat(), photoHeight.toFloat(), viewWidth, viewHeight, scale)
    }
}

/** What can be tapped: a detected item, a box the user drew, or an object the live viewfinder follows. */
sealed class Target {
    abstract val region: Rect
    abstract val label: String
    data class Detected(val item: Item) : Target() {
        override val region get() = item.bbox
        override val label get() = item.label
        // Without the 1280-number embedding, which would fill logs and test failures.
        override fun toString() = "Detected(#${item.id} ${item.label} ${item.score} ${item.bbox})"
    }
    data class Drawn(override val region: Rect) : Target() {
        override val label get() = "Your box"
    }
    /** A box of the live viewfinder, in frame pixels (LiveViewfinder). */
    data class Tracked(val item: TrackedItem) : Target() {
        override val region get() = item.bbox
        override val label get() = item.label
        override fun toString() = "Tracked(#${item.trackId} ${item.label} ${item.score} ${item.bbox})"
    }
}

/** A tappable box on screen: the target, its rectangle in view pixels (clipped to the view), its caption. */
data class ScreenBox(val target: Target, val rect: Box, val caption: String)

/**
 * The on-screen boxes of [targets] for [mapper]'s layout: mapped to view pixels and clipped to the
 * view. A box less than [minVisible] visible (FILL crops it away) or smaller than [minSidePx] view
 * pixels on either side is left out, since it could not be tapped.
 */
fun layoutBoxes(
    targets: List<Target>,
    mapper: BoxMapper,
    minVisible: Float = 0.5f,
    minSidePx: Float = 8f,
): List<ScreenBox> = targets.mapNotNull { t ->
    val full = mapper.toView(t.region)
    val visible = full.intersect(mapper.view) ?: return@mapNotNull null
    if (full.area <= 0f || visible.area / full.area < minVisible) return@mapNotNull null
    if (visible.width < minSidePx || visible.height < minSidePx) return@mapNotNull null
    val caption = when (t) {
        is Target.Detected -> "${t.item.label} ${(t.item.score * 100).toInt()}%"
        is Target.Drawn -> t.label
        is Target.Tracked -> "${t.item.label} ${(t.item.score * 100).toInt()}%"
    }
    ScreenBox(t, visible, caption)
}

/**
 * The box a tap at (x, y) view pixels means: the smallest box containing the point (a shoe inside
 * the person wearing it wins); if none contains it, the nearest box within [slop] view pixels
 * (fingers are wide; 48 dp on Android, 44 pt on iOS are the platforms' touch targets). Null: no box.
 */
fun hitTest(boxes: List<ScreenBox>, x: Float, y: Float, slop: Float = 24f): ScreenBox? {
    val inside = boxes.filter { it.rect.contains(x, y) }
    if (inside.isNotEmpty()) return inside.minWith(compareBy<ScreenBox> { it.rect.area }.thenBy { it.rect.distanceCenter(x, y) })
    return boxes.map { it to it.rect.distanceTo(x, y) }
        .filter { it.second <= slop }
        .minByOrNull { it.second }?.first
}

private fun Box.distanceCenter(x: Float, y: Float) = abs(centerX - x) + abs(centerY - y)

/**
 * A box drawn by hand from view point (x0, y0) to (x1, y1), in any drag direction, as a region in
 * photo pixels clamped to the photo. Null when what is left is smaller than [minSidePhotoPx]
 * photo pixels on a side (a tap, or a drag outside the photo): the embedder needs some pixels.
 */
fun drawnRegion(mapper: BoxMapper, x0: Float, y0: Float, x1: Float, y1: Float, minSidePhotoPx: Float = 16f): Rect? {
    val l = mapper.toPhotoX(min(x0, x1)).coerceIn(0f, mapper.photoWidth)
    val r = mapper.toPhotoX(max(x0, x1)).coerceIn(0f, mapper.photoWidth)
    val t = mapper.toPhotoY(min(y0, y1)).coerceIn(0f, mapper.photoHeight)
    val b = mapper.toPhotoY(max(y0, y1)).coerceIn(0f, mapper.photoHeight)
    if (r - l < minSidePhotoPx || b - t < minSidePhotoPx) return null
    return Rect(l, t, r - l, b - t)
}
