// Shared demo logic (plain Kotlin, host-tested): a camera frame as the live viewfinder takes it,
// and how it goes to the tracker. The Android layer (ui/LiveAnalyzer.kt) fills these from a CameraX
// ImageProxy; the host tests from real video frames.
package com.shoplook.demo.logic

import com.shoplook.TrackedItem
import com.shoplook.Tracker

/** A frame's pixels, in the layouts cameras deliver; copied out of the camera's buffer once. */
sealed class FramePixels {
    /**
     * CameraX `YUV_420_888`: the three planes as `ImageProxy.planes` hands them (their row strides,
     * the chroma pixel stride: 1 for I420, 2 when U and V are interleaved as in NV21/NV12).
     */
    class Yuv420(
        val y: ByteArray, val yRowStride: Int,
        val u: ByteArray, val v: ByteArray, val uvRowStride: Int, val uvPixelStride: Int,
        val fullRange: Boolean = true,
    ) : FramePixels()

    /** Y plane and one interleaved chroma plane with row strides: NV12 (U first) or NV21 ([vFirst]). */
    class SemiPlanar(
        val y: ByteArray, val yRowStride: Int,
        val uv: ByteArray, val uvRowStride: Int,
        val vFirst: Boolean, val fullRange: Boolean = true,
    ) : FramePixels()

    /** RGBA or BGRA ([bgra]) with [rowStride] bytes per row. */
    class Rgba(val data: ByteArray, val rowStride: Int, val bgra: Boolean) : FramePixels()
}

/**
 * One frame offered to the viewfinder: [width] x [height] as the buffer is stored, [rotationDegrees]
 * as the camera reports it (CameraX `ImageInfo.rotationDegrees`: the clockwise turn that makes it
 * upright), the camera's [timestampMs], and its pixels on demand: [pixels] is called only when the
 * tracker runs a detection on this frame, so most frames are never copied.
 */
class CameraFrame(
    val width: Int,
    val height: Int,
    val rotationDegrees: Int,
    val timestampMs: Double,
    val pixels: () -> FramePixels,
) {
    private val quarter = ((rotationDegrees % 360) + 360) % 360 / 90 % 2 == 1

    /** Size in display orientation (what the tracker's boxes refer to). */
    val displayWidth: Int get() = if (quarter) height else width
    val displayHeight: Int get() = if (quarter) width else height
}

/** Pushes [p] as the frame [f] to the tracker (the layout's own method; nothing is converted here). */
fun Tracker.push(f: CameraFrame, p: FramePixels): List<TrackedItem> {
    val w = f.width.toUInt()
    val h = f.height.toUInt()
    return when (p) {
        is FramePixels.Yuv420 -> pushYuv420(w, h, p.y, p.yRowStride.toUInt(), p.u, p.v, p.uvRowStride.toUInt(),
            p.uvPixelStride.toUInt(), f.rotationDegrees, f.timestampMs, p.fullRange)
        is FramePixels.SemiPlanar -> pushSemiPlanar(w, h, p.y, p.yRowStride.toUInt(), p.uv, p.uvRowStride.toUInt(),
            f.rotationDegrees, f.timestampMs, p.vFirst, p.fullRange)
        is FramePixels.Rgba -> pushRgba(w, h, p.data, p.rowStride.toUInt(), p.bgra, f.rotationDegrees, f.timestampMs)
    }
}
