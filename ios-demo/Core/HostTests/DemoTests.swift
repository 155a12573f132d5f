// Host tests of the iOS demo's shared logic (ios-demo/Core/Sources/ShopLookDemoCore) against the real
// library, real photos and the real catalogue server started by scripts/test-bindings.sh.
// Compiled into the bindings' host-test binary (bindings/swift/HostTests/main.swift calls
// registerDemoTests() when built with -D SHOPLOOK_DEMO_TESTS), so one `swift: N passed, N failed`
// line covers both; `TestCampaigns` (the sponsored campaign) is main.swift's. Mirrors
// android-demo/host-tests.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking   // URLSession on Linux
#endif

/// GET `url` with `bearer` as the API key and return the body as text (the catalogue's
/// /metrics, which takes an admin key).
func httpGet(_ url: URL, bearer: String) async throws -> String {
    var request = URLRequest(url: url)
    request.setValue("Bearer \(bearer)", forHTTPHeaderField: "Authorization")
    return try await withCheckedThrowingContinuation { cont in
        URLSession.shared.dataTask(with: request) { data, _, error in
            if let error { cont.resume(throwing: error) } else { cont.resume(returning: String(decoding: data ?? Data(), as: UTF8.self)) }
        }.resume()
    }
}

/// `jpeg` with an EXIF APP1 segment carrying `orientation`, inserted after SOI (as cameras write it).
func withExifOrientation(_ jpeg: Data, _ orientation: UInt8) -> Data {
    let tiff: [UInt8] = [0x4D, 0x4D, 0, 0x2A, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0, 0, 0, 0, 0]
    let app1: [UInt8] = Array("Exif".utf8) + [0, 0] + tiff
    let len = app1.count + 2
    return jpeg.prefix(2) + Data([0xFF, 0xE1, UInt8(len >> 8), UInt8(len & 0xFF)] + app1) + jpeg.dropFirst(2)
}

func near(_ expected: Float, _ actual: Float, _ eps: Float = 0.01, _ what: String = "", line: UInt = #line) throws {
    try check(abs(expected - actual) <= eps, "\(what): expected \(expected), got \(actual)", line: line)
}

/// Polls the controller until `pred` holds (the controller has no Combine on Linux).
@discardableResult
func waitFor(_ c: DemoController, _ what: String, timeout: Double = 30, line: UInt = #line,
             _ pred: (Screen) -> Bool) async throws -> Screen {
    let end = Date().addingTimeInterval(timeout)
    while Date() < end {
        let s = c.state
        if pred(s) { return s }
        try await Task.sleep(nanoseconds: 20_000_000)
    }
    throw TestFailure(description: "line \(line): timed out waiting for \(what); state \(c.state)")
}

func waitForPhoto(_ c: DemoController, line: UInt = #line) async throws -> PhotoState {
    try await waitFor(c, "photo", line: line) { $0.photoState != nil }.photoState!
}

func waitForSheet(_ c: DemoController, line: UInt = #line) async throws -> Sheet {
    try await waitFor(c, "sheet", line: line) { s in
        guard let sheet = s.photoState?.sheet else { return false }
        if case .loading = sheet { return false }
        return true
    }.photoState!.sheet!
}

func registerDemoTests() {
    registerLiveTests()   // the live viewfinder (LiveTests.swift)
    let demoBus = bus
    let busAnalysis = try! shop.analyze(photo: demoBus)

    test("demoFitLetterboxesInPortraitAndLandscapeViews") {
        let a = busAnalysis
        let shoe = a.items.first { $0.category == "shoes" }!.bbox
        let land = BoxMapper(analysis: a, viewWidth: 1920, viewHeight: 1080)!
        try near(1, land.factor); try near(555, land.offsetX); try near(0, land.offsetY)
        try near(555 + shoe.x, land.toView(shoe).left, 0.01, "left")
        let port = BoxMapper(analysis: a, viewWidth: 1080, viewHeight: 2340)!
        try near(4.0 / 3.0, port.factor, 1e-5); try near(450, port.offsetY)
        try near(450 + (shoe.y + shoe.height) * 4 / 3, port.toView(shoe).bottom, 0.05, "bottom")
        for m in [land, port, BoxMapper(analysis: a, viewWidth: 300, viewHeight: 300)!] {
            for item in a.items {
                let v = m.toView(item.bbox), photo = m.photoInView.inflated(0.01)
                try check(photo.contains(v.left, v.top) && photo.contains(v.right, v.bottom), "\(v) outside \(photo)")
                try near(item.bbox.x, m.toPhoto(v).left, 0.01, "round trip")
            }
        }
        try check(BoxMapper(photoWidth: 0, photoHeight: 10, viewWidth: 10, viewHeight: 10) == nil)
    }

    test("demoFillCropsAndLeavesOutHiddenBoxes") {
        let a = busAnalysis
        let m = BoxMapper(analysis: a, viewWidth: 2000, viewHeight: 600, scale: .fill)!
        let boxes = layoutBoxes(a.items.map { .detected($0) }, m, minVisible: 0.3)
        func category(_ b: ScreenBox) -> String { if case .detected(let i) = b.target { return i.category }; return "-" }
        try check(!boxes.isEmpty && boxes.allSatisfy { category($0) == "outfit" }, "\(boxes.map(category))")
        try check(boxes.allSatisfy { $0.rect.left >= 0 && $0.rect.top >= 0 && $0.rect.right <= 2000 && $0.rect.bottom <= 600 })
        let sq = BoxMapper(analysis: a, viewWidth: 1080, viewHeight: 1080, scale: .fill)!
        try near(-180, sq.offsetY)
        try check(layoutBoxes(a.items.map { .detected($0) }, sq).count == a.items.count)
    }

    test("demoHitTestSmallestBoxWinsAndSlop") {
        let a = busAnalysis
        let m = BoxMapper(analysis: a, viewWidth: 1080, viewHeight: 2340)!
        let boxes = layoutBoxes(a.items.map { .detected($0) }, m)
        let shoe = a.items[0]
        try check(shoe.category == "shoes")
        let sv = m.toView(shoe.bbox)
        let person = a.items.first { $0.category == "outfit" && Box($0.bbox).contains(Box(shoe.bbox).centerX, Box(shoe.bbox).centerY) }!
        try check(hitTest(boxes, sv.centerX, sv.centerY)?.target == .detected(shoe), "shoe inside person")
        let pv = m.toView(person.bbox)
        try check(hitTest(boxes, pv.centerX, pv.top + pv.height * 0.3)?.target == .detected(person))
        try check(hitTest(boxes, sv.right + 6, sv.centerY)?.target == .detected(person), "containment beats slop")
        try check(hitTest(boxes, 540, 100) == nil, "letterbox bar")
        let drawn = layoutBoxes([.drawn(Rect(x: 400, y: 100, width: 30, height: 30))], m)
        let r = drawn[0].rect
        try check(hitTest(drawn, r.right + 20, r.centerY, slop: 22) != nil)
        try check(hitTest(drawn, r.right + 30, r.centerY, slop: 22) == nil)
    }

    test("demoDrawnBoxIsNormalisedAndClamped") {
        let m = BoxMapper(analysis: busAnalysis, viewWidth: 1920, viewHeight: 1080)!
        let r = drawnRegion(m, 1500, 1200, 1000, 900)!
        try near(445, r.x); try near(900, r.y); try near(365, r.width); try near(180, r.height)
        try check(drawnRegion(m, 700, 500, 705, 503) == nil)
        try check(drawnRegion(m, 10, 10, 500, 1000) == nil)
    }

    test("demoExifOrientationIsAppliedToBoxes") {
        // bus.jpg tagged "mirrored horizontally" (2): the displayed photo is the mirror image, so the
        // first shoe shows up mirrored, and a tap there hits a shoe.
        let a = try await shop.analyzeAsync(photo: withExifOrientation(demoBus, 2))
        try check(a.width == 810 && a.height == 1080)
        let want = Box(busAnalysis.items[0].bbox)
        let mirroredX = 810 - want.centerX
        let shoes = a.items.filter { $0.category == "shoes" }
        let got = shoes.min { abs(Box($0.bbox).centerX - mirroredX) + abs(Box($0.bbox).centerY - want.centerY)
                              < abs(Box($1.bbox).centerX - mirroredX) + abs(Box($1.bbox).centerY - want.centerY) }!
        try near(mirroredX, Box(got.bbox).centerX, 15, "mirrored shoe x")
        try near(want.centerY, Box(got.bbox).centerY, 15, "shoe y")
        // Tagged "rotate 90 CW" (6): displayed as landscape 1080x810.
        let r = try await shop.analyzeAsync(photo: withExifOrientation(demoBus, 6))
        try check(r.width == 1080 && r.height == 810, "\(r.width)x\(r.height)")
        try check(r.items.allSatisfy { $0.bbox.x + $0.bbox.width <= 1080.5 && $0.bbox.y + $0.bbox.height <= 810.5 })
        let m = BoxMapper(analysis: a, viewWidth: 2340, viewHeight: 1080)!
        let v = m.toView(got.bbox)
        if case .detected(let hit)? = hitTest(layoutBoxes(a.items.map { .detected($0) }, m), v.centerX, v.centerY)?.target {
            try check(hit.category == "shoes")
        } else { try check(false, "no hit") }
    }

    test("demoSettingsAndFormat") {
        try check(DemoSettings().catalogueURL == "http://localhost:8787")
        try check(DemoSettings(apiKey: "slk_x").problem == nil)
        try check(DemoSettings().problem != nil)
        try check(DemoSettings(catalogueURL: "ftp://x", apiKey: "k").problem != nil)
        try check(DemoSettings(catalogueURL: " http://h:1/ ", apiKey: "k").normalized.catalogueURL == "http://h:1")
        try check(Format.price(89, "EUR") == "89.00 EUR", Format.price(89, "EUR"))
        try check(Format.imageURL("demo-shoe-1.jpg") == nil)
        // Product rows: the "Sponsored" label and the ranking explanation.
        func hit(_ similarity: Float, _ boost: Float, _ campaign: String? = nil) -> SearchHit {
            SearchHit(id: "p1", title: "Boot", brand: "Acme", price: 89, currency: "EUR", category: "shoes",
                      image: "boot.jpg", url: "https://example.com/p1", inStock: true, score: similarity + boost,
                      similarity: similarity, boost: boost, sponsored: campaign != nil, campaignId: campaign)
        }
        let organic = ProductRow(hit: hit(0.83, 0), position: 2)
        try check(organic.label == nil && organic.explanation == "similar 83%", organic.explanation)
        try check(ProductRow(hit: hit(0.83, 0.04), position: 1).explanation == "similar 83% · learned +4")
        try check(ProductRow(hit: hit(0.83, -0.03), position: 1).explanation == "similar 83% · learned \u{2212}3")
        try check(ProductRow(hit: hit(0.83, 0.004), position: 1).explanation == "similar 83%", "under half a point: not shown")
        let ad = ProductRow(hit: hit(0.7, 0, "cmp_0123456789abcdef"), position: 1)
        try check(ad.label == "Sponsored" && ad.explanation == "similar 70%", "\(ad)")
        try check(PhotoFormat.isSupported(demoBus))
        let png = try photo("photos/box.png")
        try check(PhotoFormat.isSupported(png))
        try check(!PhotoFormat.isSupported(Data("ftypheic".utf8)) && !PhotoFormat.isSupported(Data()))
    }

    test("demoErrorMessagesForRealErrors") {
        let bad = try await expectError("ftp url", { try CatalogueClient(baseUrl: "ftp://example.com", apiKey: "k") }) {
            if case ShopLookError.BadRequest = $0 { return true } else { return false }
        }
        try check(Messages.forError(bad).kind == .settings)
        let corrupt = try await expectError("truncated", { try shop.analyze(photo: demoBus.prefix(5000)) }) { $0 is ShopLookError }
        try check(Messages.forError(corrupt).kind == .badPhoto && Messages.forError(corrupt).needsNewPhoto)
        try check(Messages.forError(ShopLookError.RateLimited(retryAfterS: 3)).message.contains("3 s"))
        try check(Messages.forError(ShopLookError.Server(status: 503, detail: "x")).kind == .server)
        try check(Messages.forError(CancellationError()).kind == .appBug)
    }

    guard let url = env["SHOPLOOK_CATALOGUE_URL"], let key = env["SHOPLOOK_CATALOGUE_KEY"] else {
        print("skip demo flow tests: SHOPLOOK_CATALOGUE_URL is not set (no catalogue server)")
        return
    }
    let offline = env["SHOPLOOK_CATALOGUE_OFFLINE_URL"] ?? "http://127.0.0.1:9"
    let good = DemoSettings(catalogueURL: url, apiKey: key, resultsPerSearch: 4)
    func controller(_ s: DemoSettings = good) -> DemoController { DemoController(engine: { shop }, settings: s) }
    func tapItem(_ c: DemoController, _ p: PhotoState, _ index: Int) -> ScreenBox? {
        let m = BoxMapper(analysis: p.analysis, viewWidth: 1080, viewHeight: 2340)!
        let v = m.toView(p.analysis.items[index].bbox)
        return c.tap(layoutBoxes(p.targets, m), v.centerX, v.centerY)
    }
    func eventsStored() async throws -> Int {
        let text = try await httpGet(URL(string: "\(url)/metrics")!, bearer: env["SHOPLOOK_CATALOGUE_ADMIN_KEY"] ?? "")
        let line = text.split(separator: "\n").first { $0.hasPrefix("shoplook_events ") }!
        return Int(Double(line.split(separator: " ")[1])!)
    }

    test("demoSnapTapBuyOnBusReportsClickAndPurchase") {
        let c = controller()
        var changes = 0
        c.onChange = { _ in changes += 1 }
        let t0 = Date()
        c.analyze(demoBus)
        let callMs = Date().timeIntervalSince(t0) * 1000
        guard case .analyzing = c.state else { throw TestFailure(description: "not analyzing: \(c.state)") }
        try check(callMs < 50, "analyze() took \(callMs) ms on the caller's thread")
        let p = try await waitForPhoto(c)
        try check(p.notice == nil && p.targets.count >= 5)
        let i = p.analysis.items.firstIndex { $0.category == "shoes" }!
        let hit = tapItem(c, p, i)
        try check(hit?.target == .detected(p.analysis.items[i]))
        guard case .loading? = c.state.photoState?.sheet else { throw TestFailure(description: "no loading sheet") }
        guard case .products(_, let response) = try await waitForSheet(c) else { throw TestFailure(description: "no products: \(c.state)") }
        try check((1...4).contains(response.results.count))
        try check(response.results.allSatisfy { $0.category == "shoes" && $0.url.hasPrefix("https://example.com/demo/products/") && !$0.title.isEmpty && !$0.brand.isEmpty && $0.price > 0 })
        let before = try await eventsStored()
        await c.awaitEvents()
        let top = response.results[0]
        c.openProduct(top)
        try check(c.buy(top) == top.url)
        await c.awaitEvents()
        let ev = c.events
        try check(ev.allSatisfy { $0.accepted && $0.queryId == response.queryId }, "\(ev)")
        // Each impression with its 1-based position in the list, the click and the purchase with the top's.
        let impressions = ev.filter { $0.kind == .impression }.sorted { ($0.position ?? 0) < ($1.position ?? 0) }
        try check(impressions.map { "\($0.productId)@\($0.position ?? 0)" } == response.results.enumerated().map { "\($0.element.id)@\($0.offset + 1)" },
                  "\(impressions)")
        try check(ev.filter { $0.kind != .impression }.allSatisfy { $0.position == 1 }, "\(ev)")
        try check(ev.filter { $0.kind == .impression }.map(\.productId).sorted() == response.results.map(\.id).sorted())
        // Events are sent concurrently: compare without order.
        let others = ev.filter { $0.kind != .impression }.map { "\($0.kind) \($0.productId)" }.sorted()
        try check(others == ["click \(top.id)", "purchase \(top.id)"], "\(others)")
        let after = try await eventsStored()
        try check(after >= before + 2, "server stored the click and the purchase: \(before) -> \(after)")
        try check(changes >= 4, "onChange called \(changes) times")
        c.dismissSheet()
        try check(c.state.photoState?.sheet == nil)
    }

    test("demoSponsoredResultIsLabelledAndANewSessionSeesItAgain") {
        guard let campaigns = TestCampaigns.fromEnvironment else {
            throw TestFailure(description: "SHOPLOOK_CATALOGUE_ADVERTISER_KEY is not set")
        }
        let c = controller()
        try check(c.sessionId == nil, "no client before the first search")
        // A catalogue photo, searched as a box drawn around all of it: its shoe and the shoes like it.
        c.analyze(try photo("demo-catalogue/demo-shoe-1.jpg"))
        let p = try await waitForPhoto(c)
        let whole = Rect(x: 0, y: 0, width: Float(p.analysis.width), height: Float(p.analysis.height))
        c.addDrawnBox(whole)
        var searched = false
        func tapShoe() async throws -> Sheet {
            if searched {
                c.dismissSheet()
                c.select(.drawn(whole))
            }
            searched = true
            let sheet = try await waitForSheet(c)
            guard case .products = sheet else { throw TestFailure(description: "no products: \(sheet)") }
            return sheet
        }
        let organic = try await tapShoe()
        try check(organic.rows.allSatisfy { $0.label == nil && !$0.hit.sponsored }, "no live campaign yet")
        try check(organic.rows.map(\.position) == Array(1...organic.rows.count))
        // A product that looks like the query (above the catalogue's relevance floor), second if it can be.
        let similar = organic.rows.map(\.hit).filter { $0.inStock && $0.similarity >= 0.55 }
        guard let promoted = similar.count > 1 ? similar[1] : similar.first else {
            throw TestFailure(description: "nothing above the relevance floor: \(organic.rows.map { ($0.hit.id, $0.hit.similarity) })")
        }
        // One ad per app session.
        let campaign = try campaigns.create(productId: promoted.id, name: "ios demo test", frequencyCap: 1)
        do {
            let sheet = try await tapShoe()
            guard case .products(_, let response) = sheet, let ad = sheet.rows.first else { throw TestFailure(description: "\(sheet)") }
            try check(ad.label == ProductRow.sponsored && ad.hit.campaignId == campaign, "\(sheet.rows)")
            try check(ad.hit.id == promoted.id && ad.position == 1 && ad.explanation.hasPrefix("similar "), "\(ad)")
            try check(sheet.rows.dropFirst().allSatisfy { $0.label == nil }, "\(sheet.rows)")
            await c.awaitEvents()
            Thread.sleep(forTimeInterval: 1.1)  // a click within 1 s of its ad's serve is not billed (docs/security.md): a shopper looks first
            c.openProduct(ad.hit)
            await c.awaitEvents()
            let ev = c.events.filter { $0.queryId == response.queryId }
            let impressions = ev.filter { $0.kind == .impression }.sorted { ($0.position ?? 0) < ($1.position ?? 0) }
            try check(impressions.map { "\($0.productId)@\($0.position ?? 0)" } == sheet.rows.map { "\($0.hit.id)@\($0.position)" }, "\(impressions)")
            let clicks = ev.filter { $0.kind == .click }
            try check(clicks.count == 1 && clicks[0].productId == promoted.id && clicks[0].position == 1, "\(clicks)")
            try check(ev.allSatisfy(\.accepted), "\(ev)")
            let spent = try campaigns.spentToday(campaign)
            try check(spent > 0, "the ad's click was charged: \(spent)")

            // Same session: its one ad was shown. Back from the background: a new session sees it again.
            let session = c.sessionId
            try check(session != nil)
            let capped = try await tapShoe()
            try check(capped.rows.allSatisfy { $0.label == nil }, "\(capped.rows)")
            c.onForeground()
            try check(c.sessionId != nil && c.sessionId != session)
            let again = try await tapShoe()
            try check(again.rows.first?.label == ProductRow.sponsored, "\(again.rows)")
        } catch {
            try? campaigns.pause(campaign)
            throw error
        }
        try campaigns.pause(campaign)
    }

    test("demoDrawnBoxIsSearched") {
        let c = controller()
        c.analyze(demoBus)
        let p = try await waitForPhoto(c)
        c.setDrawing(true)
        try check(tapItem(c, c.state.photoState!, 0) == nil, "taps are ignored while drawing")
        let m = BoxMapper(analysis: p.analysis, viewWidth: 1080, viewHeight: 2340)!
        let v = m.toView(p.analysis.items.first { $0.category == "shoes" }!.bbox)
        let region = drawnRegion(m, v.right + 4, v.bottom + 4, v.left - 4, v.top - 4)!
        c.addDrawnBox(region)
        try check(c.state.photoState?.targets.last == .drawn(region) && c.state.photoState?.drawing == false)
        guard case .products(let target, let r) = try await waitForSheet(c) else { throw TestFailure(description: "\(c.state)") }
        try check(target == .drawn(region) && !r.results.isEmpty)
    }

    test("demoCancelDropsTheAnalysis") {
        let c = controller()
        c.analyze(demoBus)
        c.cancel()
        try check(c.state == .capture)
        try await Task.sleep(nanoseconds: 3_000_000_000)
        try check(c.state == .capture, "result of a cancelled analysis showed up: \(c.state)")
        c.analyze(try photo("photos/stuff.jpg"))
        c.analyze(demoBus)
        let p = try await waitForPhoto(c)
        try check(p.analysis.width == 810 && p.photo == demoBus)
    }

    test("demoOfflineThenRetry") {
        let c = controller(DemoSettings(catalogueURL: offline, apiKey: key))
        c.analyze(demoBus)
        _ = tapItem(c, try await waitForPhoto(c), 0)
        guard case .failed(let target, let msg) = try await waitForSheet(c) else { throw TestFailure(description: "\(c.state)") }
        try check(msg.kind == .offline && msg.retryable && msg.title == "You're offline")
        c.updateSettings(good)
        c.retry()
        guard case .products(let t2, _) = try await waitForSheet(c) else { throw TestFailure(description: "\(c.state)") }
        try check(t2 == target)
    }

    test("demoWrongKeyIsUnauthorized") {
        let c = controller(DemoSettings(catalogueURL: url, apiKey: "slk_wrong"))
        c.analyze(demoBus)
        _ = tapItem(c, try await waitForPhoto(c), 0)
        guard case .failed(_, let msg) = try await waitForSheet(c) else { throw TestFailure(description: "\(c.state)") }
        try check(msg.kind == .unauthorized && msg.opensSettings && msg.retryLabel == "Open Settings")
    }

    test("demoCorruptPhotoAsksForAnother") {
        let c = controller()
        c.analyze(demoBus.prefix(demoBus.count / 3))
        guard case .failed(let msg, _) = try await waitFor(c, "failed", { if case .failed = $0 { return true }; return false })
        else { throw TestFailure(description: "\(c.state)") }
        try check(msg.kind == .badPhoto && msg.needsNewPhoto && !msg.retryable)
        c.retry()
        try check(c.state == .capture)
    }

    test("demoEmptyResultsAndEmptyPhoto") {
        var s = good
        s.maxPrice = 1
        let c = controller(s)
        c.analyze(demoBus)
        _ = tapItem(c, try await waitForPhoto(c), 0)
        guard case .failed(_, let msg) = try await waitForSheet(c) else { throw TestFailure(description: "\(c.state)") }
        try check(msg == Messages.noProducts)
        c.analyze(try photo("photos/stuff.jpg"))
        let p = try await waitForPhoto(c)
        try check(p.targets.isEmpty && p.notice?.kind == .nothingFound)
        c.retry()
        try check(c.state.photoState?.drawing == true)
    }
}
