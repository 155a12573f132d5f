// Real video frames for the live viewfinder's host tests, turned into the buffers a camera hands
// over: OpenCV's vtest.avi frames (768x576, pedestrians; scripts/fetch-video.sh, found like
// core/tests/tracking.rs does: $SHOPLOOK_VIDEO_FRAMES, else
// ${SHOPLOOK_TOOLS:-/var/cache/shoplook-tools}/video/vtest-frames-150), each stored the way a
// sensor delivers it: turned a quarter turn counter-clockwise (576 wide, 768 tall) with
// rotationDegrees 90, in NV21 / I420 / NV12 / BGRA with padded rows.
package com.shoplook.demo.logic

import com.shoplook.Rect
import java.io.File
import javax.imageio.ImageIO
import kotlin.math.max
import kotlin.math.min
import kotlin.math.roundToInt
import org.junit.Assume

object LiveFixtures {
    const val FRAME_MS = 100.0   // vtest.avi is 10 fps
    const val PAD = 40           // bytes of padding at the end of every row (as camera buffers have)

    val dir: File by lazy {
        System.getenv("SHOPLOOK_VIDEO_FRAMES")?.takeIf { it.isNotEmpty() }?.let(::File)
            ?: File(System.getenv("SHOPLOOK_TOOLS") ?: "/var/cache/shoplook-tools", "video/vtest-frames-150")
    }

    /** Skips the calling test when the frames are absent, except under CI, where that fails. */
    fun requireFrames() {
        val there = dir.isDirectory && (dir.list()?.any { it.endsWith(".jpg") } == true)
        if (!there) {
            val msg = "video frames not found in $dir: run scripts/fetch-video.sh (and set SHOPLOOK_VIDEO_FRAMES)"
            if (System.getenv("CI") != null) throw AssertionError(msg)
            println("SKIPPED: $msg")
        }
        Assume.assumeTrue(there)
    }

    /** An upright RGB frame (the scene as the user sees it). */
    class Scene(val width: Int, val height: Int, val rgb: ByteArray)

    private val cache = HashMap<Int, Scene>()

    /** Frame [i] (0-based) of the clip, upright. */
    fun scene(i: Int): Scene = synchronized(cache) {
        cache.getOrPut(i) {
            val img = ImageIO.read(File(dir, "frame-%04d.jpg".format(i + 1)))
            val (w, h) = img.width to img.height
            val argb = img.getRGB(0, 0, w, h, null, 0, w)
            val rgb = ByteArray(w * h * 3)
            for (p in 0 until w * h) {
                val c = argb[p]
                rgb[3 * p] = (c shr 16).toByte(); rgb[3 * p + 1] = (c shr 8).toByte(); rgb[3 * p + 2] = c.toByte()
            }
            Scene(w, h, rgb)
        }
    }

    enum class Layout { NV21, I420, NV12, BGRA }

    /**
     * The camera frame of scene [i] in [layout]: the buffer holds the scene turned a quarter turn
     * counter-clockwise (sensor buffers of phones held upright), rotationDegrees 90 turns it back.
     * [onPixels] counts how often the viewfinder asked for the pixels.
     */
    fun frame(i: Int, layout: Layout, onPixels: () -> Unit = {}): CameraFrame {
        val s = scene(i)
        val bw = s.height   // buffer width: the scene turned counter-clockwise
        val bh = s.width
        return CameraFrame(bw, bh, 90, i * FRAME_MS) {
            onPixels()
            sensorPixels(s, layout)
        }
    }

    /** Scene pixel (r, g, b) at buffer position (bx, by) of the counter-clockwise turned buffer. */
    private inline fun <T> atBuffer(s: Scene, bx: Int, by: Int, f: (Int, Int, Int) -> T): T {
        val x = s.width - 1 - by
        val y = bx
        val o = 3 * (y * s.width + x)
        return f(s.rgb[o].toInt() and 255, s.rgb[o + 1].toInt() and 255, s.rgb[o + 2].toInt() and 255)
    }

    fun sensorPixels(s: Scene, layout: Layout): FramePixels {
        val bw = s.height
        val bh = s.width
        if (layout == Layout.BGRA) {
            val stride = bw * 4 + PAD
            val data = ByteArray(stride * bh)
            for (by in 0 until bh) for (bx in 0 until bw) atBuffer(s, bx, by) { r, g, b ->
                val o = by * stride + bx * 4
                data[o] = b.toByte(); data[o + 1] = g.toByte(); data[o + 2] = r.toByte(); data[o + 3] = -1
            }
            return FramePixels.Rgba(data, stride, bgra = true)
        }
        // BT.601 full range (JFIF), as Android and iOS 420f cameras deliver.
        val yStride = bw + PAD
        val y = ByteArray(yStride * bh)
        val cw = (bw + 1) / 2
        val ch = (bh + 1) / 2
        val us = IntArray(cw * ch)
        val vs = IntArray(cw * ch)
        val ns = IntArray(cw * ch)
        for (by in 0 until bh) for (bx in 0 until bw) atBuffer(s, bx, by) { r, g, b ->
            y[by * yStride + bx] = clamp(0.299 * r + 0.587 * g + 0.114 * b).toByte()
            val c = (by / 2) * cw + bx / 2
            us[c] += clamp(128 - 0.168736 * r - 0.331264 * g + 0.5 * b)
            vs[c] += clamp(128 + 0.5 * r - 0.418688 * g - 0.081312 * b)
            ns[c] += 1
        }
        fun u(c: Int) = ((us[c] + ns[c] / 2) / ns[c]).toByte()
        fun v(c: Int) = ((vs[c] + ns[c] / 2) / ns[c]).toByte()
        return when (layout) {
            Layout.I420 -> {
                val cs = cw + PAD / 2
                val up = ByteArray(cs * ch)
                val vp = ByteArray(cs * ch)
                for (cy in 0 until ch) for (cx in 0 until cw) {
                    up[cy * cs + cx] = u(cy * cw + cx); vp[cy * cs + cx] = v(cy * cw + cx)
                }
                FramePixels.Yuv420(y, yStride, up, vp, cs, 1)
            }
            Layout.NV21, Layout.NV12 -> {
                val cs = 2 * cw + PAD
                val inter = ByteArray(cs * ch)
                val vFirst = layout == Layout.NV21
                for (cy in 0 until ch) for (cx in 0 until cw) {
                    val c = cy * cw + cx
                    inter[cy * cs + 2 * cx] = if (vFirst) v(c) else u(c)
                    inter[cy * cs + 2 * cx + 1] = if (vFirst) u(c) else v(c)
                }
                if (vFirst) {
                    // As CameraX hands an NV21-backed YUV_420_888 image: the V plane starts at the
                    // first V, the U plane one byte later, both with pixel stride 2.
                    FramePixels.Yuv420(y, yStride, inter.copyOfRange(1, inter.size), inter, cs, 2)
                } else {
                    FramePixels.SemiPlanar(y, yStride, inter, cs, vFirst = false)
                }
            }
            Layout.BGRA -> error("handled above")
        }
    }

    /** The upright scene as RGBA without padding (the reference run, rotation 0). */
    fun uprightRgba(i: Int): Pair<Scene, ByteArray> {
        val s = scene(i)
        val out = ByteArray(s.width * s.height * 4)
        for (p in 0 until s.width * s.height) {
            out[4 * p] = s.rgb[3 * p]; out[4 * p + 1] = s.rgb[3 * p + 1]; out[4 * p + 2] = s.rgb[3 * p + 2]; out[4 * p + 3] = -1
        }
        return s to out
    }

    private fun clamp(v: Double): Int = min(255, max(0, v.roundToInt()))

    fun iou(a: Rect, b: Rect): Float {
        val l = max(a.x, b.x); val t = max(a.y, b.y)
        val r = min(a.x + a.width, b.x + b.width); val bo = min(a.y + a.height, b.y + b.height)
        val inter = max(0f, r - l) * max(0f, bo - t)
        val union = a.width * a.height + b.width * b.height - inter
        return if (union <= 0f) 0f else inter / union
    }
}
