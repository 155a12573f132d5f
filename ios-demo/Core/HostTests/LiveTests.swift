// Host tests of the iOS demo's live viewfinder (Core/Sources/ShopLookDemoCore/LiveViewfinder.swift,
// LiveGeometry.swift) with the real library, real video frames delivered as a camera does, and the
// real catalogue server. Mirrors android-demo/host-tests/LiveViewfinderTest.kt and LiveFlowTest.kt.
//
// Frames: vtest.avi's first frames (768x576, pedestrians), decoded by scripts/test-bindings.sh with
// fetch-video.sh's ffmpeg into one raw RGB24 file ($SHOPLOOK_VIDEO_RGB24; Foundation on Linux has
// no JPEG decoder). Each is stored the way a sensor delivers it: turned a quarter turn
// counter-clockwise (576 wide, 768 tall), rotationDegrees 90, as NV12 (full or video range), I420
// or BGRA with padded rows.
import Foundation

enum LiveLayout: CaseIterable { case nv12, nv12Video, i420, bgra }

final class LiveFrames: @unchecked Sendable {
    static let width = 768, height = 576, frameMs = 100.0, pad = 40
    let data: Data
    let count: Int
    private let lock = NSLock()

    init?(path: String?) {
        guard let path, let d = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) else { return nil }
        let size = LiveFrames.width * LiveFrames.height * 3
        guard d.count >= size, d.count % size == 0 else { return nil }
        data = d
        count = d.count / size
    }

    /// The upright RGB bytes of frame `i`.
    func scene(_ i: Int) -> [UInt8] {
        let size = LiveFrames.width * LiveFrames.height * 3
        return [UInt8](data[(i * size)..<((i + 1) * size)])
    }

    /// The camera frame of scene `i` in `layout`; `onPixels` counts the copies asked for.
    func frame(_ i: Int, _ layout: LiveLayout, onPixels: @escaping () -> Void = {}) -> CameraFrame {
        CameraFrame(width: LiveFrames.height, height: LiveFrames.width, rotationDegrees: 90,
                    timestampMs: Double(i) * LiveFrames.frameMs) { [self] in
            onPixels()
            return sensorPixels(i, layout)
        }
    }

    func sensorPixels(_ i: Int, _ layout: LiveLayout) -> FramePixels {
        let sw = LiveFrames.width, bw = LiveFrames.height, bh = LiveFrames.width, pad = LiveFrames.pad
        let rgb = scene(i)
        return rgb.withUnsafeBufferPointer { src -> FramePixels in
            // Buffer pixel (bx, by) shows scene pixel (x, y) = (sw - 1 - by, bx).
            @inline(__always) func at(_ bx: Int, _ by: Int) -> Int { 3 * (bx * sw + (sw - 1 - by)) }
            if layout == .bgra {
                let stride = bw * 4 + pad
                var out = [UInt8](repeating: 0, count: stride * bh)
                out.withUnsafeMutableBufferPointer { o in
                    for by in 0..<bh {
                        for bx in 0..<bw {
                            let s = at(bx, by), d = by * stride + bx * 4
                            o[d] = src[s + 2]; o[d + 1] = src[s + 1]; o[d + 2] = src[s]; o[d + 3] = 255
                        }
                    }
                }
                return .rgba(data: Data(out), rowStride: stride, bgra: true)
            }
            // BT.601, full range (420f) or video range (420v: Y 16-235, chroma 16-240).
            let video = layout == .nv12Video
            let ys = bw + pad, cw = bw / 2, ch = bh / 2
            var y = [UInt8](repeating: 0, count: ys * bh)
            var us = [Int](repeating: 0, count: cw * ch), vs = [Int](repeating: 0, count: cw * ch)
            func clamp(_ v: Double) -> Int { min(255, max(0, Int(v.rounded()))) }
            y.withUnsafeMutableBufferPointer { yo in
                us.withUnsafeMutableBufferPointer { uo in
                    vs.withUnsafeMutableBufferPointer { vo in
                        for by in 0..<bh {
                            for bx in 0..<bw {
                                let s = at(bx, by)
                                let r = Double(src[s]), g = Double(src[s + 1]), b = Double(src[s + 2])
                                let yy = 0.299 * r + 0.587 * g + 0.114 * b
                                let u = -0.168736 * r - 0.331264 * g + 0.5 * b, v = 0.5 * r - 0.418688 * g - 0.081312 * b
                                yo[by * ys + bx] = UInt8(clamp(video ? 16 + yy * 219 / 255 : yy))
                                let c = (by / 2) * cw + bx / 2
                                uo[c] += clamp(128 + (video ? u * 224 / 255 : u))
                                vo[c] += clamp(128 + (video ? v * 224 / 255 : v))
                            }
                        }
                    }
                }
            }
            if layout == .i420 {
                let cs = cw + pad / 2
                var up = [UInt8](repeating: 0, count: cs * ch), vp = up
                for cy in 0..<ch {
                    for cx in 0..<cw {
                        up[cy * cs + cx] = UInt8((us[cy * cw + cx] + 2) / 4); vp[cy * cs + cx] = UInt8((vs[cy * cw + cx] + 2) / 4)
                    }
                }
                return .yuv420(y: Data(y), yRowStride: ys, u: Data(up), v: Data(vp), uvRowStride: cs, uvPixelStride: 1, fullRange: true)
            }
            let cs = 2 * cw + pad
            var uv = [UInt8](repeating: 0, count: cs * ch)
            for cy in 0..<ch {
                for cx in 0..<cw {
                    uv[cy * cs + 2 * cx] = UInt8((us[cy * cw + cx] + 2) / 4); uv[cy * cs + 2 * cx + 1] = UInt8((vs[cy * cw + cx] + 2) / 4)
                }
            }
            return .semiPlanar(y: Data(y), yRowStride: ys, uv: Data(uv), uvRowStride: cs, vFirst: false, fullRange: !video)
        }
    }

    /// Upright RGBA without padding (the reference run, rotation 0).
    func uprightRgba(_ i: Int) -> Data {
        let rgb = scene(i)
        var out = [UInt8](repeating: 255, count: LiveFrames.width * LiveFrames.height * 4)
        for p in 0..<(LiveFrames.width * LiveFrames.height) {
            out[4 * p] = rgb[3 * p]; out[4 * p + 1] = rgb[3 * p + 1]; out[4 * p + 2] = rgb[3 * p + 2]
        }
        return Data(out)
    }
}

func iou(_ a: Rect, _ b: Rect) -> Float {
    let l = max(a.x, b.x), t = max(a.y, b.y), r = min(a.x + a.width, b.x + b.width), bo = min(a.y + a.height, b.y + b.height)
    let inter = max(0, r - l) * max(0, bo - t)
    let union = a.width * a.height + b.width * b.height - inter
    return union <= 0 ? 0 : inter / union
}

/// A lookup that must not be reached (tests that never tap).
final class NoLookup: ProductLookup {
    func searchEmbedding(_ embedding: Embedding, category: String?) async throws -> SearchResponse {
        throw TestFailure(description: "no search expected")
    }
    func reportEvent(_ kind: EventType, _ hit: SearchHit, queryId: String?, position: Int?) {}
}

func waitLive(_ what: String, timeout: Double = 60, line: UInt = #line, _ pred: () -> Bool) async throws {
    let end = Date().addingTimeInterval(timeout)
    while !pred() {
        if Date() > end { throw TestFailure(description: "line \(line): timed out waiting for \(what)") }
        try await Task.sleep(nanoseconds: 2_000_000)
    }
}

/// Offers `f` and waits until it is processed; returns whether it was taken.
func feed(_ v: LiveViewfinder, _ f: CameraFrame) async throws -> Bool {
    let taken = v.offer(f)
    try await waitLive("frame processed") { !v.busy }
    return taken
}

/// `feed`, failing the test when the frame was dropped.
func fed(_ v: LiveViewfinder, _ f: CameraFrame, _ what: String = "frame dropped", line: UInt = #line) async throws {
    let taken = try await feed(v, f)
    try check(taken, what, line: line)
}

func ready(_ v: LiveViewfinder) async throws {
    v.prepare()
    try await waitLive("tracker") { v.isReady }
}

func trackedItem(_ id: UInt64, _ x: Float, _ y: Float, _ w: Float, _ h: Float, _ label: String = "Person") -> TrackedItem {
    TrackedItem(trackId: id, label: label, category: "outfit", score: 0.8, bbox: Rect(x: x, y: y, width: w, height: h),
                detected: true, hits: 3, embedding: nil, detector: "ssd-mbv2-oidv4")
}

func registerLiveTests() {
    test("liveBoxesMapToThePreviewUnderRotationFillAndMirroring") {
        let f = CameraFrame(width: 768, height: 576, rotationDegrees: 90, timestampMs: 0) { throw TestFailure(description: "no pixels") }
        try check(f.displayWidth == 576 && f.displayHeight == 768)
        try check(CameraFrame(width: 768, height: 576, rotationDegrees: 180, timestampMs: 0) { .rgba(data: Data(), rowStride: 0, bgra: true) }.displayWidth == 768)
        try check(CameraFrame(width: 768, height: 576, rotationDegrees: -90, timestampMs: 0) { .rgba(data: Data(), rowStride: 0, bgra: true) }.displayWidth == 576)
        // 768x576 in a landscape 2340x1080 preview, aspect fill: factor 3.046875, 337.5 pt cropped top and bottom.
        let land = ViewfinderMapper(frameWidth: 768, frameHeight: 576, viewWidth: 2340, viewHeight: 1080)!
        try near(3.046875, land.mapper.factor, 1e-6); try near(0, land.mapper.offsetX); try near(-337.5, land.mapper.offsetY)
        let b = land.toView(Box(left: 100, top: 200, right: 150, bottom: 300))
        try near(304.6875, b.left); try near(271.875, b.top); try near(457.03125, b.right); try near(576.5625, b.bottom)
        let mir = ViewfinderMapper(frameWidth: 768, frameHeight: 576, viewWidth: 2340, viewHeight: 1080, mirrored: true)!
        let m = mir.toView(Box(left: 100, top: 200, right: 150, bottom: 300))
        try near(2340 - 457.03125, m.left); try near(2340 - 304.6875, m.right); try near(271.875, m.top)
        let (fx, fy) = mir.toFrame(m.left, m.top)
        try near(150, fx, 1e-3); try near(200, fy, 1e-3)
        // Portrait: 576x768 (after rotation 90) in 1080x2340: 337.5 pt cropped left and right.
        let port = ViewfinderMapper(frameWidth: 576, frameHeight: 768, viewWidth: 1080, viewHeight: 2340)!
        try near(-337.5, port.mapper.offsetX); try near(0, port.mapper.offsetY)
        let caps = TrackCaptions()
        let items = [trackedItem(7, 300, 300, 40, 100), trackedItem(9, 0, 300, 120, 100),
                     trackedItem(12, 90, 300, 60, 100), trackedItem(15, 400, 400, 30, 30, "Footwear")]
        let boxes = layoutTracked(items, port, caps)
        try check(boxes.map { $0.trackId! } == [7, 12, 15], "\(boxes.map(\.trackId))")
        try near(0, boxes[1].rect.left); try near(150 * 3.046875 - 337.5, boxes[1].rect.right, 1e-3)
        try check(boxes.map(\.caption) == ["Person 1", "Person 2", "Footwear 1"], "\(boxes.map(\.caption))")
        try check(layoutTracked([items[3], items[2]], port, caps).map(\.caption) == ["Footwear 1", "Person 2"])
        try check(caps.caption(of: items[1]) == "Person 3")
    }

    let path = env["SHOPLOOK_VIDEO_RGB24"]
    guard let frames = LiveFrames(path: path) else {
        let msg = "video frames not found (SHOPLOOK_VIDEO_RGB24=\(path ?? "unset"); scripts/test-bindings.sh decodes them)"
        if env["CI"] != nil { test("liveVideoFramesArePresent") { throw TestFailure(description: msg) } }
        print("skip live video tests: \(msg)")
        return
    }
    func viewfinder(_ options: TrackerOptions = TrackerOptions(), lookup: ProductLookup) -> LiveViewfinder {
        LiveViewfinder(tracker: { try Tracker(shoplook: shop, options: options) }, lookup: lookup)
    }

    test("liveWalkingPeopleKeepTheirIdsAndBoxesLandWhereThePreviewShowsThem") {
        let none = NoLookup()
        let v = viewfinder(lookup: none)
        v.setView(width: 2340, height: 1080)
        try await ready(v)
        let reference = try Tracker(shoplook: shop, options: TrackerOptions())
        let n = min(60, frames.count)
        var seen: [UInt64: [(Int, TrackedItem)]] = [:]
        var captionOf: [UInt64: String] = [:]
        var matched = 0, compared = 0, pixelCalls = 0
        for i in 0..<n {
            try await fed(v, frames.frame(i, .nv12) { pixelCalls += 1 }, "frame \(i) dropped")
            guard case .running(let f, let notice) = v.state else { throw TestFailure(description: "not running: \(v.state)") }
            try check(notice == nil, "\(String(describing: notice))")
            try check(f.frameWidth == 768 && f.frameHeight == 576 && f.timestampMs == Double(i) * 100)
            var expected: [UInt64: Box] = [:]
            for t in f.items {
                let r = t.bbox
                try check(r.x >= 0 && r.y >= 0 && r.x + r.width <= 768.01 && r.y + r.height <= 576.01, "\(t)")
                let l = r.x * 3.046875, rr = (r.x + r.width) * 3.046875
                let top = r.y * 3.046875 - 337.5, bot = (r.y + r.height) * 3.046875 - 337.5
                let vis = (min(rr, 2340) - max(l, 0)) * (min(bot, 1080) - max(top, 0))
                if min(bot, 1080) > max(top, 0), vis / ((rr - l) * (bot - top)) >= 0.5 {
                    expected[t.trackId] = Box(left: max(l, 0), top: max(top, 0), right: min(rr, 2340), bottom: min(bot, 1080))
                }
            }
            try check(Set(expected.keys) == Set(f.boxes.map { $0.trackId! }), "frame \(i): boxes on screen")
            for b in f.boxes {
                let e = expected[b.trackId!]!
                try near(e.left, b.rect.left, 0.05); try near(e.top, b.rect.top, 0.05)
                try near(e.right, b.rect.right, 0.05); try near(e.bottom, b.rect.bottom, 0.05)
                if captionOf[b.trackId!] == nil { captionOf[b.trackId!] = b.caption }
                try check(captionOf[b.trackId!] == b.caption, "caption of #\(b.trackId!)")
            }
            for t in f.items { seen[t.trackId, default: []].append((i, t)) }
            // The rotated NV12 buffer gives the boxes of the upright RGBA frame (reference: rotation 0).
            let ts = Double(i) * LiveFrames.frameMs
            let ref = reference.needsPixels(timestampMs: ts)
                ? try reference.pushRgba(width: 768, height: 576, data: frames.uprightRgba(i), rowStride: 768 * 4, bgra: false, rotationDegrees: 0, timestampMs: ts)
                : try reference.carry(timestampMs: ts)
            for t in f.items {
                compared += 1
                if ref.contains(where: { iou($0.bbox, t.bbox) >= 0.7 }) { matched += 1 }
            }
        }
        print("live: rotated NV12 boxes matching the upright RGBA run: \(matched)/\(compared); pixels copied on \(pixelCalls) of \(n) frames")
        try check(compared > 60 && matched * 10 >= compared * 8, "\(matched)/\(compared)")
        try check(Set(captionOf.values).count == captionOf.count, "two tracks shared a caption")
        try check(pixelCalls == (n + 2) / 3 && v.counters.withPixels == pixelCalls, "pixels copied \(pixelCalls) times")
        func moved(_ p: [(Int, TrackedItem)]) -> Float {
            let a = p.first!.1.bbox, b = p.last!.1.bbox
            let dx = (b.x + b.width / 2) - (a.x + a.width / 2), dy = (b.y + b.height / 2) - (a.y + a.height / 2)
            return (dx * dx + dy * dy).squareRoot()
        }
        // Walking people: Person tracks followed through 30+ frames that moved 40+ px (the stone and the
        // cone the detector calls Person stand still), one id each, never jumping to someone else.
        let walkers = seen.filter { $0.value.first!.1.label == "Person" && $0.value.count >= 30 && moved($0.value) >= 40 }
        for (id, p) in walkers { print("live: #\(id) '\(captionOf[id] ?? "-")' on \(p.count) frames, moved \(Int(moved(p))) px") }
        try check(walkers.count >= 2, "walking people followed: \(walkers.keys)")
        try check(walkers.values.contains { $0.count >= 35 && moved($0) >= 200 }, "nobody followed across the square")
        for (id, p) in walkers {
            for k in 1..<p.count where p[k].0 == p[k - 1].0 + 1 {
                try check(iou(p[k - 1].1.bbox, p[k].1.bbox) >= 0.3, "#\(id) jumped at frame \(p[k].0)")
            }
        }
    }

    test("liveFramesArrivingWhileOneIsInFlightAreDropped") {
        let none = NoLookup()
        let v = viewfinder(lookup: none)
        v.setView(width: 1080, height: 2340)
        try await ready(v)
        let offered = min(30, frames.count)
        let pix = (0..<offered).map { frames.sensorPixels($0, .bgra) }   // converted up front: time the tracker
        var pixelCalls = 0, taken = 0
        let before = v.counters
        let t0 = Date()
        for i in 0..<offered {
            let f = CameraFrame(width: 576, height: 768, rotationDegrees: 90, timestampMs: Double(i) * 100) { pixelCalls += 1; return pix[i] }
            if v.offer(f) { taken += 1 }
            let next = t0.addingTimeInterval(Double(i + 1) * 0.033)
            let wait = next.timeIntervalSinceNow
            if wait > 0 { try await Task.sleep(nanoseconds: UInt64(wait * 1e9)) }
        }
        try await waitLive("idle") { !v.busy }
        let c = v.counters
        print("live: 30 fps for \(offered) frames: taken \(taken), dropped \(c.dropped - before.dropped), with pixels \(c.withPixels), max in flight \(v.maxConcurrent)")
        try check(c.offered - before.offered == offered && c.processed - before.processed == taken)
        try check(c.dropped - before.dropped == offered - taken)
        try check(offered - taken >= 3, "no frame dropped while detections ran: queued")
        try check(taken >= 5, "only \(taken) taken")
        try check(v.maxConcurrent == 1, "\(v.maxConcurrent) frames at once")
        try check(pixelCalls == c.withPixels && pixelCalls < taken, "pixels copied \(pixelCalls) times for \(taken) frames")
        try check(c.errors == 0)
    }

    test("liveEveryCameraLayoutGivesTheSameBoxes") {
        let none = NoLookup()
        var boxes: [LiveLayout: [Rect]] = [:]
        for layout in LiveLayout.allCases {
            let v = viewfinder(lookup: none)
            v.setView(width: 2340, height: 1080)
            try await ready(v)
            for i in 0..<9 { try await fed(v, frames.frame(i, layout), "\(layout) frame \(i)") }
            guard case .running(let f, .none) = v.state, f.frameWidth == 768 else { throw TestFailure(description: "\(layout): \(v.state)") }
            boxes[layout] = f.items.map(\.bbox)
        }
        let base = boxes[.nv12]!
        try check(base.count >= 3, "\(base)")
        for (layout, b) in boxes {
            let found = base.filter { x in b.contains { iou($0, x) >= 0.8 } }.count
            print("live: \(layout) \(b.count) boxes, \(found) of NV12's \(base.count) found")
            try check(found == base.count && abs(b.count - base.count) <= 1, "\(layout): \(b) vs \(base)")
        }
    }

    test("liveABadFrameShowsANoticeAndTheViewfinderKeepsGoing") {
        let none = NoLookup()
        let v = viewfinder(TrackerOptions(everyNthFrame: 1), lookup: none)
        v.setView(width: 2340, height: 1080)
        try await ready(v)
        for i in 0..<4 { _ = try await feed(v, frames.frame(i, .nv12)) }
        guard case .running(let good, .none) = v.state, !good.items.isEmpty else { throw TestFailure(description: "\(v.state)") }
        let short = CameraFrame(width: 576, height: 768, rotationDegrees: 90, timestampMs: 400) {
            guard case .semiPlanar(let y, let ys, let uv, let uvs, _, _) = frames.sensorPixels(4, .nv12) else { throw TestFailure(description: "layout") }
            return .semiPlanar(y: y.prefix(1000), yRowStride: ys, uv: uv, uvRowStride: uvs, vFirst: false, fullRange: true)
        }
        try await fed(v, short)
        guard case .running(let bad, let notice) = v.state else { throw TestFailure(description: "\(v.state)") }
        try check(notice?.kind == .camera && bad.items == good.items, "\(String(describing: notice))")
        try check(!v.offer(CameraFrame(width: 576, height: 768, rotationDegrees: 90, timestampMs: 500) {
            throw TestFailure(description: "the buffer was already released")
        }))
        try check(v.state.notice?.kind == .camera && v.counters.errors == 2)
        for i in 5..<8 { try await fed(v, frames.frame(i, .nv12)) }
        guard case .running(let after, .none) = v.state else { throw TestFailure(description: "\(v.state)") }
        try check(!after.items.isEmpty && after.timestampMs == 700)
    }

    guard let url = env["SHOPLOOK_CATALOGUE_URL"], let key = env["SHOPLOOK_CATALOGUE_KEY"] else {
        print("skip live flow tests: SHOPLOOK_CATALOGUE_URL is not set (no catalogue server)")
        return
    }
    let offline = env["SHOPLOOK_CATALOGUE_OFFLINE_URL"] ?? "http://127.0.0.1:9"
    let good = DemoSettings(catalogueURL: url, apiKey: key, resultsPerSearch: 4)

    func live(_ demo: DemoController, frames count: Int = 12) async throws -> LiveViewfinder {
        let v = viewfinder(lookup: demo)
        v.setView(width: 2340, height: 1080)
        try await ready(v)
        for i in 0..<count { try await fed(v, frames.frame(i, .nv12)) }
        return v
    }
    func sheet(_ v: LiveViewfinder) async throws -> Sheet {
        try await waitLive("sheet", timeout: 30) { if let s = v.state.sheet, case .loading = s { return false }; return v.state.sheet != nil }
        return v.state.sheet!
    }
    func person(_ v: LiveViewfinder) throws -> ScreenBox {
        guard case .running(let f, _) = v.state, let b = f.boxes.filter({ $0.target.label == "Person" }).max(by: { $0.rect.area < $1.rect.area })
        else { throw TestFailure(description: "no person on screen: \(v.state)") }
        return b
    }

    test("liveTapOnAPersonFreezesAndFindsOutfits") {
        let demo = DemoController(engine: { shop }, settings: good)
        let v = try await live(demo)
        guard case .running(let f, _) = v.state else { throw TestFailure(description: "\(v.state)") }
        let box = try person(v)
        try check(v.tap(box.rect.centerX, box.rect.centerY)?.trackId == box.trackId)
        guard case .frozen(let ff, let sel, .loading) = v.state else { throw TestFailure(description: "\(v.state)") }
        try check(sel.trackId == box.trackId && ff.items == f.items && ff.timestampMs == f.timestampMs)
        let processed = v.counters.processed
        for i in 12..<15 { try check(!v.offer(frames.frame(i, .nv12)), "frame \(i) taken while frozen") }
        try check(v.counters.processed == processed)
        guard case .products(let target, let response) = try await sheet(v) else { throw TestFailure(description: "\(v.state)") }
        try check(target == box.target && (1...4).contains(response.results.count))
        try check(response.results.allSatisfy { $0.category == "outfit" && $0.url.hasPrefix("https://example.com/demo/products/") },
                  "\(response.results.map(\.category))")
        // The sheet shows before its impressions are reported: the search task reports them last.
        await v.awaitSearch()
        await demo.awaitEvents()
        let top = response.results[0]
        v.openProduct(top)
        try check(v.buy(top) == top.url)
        await demo.awaitEvents()
        let ev = demo.events
        try check(ev.allSatisfy { $0.accepted && $0.queryId == response.queryId }, "\(ev)")
        try check(ev.filter { $0.kind == .impression }.map(\.productId).sorted() == response.results.map(\.id).sorted())
        try check(ev.filter { $0.kind != .impression }.map { "\($0.kind) \($0.productId)@\($0.position ?? 0)" }.sorted()
                  == ["click \(top.id)@1", "purchase \(top.id)@1"], "\(ev)")
        v.resume()
        try check(v.state == .starting)
        for i in 15..<24 { try await fed(v, frames.frame(i, .nv12), "frame \(i) dropped after resume") }
        guard case .running(let again, .none) = v.state, !again.boxes.isEmpty, again.timestampMs == 2300 else { throw TestFailure(description: "\(v.state)") }
    }

    test("liveATapOutsideEveryBoxDoesNothing") {
        let demo = DemoController(engine: { shop }, settings: good)
        let v = try await live(demo)
        guard case .running(let f, _) = v.state, !f.boxes.isEmpty else { throw TestFailure(description: "\(v.state)") }
        var far: (Float, Float)? = nil
        outer: for x in stride(from: Float(0), to: 2340, by: 20) {
            for y in stride(from: Float(0), to: 1080, by: 20) where f.boxes.allSatisfy({ $0.rect.distance(to: x, y) > 100 }) {
                far = (x, y); break outer
            }
        }
        let (fx, fy) = far!
        let before = v.state
        try check(v.tap(fx, fy) == nil && v.state == before, "nothing changed")
        try await fed(v, frames.frame(12, .nv12), "still live")
        let b = try person(v)
        try check(v.tap(b.rect.right + 10, b.rect.centerY)?.trackId == b.trackId, "slop")
        guard case .frozen = v.state else { throw TestFailure(description: "\(v.state)") }
    }

    test("liveCatalogueDownIsAMessageAndTheViewfinderResumes") {
        let demo = DemoController(engine: { shop }, settings: DemoSettings(catalogueURL: offline, apiKey: key, resultsPerSearch: 4))
        let v = try await live(demo)
        let box = try person(v)
        try check(v.tap(box.rect.centerX, box.rect.centerY) != nil)
        guard case .failed(_, let msg) = try await sheet(v) else { throw TestFailure(description: "\(v.state)") }
        try check(msg.kind == .offline && msg.title == "You're offline" && msg.retryable)
        v.retry()
        guard case .failed(_, let again) = try await sheet(v), again.kind == .offline else { throw TestFailure(description: "\(v.state)") }
        demo.updateSettings(good)
        v.retry()
        guard case .products = try await sheet(v) else { throw TestFailure(description: "\(v.state)") }
        (v as SheetDriver).dismissSheet()   // the sheet swiped away, as for photos
        try check(v.state == .starting)
        for i in 12..<21 { try await fed(v, frames.frame(i, .nv12)) }
        guard case .running(let f, .none) = v.state, !f.boxes.isEmpty else { throw TestFailure(description: "\(v.state)") }
    }
}
