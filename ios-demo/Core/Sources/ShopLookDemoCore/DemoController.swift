// Shared demo logic: the states of the demo's one screen and the state machine that drives them
// over the real ShopLook engine and catalogue client (Foundation only, no SwiftUI/Combine, so the
// Linux host tests compile and run it). The SwiftUI app's `DemoModel` forwards UI events here and
// republishes `state` on the main actor. Same machine as the Android demo's DemoController.kt:
//
//   capture --photo--> analyzing --ok--> photo(boxes) --tap/draw--> photo + sheet .loading
//      ^                  |  \--error--> failed --retry--> analyzing (or capture for a bad photo)
//      |                  \--cancel--> capture          .loading --> .products | .failed(message)
//      \------------------------- new photo ------------------------------------/
import Foundation
#if canImport(ShopLook)
import ShopLook
#endif

/// The bottom sheet of products for one target.
public enum Sheet: Equatable {
    case loading(Target)
    case products(Target, SearchResponse)
    /// No products (`Messages.noProducts`) or an error; the message says which and offers a retry.
    case failed(Target, UiMessage)

    public var target: Target {
        switch self {
        case .loading(let t), .products(let t, _), .failed(let t, _): return t
        }
    }

    /// The product list as shown (empty unless `.products`): each hit with its position, its
    /// label and why it is there.
    public var rows: [ProductRow] {
        guard case .products(_, let response) = self else { return [] }
        return response.results.enumerated().map { ProductRow(hit: $0.element, position: $0.offset + 1) }
    }
}

/// One row of the product sheet. `position`: the hit's 1-based place in the results, reported with
/// its impression, click and purchase. `label`: "Sponsored" for a paid placement (the catalogue's
/// ad slot; shown on the row, never hidden), else nil. `explanation`: why it is there
/// ("similar 83%", "similar 83% · learned +4": what shoppers' clicks and purchases added).
public struct ProductRow: Equatable {
    public static let sponsored = "Sponsored"

    public let hit: SearchHit
    public let position: Int

    public init(hit: SearchHit, position: Int) {
        self.hit = hit
        self.position = position
    }

    public var label: String? { hit.sponsored ? ProductRow.sponsored : nil }
    public var explanation: String { Format.explanation(hit) }
}

/// The photo with its boxes. `drawing`: the user is drawing a box by hand. `notice`: shown over
/// the photo (nothing found). `sheet`: the product sheet, when open.
public struct PhotoState: Equatable {
    public let photo: Data
    public let analysis: Analysis
    public var targets: [Target]
    public var drawing = false
    public var sheet: Sheet? = nil
    public var notice: UiMessage? = nil
}

public enum Screen: Equatable {
    /// Camera preview with a shutter, and the photo library button.
    case capture
    /// The photo is being analysed off the main thread: show it dimmed with a progress view.
    case analyzing(Data)
    /// Analysis failed: full-screen message with a retry; the photo is kept to retry with.
    case failed(UiMessage, photo: Data?)
    case photo(PhotoState)

    public var photoState: PhotoState? {
        if case .photo(let p) = self { return p }
        return nil
    }
}

/// A feedback event (with the product's 1-based position in its search) and whether the catalogue
/// accepted it.
public struct SentEvent: Equatable {
    public let kind: EventType
    public let productId: String
    public let queryId: String?
    public let error: UiMessage?
    public var position: Int? = nil
    public var accepted: Bool { error == nil }
}

/// Drives one screen. Every slow call is an `async` call of the bindings that runs on a Rust
/// worker thread; the controller never blocks its caller. Thread-safe: its state is guarded by a
/// lock, and `onChange` is called (on any thread) after every change.
public final class DemoController: ProductLookup, SheetDriver, @unchecked Sendable {
    private let lock = NSLock()
    private let engine: () async throws -> ShopLook
    private let clientFor: (DemoSettings) throws -> CatalogueClient
    private let analyzeOptions: AnalyzeOptions
    private var _state: Screen = .capture
    private var _events: [SentEvent] = []
    private var _settings: DemoSettings
    private var cachedClient: CatalogueClient?
    private var generation = 0
    private var task: Task<Void, Never>?
    private var eventTasks: [Task<Void, Never>] = []

    /// Called after every state change, on the thread that made it (hop to the main actor to draw).
    public var onChange: ((Screen) -> Void)?

    public init(engine: @escaping () async throws -> ShopLook,
                settings: DemoSettings = DemoSettings(),
                clientFor: @escaping (DemoSettings) throws -> CatalogueClient = { try CatalogueClient(baseUrl: $0.catalogueURL, apiKey: $0.apiKey, transport: demoTransport()) },
                analyzeOptions: AnalyzeOptions = AnalyzeOptions(maxItems: 20)) {
        self.engine = engine
        self._settings = settings.normalized
        self.clientFor = clientFor
        self.analyzeOptions = analyzeOptions
    }

    public var state: Screen { lock.sync { _state } }
    /// Every event reported so far, with the catalogue's verdict.
    public var events: [SentEvent] { lock.sync { _events } }
    public var settings: DemoSettings { lock.sync { _settings } }

    // ------------------------------------------------------------------ photo -> boxes

    /// A photo from the shutter or the library (encoded JPEG/PNG/HEIC-converted-to-JPEG bytes, EXIF kept).
    public func analyze(_ photo: Data) {
        let gen = begin(.analyzing(photo))
        let options = analyzeOptions
        setTask(gen, Task { [weak self] in
            guard let self else { return }
            let next: Screen
            do {
                let analysis = try await self.engine().analyzeAsync(photo: photo, options: options)
                let targets = analysis.items.map { Target.detected($0) }
                next = .photo(PhotoState(photo: photo, analysis: analysis, targets: targets,
                                         notice: targets.isEmpty ? Messages.nothingFound : nil))
            } catch is CancellationError {
                return
            } catch {
                next = .failed(Messages.forError(error), photo: photo)
            }
            self.commit(gen) { _ in next }
        })
    }

    /// Back to the camera (also cancels an analysis in flight).
    public func newPhoto() { begin(.capture) }

    /// Cancels what is running: an analysis goes back to the camera, a search closes its sheet.
    public func cancel() {
        switch state {
        case .analyzing: begin(.capture)
        case .photo(var p):
            if case .loading = p.sheet { p.sheet = nil; begin(.photo(p)) }
        default: break
        }
    }

    // ------------------------------------------------------------------ boxes -> products

    /// A tap at (x, y) view points on the photo laid out as `boxes`: opens the sheet of the box hit.
    @discardableResult
    public func tap(_ boxes: [ScreenBox], _ x: Float, _ y: Float, slop: Float = 22) -> ScreenBox? {
        guard let p = state.photoState, !p.drawing, let hit = hitTest(boxes, x, y, slop: slop) else { return nil }
        select(hit.target)
        return hit
    }

    /// Toggles the draw-a-box mode (for things the detector missed).
    public func setDrawing(_ on: Bool) {
        guard var p = state.photoState else { return }
        p.drawing = on
        if on { p.sheet = nil }
        begin(.photo(p))
    }

    /// A box drawn by hand, in photo pixels (`drawnRegion` converts the drag): added and searched.
    public func addDrawnBox(_ region: Rect) {
        guard var p = state.photoState else { return }
        p.targets.append(.drawn(region))
        p.drawing = false
        p.notice = nil
        begin(.photo(p))
        select(.drawn(region))
    }

    /// Searches the catalogue for `target` and shows the sheet (loading, then products or a message).
    public func select(_ target: Target) {
        guard var p = state.photoState else { return }
        p.sheet = .loading(target)
        p.drawing = false
        let gen = begin(.photo(p))
        let photoState = p
        setTask(gen, Task { [weak self] in
            guard let self else { return }
            let sheet: Sheet
            do {
                let found = try await self.search(photoState, target)
                sheet = found.results.isEmpty ? .failed(target, Messages.noProducts) : .products(target, found)
            } catch is CancellationError {
                return
            } catch {
                sheet = .failed(target, Messages.forError(error))
            }
            let shown = self.commit(gen) { cur in
                guard var p = cur.photoState else { return cur }
                p.sheet = sheet
                return .photo(p)
            }
            if shown, case .products(_, let response) = sheet {
                for row in sheet.rows { self.report(.impression, row.hit, response.queryId, row.position) }
            }
        })
    }

    public func dismissSheet() {
        guard var p = state.photoState else { return }
        p.sheet = nil
        begin(.photo(p))
    }

    /// The user tapped a product card (a click on a sponsored one is what its campaign pays for).
    public func openProduct(_ hit: SearchHit) {
        let (queryId, position) = shown(hit)
        report(.click, hit, queryId, position)
    }

    /// The "Buy" button: reports the purchase and returns the URL to open.
    public func buy(_ hit: SearchHit) -> String {
        let (queryId, position) = shown(hit)
        report(.purchase, hit, queryId, position)
        return hit.url
    }

    /// The app came back to the foreground (scenePhase `.background` -> `.active`): a new app
    /// session, so that the catalogue's per-session caps (what one session teaches the ranking,
    /// how often it sees an ad) start afresh. The session id is random, never a device or user id.
    public func onForeground() {
        _ = lock.sync { cachedClient }?.rotateSession()
    }

    /// The current session's id (nil before the first search: no client yet).
    public var sessionId: String? { lock.sync { cachedClient }?.sessionId() }

    /// The retry button of whatever message is showing.
    public func retry() {
        switch state {
        case .failed(let message, let photo):
            if let photo, !message.needsNewPhoto { analyze(photo) } else { begin(.capture) }
        case .photo(let p):
            if case .failed(let target, _) = p.sheet { select(target) }
            else if p.sheet == nil, p.notice == Messages.nothingFound { setDrawing(true) }
        default: break
        }
    }

    /// New catalogue URL / key from Settings; the next search uses them.
    public func updateSettings(_ s: DemoSettings) {
        lock.sync { _settings = s.normalized; cachedClient = nil }
    }

    /// Waits until every event reported so far has been answered. The work in flight is awaited
    /// first: a sheet is shown before its impressions are reported.
    public func awaitEvents() async {
        if let t = lock.sync({ task }) { await t.value }
        for t in lock.sync({ eventTasks }) { await t.value }
    }

    // ------------------------------------------------------------------ for the live viewfinder

    /// A search with this screen's catalogue, settings and session (the live viewfinder's taps).
    public func searchEmbedding(_ embedding: Embedding, category: String?) async throws -> SearchResponse {
        let s = settings
        return try await client().searchEmbeddingAsync(embedding: embedding, category: category,
                                                       k: UInt32(s.resultsPerSearch), filters: s.filters)
    }

    /// Reports an event of a sheet shown elsewhere (the live viewfinder's); it joins `events`.
    public func reportEvent(_ kind: EventType, _ hit: SearchHit, queryId: String?, position: Int?) {
        report(kind, hit, queryId, position)
    }

    // ------------------------------------------------------------------ internals

    private func search(_ p: PhotoState, _ target: Target) async throws -> SearchResponse {
        let s = settings
        let k = UInt32(s.resultsPerSearch)
        let c = try client()
        switch target {
        case .detected(let item) where item.embedding != nil:
            return try await c.searchAsync(item: item, model: p.analysis.embedder, k: k, filters: s.filters)
        case .detected(let item):
            let e = try await engine().embedRegionAsync(photo: p.photo, region: item.bbox)
            return try await c.searchEmbeddingAsync(embedding: e, category: item.category, k: k, filters: s.filters)
        case .drawn(let region):
            let e = try await engine().embedRegionAsync(photo: p.photo, region: region)
            return try await c.searchEmbeddingAsync(embedding: e, category: nil, k: k, filters: s.filters)
        case .tracked(let item):
            let e = try await engine().embedRegionAsync(photo: p.photo, region: item.bbox)
            return try await c.searchEmbeddingAsync(embedding: e, category: item.category, k: k, filters: s.filters)
        }
    }

    private func client() throws -> CatalogueClient {
        try lock.sync {
            if let c = cachedClient { return c }
            let c = try clientFor(_settings)
            cachedClient = c
            return c
        }
    }

    /// The search `hit` is shown from and its 1-based position there (nils if it is not showing).
    private func shown(_ hit: SearchHit) -> (String?, Int?) {
        guard let sheet = state.photoState?.sheet, case .products(_, let r) = sheet,
              let row = sheet.rows.first(where: { $0.hit.id == hit.id }) else { return (nil, nil) }
        return (r.queryId, row.position)
    }

    private func report(_ kind: EventType, _ hit: SearchHit, _ queryId: String?, _ position: Int?) {
        let t = Task { [weak self] in
            guard let self else { return }
            var failure: UiMessage? = nil
            do {
                try await self.client().reportEventAsync(kind: kind, productId: hit.id, queryId: queryId,
                                                         position: position.map { UInt32($0) })
            } catch {
                failure = Messages.forError(error)
            }
            let sent = SentEvent(kind: kind, productId: hit.id, queryId: queryId, error: failure, position: position)
            self.lock.sync { self._events.append(sent) }
        }
        lock.sync { eventTasks.append(t) }
    }

    /// A user action: cancels the work in flight and shows `next`. Returns the new generation.
    @discardableResult
    private func begin(_ next: Screen) -> Int {
        let (gen, old) = lock.sync { () -> (Int, Task<Void, Never>?) in
            let old = task
            task = nil
            generation += 1
            _state = next
            return (generation, old)
        }
        old?.cancel()
        onChange?(next)
        return gen
    }

    private func setTask(_ gen: Int, _ t: Task<Void, Never>) {
        let stale = lock.sync { () -> Bool in
            if gen == generation { task = t; return false }
            return true
        }
        if stale { t.cancel() }
    }

    /// Shows the result of the work started at `gen`, unless a later action superseded it.
    @discardableResult
    private func commit(_ gen: Int, _ next: (Screen) -> Screen) -> Bool {
        let shown: Screen? = lock.sync {
            guard gen == generation else { return nil }
            _state = next(_state)
            return _state
        }
        if let shown { onChange?(shown) }
        return shown != nil
    }
}

extension NSLock {
    /// `withLock` without its iOS 16 / macOS 13 availability.
    func sync<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}

/// The app's HTTP stack for the catalogue client: URLSession on Apple platforms (the phone
/// library has no HTTP client of its own). On Linux, where the host tests run, the library's
/// built-in client: swift-corelibs-foundation's URLSession traps on the catalogue's 401 answers
/// there (bindings/README.md, "Networking").
public func demoTransport() -> HttpTransport? {
    #if canImport(FoundationNetworking)
    return nil
    #else
    return URLSessionTransport()
    #endif
}
