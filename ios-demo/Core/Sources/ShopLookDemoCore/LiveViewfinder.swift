// Shared demo logic (Foundation only, host-tested on Linux): the live viewfinder. Camera frames go
// through the tracker; boxes follow objects with stable ids and captions; a tap on a box freezes
// the viewfinder and searches that object with the same sheet as photos. Same machine as the
// Android demo's LiveViewfinder.kt:
//
//   starting --first frame--> running(boxes) --tap on a box--> frozen(sheet .loading)
//                               ^      \--tracker error--> running(notice), keeps going
//                               |                            frozen: .loading -> .products | .failed(msg)
//                               \------------------ resume (dismiss) ----------------/
import Foundation
#if canImport(ShopLook)
import ShopLook
#endif

/// Searches and events of the product sheet: the photo screen's `DemoController` provides them.
public protocol ProductLookup: AnyObject {
    func searchEmbedding(_ embedding: Embedding, category: String?) async throws -> SearchResponse
    func reportEvent(_ kind: EventType, _ hit: SearchHit, queryId: String?, position: Int?)
}

/// What the product sheet's buttons do, whoever shows it: the photo screen (`DemoController`) or
/// the live viewfinder (where closing, cancelling and "new photo" all go back to the live camera).
public protocol SheetDriver: AnyObject {
    func dismissSheet()
    func cancel()
    func retry()
    func newPhoto()
    func openProduct(_ hit: SearchHit)
    func buy(_ hit: SearchHit) -> String
}

/// What the viewfinder shows: the frame (display size, timestamp), the tracker's items and the
/// boxes on screen (view points).
public struct LiveFrame: Equatable {
    public let frameWidth: Int, frameHeight: Int
    public let timestampMs: Double
    public let items: [TrackedItem]
    public var boxes: [ScreenBox]
}

public enum LiveState: Equatable {
    /// No frame processed yet (camera starting, models loading).
    case starting
    /// Boxes follow objects; `notice`: a problem shown over the preview while it keeps running.
    case running(LiveFrame, notice: UiMessage?)
    /// Frozen on a tap: no frames are fed, the frame's boxes stay; `selected` and its `sheet`.
    case frozen(LiveFrame, selected: ScreenBox, sheet: Sheet)

    public var frame: LiveFrame? {
        switch self {
        case .starting: return nil
        case .running(let f, _), .frozen(let f, _, _): return f
        }
    }
    public var notice: UiMessage? { if case .running(_, let n) = self { return n } else { return nil } }
    public var sheet: Sheet? { if case .frozen(_, _, let s) = self { return s } else { return nil } }
    public var selected: ScreenBox? { if case .frozen(_, let b, _) = self { return b } else { return nil } }
}

/// Frame counters since the start (back-pressure, the debug overlay).
public struct LiveCounters: Equatable {
    public var offered = 0, processed = 0, dropped = 0, withPixels = 0, errors = 0
}

/// Owns the live camera's `Tracker` and drives the viewfinder screen.
///
/// `offer` is called on the `AVCaptureVideoDataOutput`'s queue for every frame and returns at once:
/// a frame that arrives while another is being processed (or while frozen) is dropped, never
/// queued (`alwaysDiscardsLateVideoFrames` one level up). Pixels are read out of the
/// `CVPixelBuffer` only on frames that get a detection (`Tracker.needsPixels`); the others are
/// carried by the motion model from their timestamp alone. The tracker's calls block (a detection
/// takes tens of ms): they run on a serial `worker` queue, one at a time.
public final class LiveViewfinder: SheetDriver, @unchecked Sendable {
    private let lock = NSLock()
    private let makeTracker: () throws -> Tracker
    private weak var lookup: ProductLookup?
    private let worker = DispatchQueue(label: "shoplook.live.tracker", qos: .userInitiated)
    private let captions = TrackCaptions()
    private var _state: LiveState = .starting
    private var _counters = LiveCounters()
    private var tracker: Tracker?
    private var loading = false
    private var inFlight = false
    private var concurrent = 0
    private var _maxConcurrent = 0
    private var view: (width: Float, height: Float, mirrored: Bool)?
    private var generation = 0
    private var task: Task<Void, Never>?
    private var resetPending = false
    /// Boxes of the last frame pushed with pixels: what `Tracker.embedRegionAsync` crops from.
    private var pixelBoxes: [UInt64: Rect] = [:]

    /// Called after every state change, on the thread that made it (hop to the main actor to draw).
    public var onChange: ((LiveState) -> Void)?

    /// `tracker` makes the tracker (once, on the worker queue); `lookup` is the photo screen's
    /// controller (held weakly: it owns the catalogue client and outlives this screen).
    public init(tracker: @escaping () throws -> Tracker, lookup: ProductLookup) {
        self.makeTracker = tracker
        self.lookup = lookup
    }

    public var state: LiveState { lock.sync { _state } }
    public var counters: LiveCounters { lock.sync { _counters } }
    /// Most frames ever processed at once (1 unless back-pressure is broken).
    public var maxConcurrent: Int { lock.sync { _maxConcurrent } }
    public var busy: Bool { lock.sync { inFlight } }
    public var isReady: Bool { lock.sync { tracker != nil } }

    /// The preview's size in points (and whether it mirrors, front camera); re-lays the boxes.
    public func setView(width: Float, height: Float, mirrored: Bool = false) {
        update { s in
            view = (width, height, mirrored)
            switch s {
            case .starting: return s
            case .running(var f, let n):
                f.boxes = layout(f)
                return .running(f, notice: n)
            case .frozen(var f, let sel, let sheet):
                f.boxes = layout(f)
                return .frozen(f, selected: f.boxes.first { $0.trackId == sel.trackId } ?? sel, sheet: sheet)
            }
        }
    }

    /// Loads the tracker ahead of the first frame (the engine is loaded already; this is quick).
    public func prepare() {
        let start = lock.sync { () -> Bool in
            if tracker != nil || loading { return false }
            loading = true
            return true
        }
        guard start else { return }
        worker.async { [self] in
            do {
                let t = try makeTracker()
                lock.sync { tracker = t; loading = false }
            } catch {
                lock.sync { loading = false; _counters.errors += 1 }
                notice(Messages.forError(error))
            }
        }
    }

    /// A camera frame (on the camera's queue). True when it was taken, false when dropped (a frame
    /// in flight, frozen, tracker not loaded yet). Either way the caller may release its buffer
    /// when this returns: the pixels the tracker needs have been copied by then.
    @discardableResult
    public func offer(_ frame: CameraFrame) -> Bool {
        let admitted = lock.sync { () -> (Tracker, Int, Bool)? in
            _counters.offered += 1
            guard let t = tracker, !inFlight else { _counters.dropped += 1; return nil }
            if case .frozen = _state { _counters.dropped += 1; return nil }
            inFlight = true
            return (t, generation, resetPending)
        }
        guard let admitted else {
            if !isReady { prepare() }
            return false
        }
        let (t, gen, reset) = admitted
        let pixels: FramePixels?
        do {
            pixels = (reset || t.needsPixels(timestampMs: frame.timestampMs)) ? try frame.pixels() : nil
        } catch {   // the camera's buffer could not be read
            lock.sync { inFlight = false; _counters.errors += 1; _counters.dropped += 1 }
            notice(Messages.forCameraError(error))
            return false
        }
        worker.async { [self] in
            lock.sync { concurrent += 1; _maxConcurrent = max(_maxConcurrent, concurrent) }
            process(t, frame, pixels, gen)
            lock.sync { concurrent -= 1; inFlight = false }
        }
        return true
    }

    /// A tap at (x, y) view points. On a box: freezes on this frame and searches the box's object;
    /// returns the box. Elsewhere (or not running): nothing happens, nil.
    @discardableResult
    public func tap(_ x: Float, _ y: Float, slop: Float = 22) -> ScreenBox? {
        let hit = lock.sync { () -> (ScreenBox, Int)? in
            guard case .running(let f, _) = _state, let hit = hitTest(f.boxes, x, y, slop: slop) else { return nil }
            generation += 1
            task?.cancel()
            _state = .frozen(f, selected: hit, sheet: .loading(hit.target))
            return (hit, generation)
        }
        guard let hit else { return nil }
        let (box, gen) = hit
        onChange?(state)
        search(box, gen)
        return box
    }

    /// The retry button of the frozen sheet's message.
    public func retry() {
        let again = lock.sync { () -> (ScreenBox, Int)? in
            guard case .frozen(let f, let sel, .failed) = _state else { return nil }
            generation += 1
            _state = .frozen(f, selected: sel, sheet: .loading(sel.target))
            return (sel, generation)
        }
        guard let again else { return }
        let (box, gen) = again
        onChange?(state)
        search(box, gen)
    }

    /// Closes the sheet and goes live again. The tracker starts afresh (the objects moved while
    /// frozen; old tracks would be predicted far off): new ids and captions.
    public func resume() {
        let resumed = lock.sync { () -> Bool in
            guard case .frozen = _state else { return false }
            generation += 1
            task?.cancel()
            task = nil
            captions.clear()
            pixelBoxes = [:]
            resetPending = true
            _state = .starting
            return true
        }
        if resumed { onChange?(.starting) }
    }

    /// The sheet closed, its search cancelled, or "new photo": back to the live camera.
    public func dismissSheet() { resume() }
    public func cancel() { resume() }
    public func newPhoto() { resume() }

    /// A product card tapped in the frozen sheet.
    public func openProduct(_ hit: SearchHit) {
        if let s = shown(hit) { lookup?.reportEvent(.click, hit, queryId: s.0, position: s.1) }
    }

    /// The Buy button: reports the purchase, returns the URL to open.
    public func buy(_ hit: SearchHit) -> String {
        if let s = shown(hit) { lookup?.reportEvent(.purchase, hit, queryId: s.0, position: s.1) }
        return hit.url
    }

    /// Waits for the search in flight (tests; leaving the screen).
    public func awaitSearch() async {
        if let t = lock.sync({ task }) { await t.value }
    }

    // ------------------------------------------------------------------ internals

    private func process(_ t: Tracker, _ frame: CameraFrame, _ pixels: FramePixels?, _ gen: Int) {
        let items: [TrackedItem]
        do {
            if lock.sync({ () -> Bool in let r = resetPending; resetPending = false; return r }) { t.reset() }
            items = try pixels.map { try t.push(frame, $0) } ?? t.carry(timestampMs: frame.timestampMs)
        } catch {
            lock.sync { _counters.errors += 1 }
            notice(Messages.forCameraError(error))
            return
        }
        update { s in
            _counters.processed += 1
            if pixels != nil { _counters.withPixels += 1 }
            guard gen == generation else { return s }   // frozen or resumed meanwhile
            if case .frozen = s { return s }
            if pixels != nil { pixelBoxes = Dictionary(items.map { ($0.trackId, $0.bbox) }, uniquingKeysWith: { a, _ in a }) }
            var f = LiveFrame(frameWidth: frame.displayWidth, frameHeight: frame.displayHeight,
                              timestampMs: frame.timestampMs, items: items, boxes: [])
            f.boxes = layout(f)
            return .running(f, notice: nil)
        }
    }

    private func notice(_ m: UiMessage) {
        update { s in
            switch s {
            case .running(let f, _): return .running(f, notice: m)
            case .starting: return .running(LiveFrame(frameWidth: 0, frameHeight: 0, timestampMs: 0, items: [], boxes: []), notice: m)
            case .frozen: return s
            }
        }
    }

    /// Changes the state under the lock (`body` runs locked), then tells `onChange`.
    private func update(_ body: (LiveState) -> LiveState) {
        let (changed, now) = lock.sync { () -> (Bool, LiveState) in
            let next = body(_state)
            let changed = next != _state
            _state = next
            return (changed, next)
        }
        if changed { onChange?(now) }
    }

    /// Called with the lock held.
    private func layout(_ f: LiveFrame) -> [ScreenBox] {
        guard let v = view, f.frameWidth > 0, f.frameHeight > 0,
              let m = ViewfinderMapper(frameWidth: f.frameWidth, frameHeight: f.frameHeight, viewWidth: v.width,
                                       viewHeight: v.height, scale: .fill, mirrored: v.mirrored) else { return [] }
        return layoutTracked(f.items, m, captions)
    }

    private func search(_ box: ScreenBox, _ gen: Int) {
        guard case .tracked(let item) = box.target else { return }
        // The box of the frame whose pixels the tracker kept (the last detection frame, at most a
        // few frames before the one shown); the shown box when the track was not on it.
        let (region, t, lookup) = lock.sync { (pixelBoxes[item.trackId] ?? item.bbox, tracker, self.lookup) }
        let task = Task { [weak self] in
            let sheet: Sheet
            do {
                guard let t, let lookup else { throw ShopLookError.Internal(detail: "no tracker or lookup") }
                let embedding = try await t.embedRegionAsync(region: region)
                let found = try await lookup.searchEmbedding(embedding, category: item.category)
                sheet = found.results.isEmpty ? .failed(box.target, Messages.noProducts) : .products(box.target, found)
            } catch is CancellationError {
                return
            } catch {
                sheet = .failed(box.target, Messages.forError(error))
            }
            guard let self else { return }
            var shown = false
            self.update { s in
                guard gen == self.generation, case .frozen(let f, let sel, _) = s else { return s }
                shown = true
                return .frozen(f, selected: sel, sheet: sheet)
            }
            if shown, case .products(_, let response) = sheet {
                for row in sheet.rows { lookup?.reportEvent(.impression, row.hit, queryId: response.queryId, position: row.position) }
            }
        }
        let stale = lock.sync { () -> Bool in
            if gen == generation { self.task = task; return false }
            return true
        }
        if stale { task.cancel() }
    }

    /// The query id and 1-based position of `hit` in the frozen sheet, or nil when it is not showing.
    private func shown(_ hit: SearchHit) -> (String, Int)? {
        guard let sheet = state.sheet, case .products(_, let r) = sheet,
              let row = sheet.rows.first(where: { $0.hit.id == hit.id }) else { return nil }
        return (r.queryId, row.position)
    }
}
