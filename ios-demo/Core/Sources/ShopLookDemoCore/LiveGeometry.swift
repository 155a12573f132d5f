// Shared demo logic (Foundation only, host-tested on Linux): camera frames as the live viewfinder
// takes them, where a tracked box appears in the preview, and the caption each track keeps. Same
// logic as the Android demo's CameraFrame.kt and LiveGeometry.kt.
//
// Frame space: pixels of the analysis frame in display orientation (the tracker has applied the
// rotation), as `TrackedItem.bbox` reports them. View space: points of the preview view.
import Foundation
#if canImport(ShopLook)
import ShopLook
#endif

/// A frame's pixels, in the layouts cameras deliver; copied out of the camera's buffer once.
public enum FramePixels {
    /// Three planes with row strides and the chroma pixel stride (1: I420; 2: interleaved).
    case yuv420(y: Data, yRowStride: Int, u: Data, v: Data, uvRowStride: Int, uvPixelStride: Int, fullRange: Bool)
    /// Y plane and one interleaved chroma plane with row strides: NV12 (`kCVPixelFormatType_420YpCbCr8BiPlanarFullRange`,
    /// U first; `fullRange` false for the `VideoRange` format) or NV21 (`vFirst`).
    case semiPlanar(y: Data, yRowStride: Int, uv: Data, uvRowStride: Int, vFirst: Bool, fullRange: Bool)
    /// RGBA or BGRA (`kCVPixelFormatType_32BGRA`) with `rowStride` bytes per row (`bytesPerRow`).
    case rgba(data: Data, rowStride: Int, bgra: Bool)
}

/// One frame offered to the viewfinder: `width` x `height` as the buffer is stored,
/// `rotationDegrees` the clockwise turn that makes it upright, the camera's `timestampMs`, and its
/// pixels on demand: `pixels` is called only when the tracker runs a detection on this frame.
public struct CameraFrame {
    public let width: Int, height: Int, rotationDegrees: Int
    public let timestampMs: Double
    public let pixels: () throws -> FramePixels

    public init(width: Int, height: Int, rotationDegrees: Int, timestampMs: Double, pixels: @escaping () throws -> FramePixels) {
        self.width = width; self.height = height; self.rotationDegrees = rotationDegrees
        self.timestampMs = timestampMs; self.pixels = pixels
    }

    private var quarter: Bool { ((rotationDegrees % 360) + 360) % 360 / 90 % 2 == 1 }
    /// Size in display orientation (what the tracker's boxes refer to).
    public var displayWidth: Int { quarter ? height : width }
    public var displayHeight: Int { quarter ? width : height }
}

extension Tracker {
    /// Pushes `p` as the frame `f` (the layout's own method; nothing is converted here).
    public func push(_ f: CameraFrame, _ p: FramePixels) throws -> [TrackedItem] {
        let w = UInt32(f.width), h = UInt32(f.height), rot = Int32(f.rotationDegrees)
        switch p {
        case let .yuv420(y, ys, u, v, uvs, ps, full):
            return try pushYuv420(width: w, height: h, y: y, yRowStride: UInt32(ys), u: u, v: v, uvRowStride: UInt32(uvs),
                                  uvPixelStride: UInt32(ps), rotationDegrees: rot, timestampMs: f.timestampMs, fullRange: full)
        case let .semiPlanar(y, ys, uv, uvs, vFirst, full):
            return try pushSemiPlanar(width: w, height: h, y: y, yRowStride: UInt32(ys), uv: uv, uvRowStride: UInt32(uvs),
                                      rotationDegrees: rot, timestampMs: f.timestampMs, vFirst: vFirst, fullRange: full)
        case let .rgba(data, stride, bgra):
            return try pushRgba(width: w, height: h, data: data, rowStride: UInt32(stride), bgra: bgra,
                                rotationDegrees: rot, timestampMs: f.timestampMs)
        }
    }
}

/// Maps frame boxes into the preview: `AVCaptureVideoPreviewLayer` with `.resizeAspectFill` (and
/// CameraX's `PreviewView` `FILL_CENTER`) scale the upright image to cover the view and crop what
/// overflows, centred. The preview and the analysis frames must have the same aspect ratio (the app
/// uses one session preset for both). `mirrored`: the front camera's preview is mirrored, its video
/// frames are not, so x is flipped.
public struct ViewfinderMapper {
    public let mapper: BoxMapper
    public let mirrored: Bool

    public init?(frameWidth: Int, frameHeight: Int, viewWidth: Float, viewHeight: Float,
                 scale: ContentScale = .fill, mirrored: Bool = false) {
        guard let m = BoxMapper(photoWidth: Float(frameWidth), photoHeight: Float(frameHeight),
                                viewWidth: viewWidth, viewHeight: viewHeight, scale: scale) else { return nil }
        mapper = m
        self.mirrored = mirrored
    }

    public var view: Box { mapper.view }

    /// The box in view points (not clipped).
    public func toView(_ b: Box) -> Box {
        let v = mapper.toView(b)
        return mirrored ? Box(left: mapper.viewWidth - v.right, top: v.top, right: mapper.viewWidth - v.left, bottom: v.bottom) : v
    }

    /// A view point as frame pixels.
    public func toFrame(_ x: Float, _ y: Float) -> (Float, Float) {
        (mapper.toPhotoX(mirrored ? mapper.viewWidth - x : x), mapper.toPhotoY(y))
    }
}

/// The caption each track keeps while it is followed ("Person 3"): numbered per label in order of
/// first appearance, never changing for a track (also when it is hidden for a few detections and
/// found again), never shared by two tracks until `clear()` (the tracker was reset).
public final class TrackCaptions: @unchecked Sendable {
    private let lock = NSLock()
    private var captions: [UInt64: String] = [:]
    private var counters: [String: Int] = [:]

    public init() {}

    public func caption(of item: TrackedItem) -> String {
        lock.sync {
            if let c = captions[item.trackId] { return c }
            let n = (counters[item.label] ?? 0) + 1
            counters[item.label] = n
            let c = "\(item.label) \(n)"
            captions[item.trackId] = c
            return c
        }
    }

    public func clear() { lock.sync { captions = [:]; counters = [:] } }
}

/// The on-screen boxes of `items`: mapped by `m`, clipped to the view, captioned by `captions`.
/// Boxes less than `minVisible` visible (cropped away) or under `minSide` points are left out.
public func layoutTracked(_ items: [TrackedItem], _ m: ViewfinderMapper, _ captions: TrackCaptions,
                          minVisible: Float = 0.5, minSide: Float = 8) -> [ScreenBox] {
    items.compactMap { item in
        let full = m.toView(Box(item.bbox))
        guard let visible = full.intersection(m.view), full.area > 0,
              visible.area / full.area >= minVisible,
              visible.width >= minSide, visible.height >= minSide else { return nil }
        return ScreenBox(target: .tracked(item), rect: visible, caption: captions.caption(of: item))
    }
}

extension ScreenBox {
    /// The tracker's id of a live box (nil for photo boxes).
    public var trackId: UInt64? {
        if case .tracked(let t) = target { return t.trackId }
        return nil
    }
}
