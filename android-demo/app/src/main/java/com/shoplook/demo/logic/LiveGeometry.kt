// Shared demo logic (plain Kotlin, host-tested): where a tracked box of a camera frame appears in
// the viewfinder, and the stable caption each track keeps.
//
// Frame space: pixels of the analysis frame in display orientation (the tracker has applied the
// rotation), as `TrackedItem.bbox` reports them. View space: pixels of the preview view.
package com.shoplook.demo.logic

import com.shoplook.TrackedItem

/**
 * Maps frame boxes into the preview view. CameraX's `PreviewView` (`FILL_CENTER`, its default)
 * and iOS's `AVCaptureVideoPreviewLayer` (`.resizeAspectFill`) scale the upright camera image to
 * cover the view and crop what overflows, centred: [ContentScale.FILL]. The preview and the
 * analysis frames must have the same aspect ratio (the apps ask both for 4:3) for the analysis
 * frame to stand for what the preview shows. [mirrored]: the front camera's preview is shown
 * mirrored while its analysis frames are not, so x is flipped.
 */
class ViewfinderMapper(
    val frameWidth: Int,
    val frameHeight: Int,
    val viewWidth: Float,
    val viewHeight: Float,
    val scale: ContentScale = ContentScale.FILL,
    val mirrored: Boolean = false,
) {
    val mapper = BoxMapper(frameWidth.toFloat(), frameHeight.toFloat(), viewWidth, viewHeight, scale)
    val view: Box get() = mapper.view

    /** The box in view pixels (not clipped). */
    fun toView(b: Box): Box {
        val v = mapper.toView(b)
        return if (mirrored) Box(viewWidth - v.right, v.top, viewWidth - v.left, v.bottom) else v
    }

    /** A view point as frame pixels. */
    fun toFrame(x: Float, y: Float): Pair<Float, Float> =
        mapper.toPhotoX(if (mirrored) viewWidth - x else x) to mapper.toPhotoY(y)
}

/**
 * The caption each track keeps while it is followed ("Person 3"): numbered per label in order of
 * first appearance, so the number on screen is small and never changes for a track (also when it
 * is hidden for a few detections and found again), and no two tracks show the same one until
 * [clear] (the tracker was reset). The tracker's own ids only grow; they stay the key.
 */
class TrackCaptions {
    private val captions = HashMap<ULong, String>()
    private val counters = HashMap<String, Int>()

    fun captionOf(item: TrackedItem): String = synchronized(this) {
        captions.getOrPut(item.trackId) {
            val n = (counters[item.label] ?: 0) + 1
            counters[item.label] = n
            "${item.label} $n"
        }
    }

    fun clear() = synchronized(this) {
        captions.clear()
        counters.clear()
    }
}

/**
 * The on-screen boxes of [items]: mapped by [m], clipped to the view, captioned by [captions].
 * Boxes less than [minVisible] visible (cropped away by FILL) or under [minSidePx] are left out.
 */
fun layoutTracked(
    items: List<TrackedItem>,
    m: ViewfinderMapper,
    captions: TrackCaptions,
    minVisible: Float = 0.5f,
    minSidePx: Float = 8f,
): List<ScreenBox> = items.mapNotNull { item ->
    val full = m.toView(Box.of(item.bbox))
    val visible = full.intersect(m.view) ?: return@mapNotNull null
    if (full.area <= 0f || visible.area / full.area < minVisible) return@mapNotNull null
    if (visible.width < minSidePx || visible.height < minSidePx) return@mapNotNull null
    ScreenBox(Target.Tracked(item), visible, captions.captionOf(item))
}
