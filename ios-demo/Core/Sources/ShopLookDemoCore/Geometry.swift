// Shared demo logic (Foundation only): compiled and tested on Linux by scripts/test-bindings.sh
// against the real library, and used as is by the SwiftUI app. Same logic as the Android demo's
// android-demo/app/src/main/java/com/shoplook/demo/logic/Geometry.kt.
//
// Photo space: pixels of the photo in display orientation, as `Analysis.width/height` and
// `Item.bbox` report them (the core decoder has applied the EXIF orientation already).
// View space: points of the on-screen image view the photo is drawn into.
import Foundation
#if canImport(ShopLook)
import ShopLook
#endif

/// An axis-aligned rectangle given by its edges (view points or photo pixels).
public struct Box: Equatable, Hashable {
    public var left: Float, top: Float, right: Float, bottom: Float
    public init(left: Float, top: Float, right: Float, bottom: Float) {
        self.left = left; self.top = top; self.right = right; self.bottom = bottom
    }
    public init(_ r: Rect) { self.init(left: r.x, top: r.y, right: r.x + r.width, bottom: r.y + r.height) }

    public var width: Float { right - left }
    public var height: Float { bottom - top }
    public var area: Float { max(0, width) * max(0, height) }
    public var centerX: Float { (left + right) / 2 }
    public var centerY: Float { (top + bottom) / 2 }
    public func contains(_ x: Float, _ y: Float) -> Bool { x >= left && x <= right && y >= top && y <= bottom }
    public func inflated(_ d: Float) -> Box { Box(left: left - d, top: top - d, right: right + d, bottom: bottom + d) }
    public func intersection(_ o: Box) -> Box? {
        let l = max(left, o.left), t = max(top, o.top), r = min(right, o.right), b = min(bottom, o.bottom)
        return r > l && b > t ? Box(left: l, top: t, right: r, bottom: b) : nil
    }
    /// Distance from (x, y) to the nearest point of the box (0 inside).
    public func distance(to x: Float, _ y: Float) -> Float {
        let dx = max(0, max(left - x, x - right)), dy = max(0, max(top - y, y - bottom))
        return (dx * dx + dy * dy).squareRoot()
    }
}

/// How the photo is drawn into the view (SwiftUI `.aspectRatio(contentMode: .fit / .fill)`).
public enum ContentScale { case fit, fill }

/// Maps photo pixels to view points and back for a photo of any size drawn centred into a view of
/// any size. `.fit` letterboxes (the whole photo is visible), `.fill` crops.
public struct BoxMapper {
    public let photoWidth: Float, photoHeight: Float, viewWidth: Float, viewHeight: Float
    public let scale: ContentScale
    /// View points per photo pixel.
    public let factor: Float
    public let offsetX: Float, offsetY: Float

    public init?(photoWidth: Float, photoHeight: Float, viewWidth: Float, viewHeight: Float, scale: ContentScale = .fit) {
        guard photoWidth > 0, photoHeight > 0, viewWidth > 0, viewHeight > 0 else { return nil }
        self.photoWidth = photoWidth; self.photoHeight = photoHeight
        self.viewWidth = viewWidth; self.viewHeight = viewHeight; self.scale = scale
        switch scale {
        case .fit: factor = min(viewWidth / photoWidth, viewHeight / photoHeight)
        case .fill: factor = max(viewWidth / photoWidth, viewHeight / photoHeight)
        }
        offsetX = (viewWidth - photoWidth * factor) / 2
        offsetY = (viewHeight - photoHeight * factor) / 2
    }

    public init?(analysis: Analysis, viewWidth: Float, viewHeight: Float, scale: ContentScale = .fit) {
        self.init(photoWidth: Float(analysis.width), photoHeight: Float(analysis.height),
                  viewWidth: viewWidth, viewHeight: viewHeight, scale: scale)
    }

    /// Where the photo is drawn in the view (larger than the view with `.fill`).
    public var photoInView: Box {
        Box(left: offsetX, top: offsetY, right: offsetX + photoWidth * factor, bottom: offsetY + photoHeight * factor)
    }
    public var view: Box { Box(left: 0, top: 0, right: viewWidth, bottom: viewHeight) }

    public func toView(_ r: Rect) -> Box { toView(Box(r)) }
    public func toView(_ b: Box) -> Box {
        Box(left: offsetX + b.left * factor, top: offsetY + b.top * factor,
            right: offsetX + b.right * factor, bottom: offsetY + b.bottom * factor)
    }
    public func toPhotoX(_ x: Float) -> Float { (x - offsetX) / factor }
    public func toPhotoY(_ y: Float) -> Float { (y - offsetY) / factor }
    public func toPhoto(_ b: Box) -> Box {
        Box(left: toPhotoX(b.left), top: toPhotoY(b.top), right: toPhotoX(b.right), bottom: toPhotoY(b.bottom))
    }
}

/// What can be tapped: a detected item, a box the user drew, or an object the live viewfinder follows.
public enum Target: Equatable, CustomStringConvertible {
    case detected(Item)
    case drawn(Rect)
    /// A box of the live viewfinder, in frame pixels (LiveViewfinder).
    case tracked(TrackedItem)

    public var region: Rect {
        switch self {
        case .detected(let item): return item.bbox
        case .drawn(let r): return r
        case .tracked(let t): return t.bbox
        }
    }
    public var label: String {
        switch self {
        case .detected(let item): return item.label
        case .drawn: return "Your box"
        case .tracked(let t): return t.label
        }
    }
    /// Without the 1280-number embedding, which would fill logs and test failures.
    public var description: String {
        switch self {
        case .detected(let i): return "detected(#\(i.id) \(i.label) \(i.score) \(i.bbox))"
        case .drawn(let r): return "drawn(\(r))"
        case .tracked(let t): return "tracked(#\(t.trackId) \(t.label) \(t.score) \(t.bbox))"
        }
    }
}

/// A tappable box on screen: its target, its rectangle in view points (clipped to the view), its caption.
public struct ScreenBox: Equatable {
    public let target: Target
    public let rect: Box
    public let caption: String
}

/// The on-screen boxes of `targets` for `mapper`'s layout, clipped to the view. A box less than
/// `minVisible` visible (`.fill` crops it away) or under `minSide` points on a side is left out.
public func layoutBoxes(_ targets: [Target], _ mapper: BoxMapper, minVisible: Float = 0.5, minSide: Float = 8) -> [ScreenBox] {
    targets.compactMap { t in
        let full = mapper.toView(t.region)
        guard let visible = full.intersection(mapper.view), full.area > 0,
              visible.area / full.area >= minVisible,
              visible.width >= minSide, visible.height >= minSide else { return nil }
        let caption: String
        switch t {
        case .detected(let item): caption = "\(item.label) \(Int(item.score * 100))%"
        case .drawn: caption = t.label
        case .tracked(let item): caption = "\(item.label) \(Int(item.score * 100))%"
        }
        return ScreenBox(target: t, rect: visible, caption: caption)
    }
}

/// The box a tap at (x, y) means: the smallest box containing the point (a shoe inside the person
/// wearing it wins); if none contains it, the nearest within `slop` points (44 pt touch targets).
public func hitTest(_ boxes: [ScreenBox], _ x: Float, _ y: Float, slop: Float = 22) -> ScreenBox? {
    let inside = boxes.filter { $0.rect.contains(x, y) }
    if !inside.isEmpty {
        return inside.min { a, b in
            a.rect.area != b.rect.area ? a.rect.area < b.rect.area
                : abs(a.rect.centerX - x) + abs(a.rect.centerY - y) < abs(b.rect.centerX - x) + abs(b.rect.centerY - y)
        }
    }
    return boxes.map { ($0, $0.rect.distance(to: x, y)) }
        .filter { $0.1 <= slop }
        .min { $0.1 < $1.1 }?.0
}

/// A box drawn by hand from view point (x0, y0) to (x1, y1), in any direction, as a region in photo
/// pixels clamped to the photo; nil when less than `minSide` photo pixels remain on a side.
public func drawnRegion(_ m: BoxMapper, _ x0: Float, _ y0: Float, _ x1: Float, _ y1: Float, minSide: Float = 16) -> Rect? {
    func clamp(_ v: Float, _ hi: Float) -> Float { min(max(v, 0), hi) }
    let l = clamp(m.toPhotoX(min(x0, x1)), m.photoWidth), r = clamp(m.toPhotoX(max(x0, x1)), m.photoWidth)
    let t = clamp(m.toPhotoY(min(y0, y1)), m.photoHeight), b = clamp(m.toPhotoY(max(y0, y1)), m.photoHeight)
    guard r - l >= minSide, b - t >= minSide else { return nil }
    return Rect(x: l, y: t, width: r - l, height: b - t)
}
