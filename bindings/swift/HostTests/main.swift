// Host tests of the Swift bindings: they call the real libshoplook_ffi.
// Compiled together with the generated ShopLook.swift and Sources/ShopLook/*.swift (one module),
// run by scripts/test-bindings.sh. Closing line: `swift: N passed, N failed`.
//
// Environment: SHOPLOOK_MODELS (model directory), SHOPLOOK_FIXTURES (fixtures directory),
// SHOPLOOK_CATALOGUE_URL / SHOPLOOK_CATALOGUE_KEY (a running catalogue server; tests skipped if unset),
// SHOPLOOK_CATALOGUE_ADVERTISER_KEY (creates the sponsored-product campaigns).

import Foundation

struct TestFailure: Error, CustomStringConvertible {
    let description: String
}

func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String = "",
           file: StaticString = #file, line: UInt = #line) throws {
    if !condition() { throw TestFailure(description: "line \(line): check failed \(message())") }
}

/// Runs `body`, expects it to throw an error matching `matches`, returns it.
@discardableResult
func expectError<T>(_ what: String, _ body: () async throws -> T, line: UInt = #line,
                    _ matches: (Error) -> Bool) async throws -> Error {
    do {
        let value = try await body()
        throw TestFailure(description: "line \(line): \(what): expected an error, got \(value)")
    } catch let f as TestFailure {
        throw f
    } catch {
        if !matches(error) { throw TestFailure(description: "line \(line): \(what): unexpected error \(error)") }
        return error
    }
}

let env = ProcessInfo.processInfo.environment
let modelDir = env["SHOPLOOK_MODELS"] ?? "models"
let fixtures = URL(fileURLWithPath: env["SHOPLOOK_FIXTURES"] ?? "fixtures")
func photo(_ path: String) throws -> Data { try Data(contentsOf: fixtures.appendingPathComponent(path)) }

let shop = try ShopLook.fromModelDir(path: modelDir)
let bus = try photo("external/bus.jpg")

var tests: [(String, () async throws -> Void)] = []
func test(_ name: String, _ body: @escaping () async throws -> Void) { tests.append((name, body)) }

// ------------------------------------------------------------------ analysing real photos

test("analyzeFindsShoesOnBus") {
    let a = try shop.analyze(photo: bus)
    try check(a.width == 810 && a.height == 1080, "size \(a.width)x\(a.height)")
    let shoes = a.items.filter { $0.category == "shoes" }
    try check(shoes.count >= 3, "shoes: \(a.items.map(\.label))")
    try check(shoes[0].label == "Footwear")
    for s in shoes {
        try check(s.bbox.y > 700 && s.bbox.y + s.bbox.height <= 1080.5, "box \(s.bbox)")
    }
    try check(a.items.contains { $0.category == "outfit" })
    try check(a.items.map(\.id) == (0..<UInt32(a.items.count)).map { $0 })
}

test("itemsCarryUnitEmbeddingsAndTimings") {
    let a = try shop.analyze(photo: bus, options: AnalyzeOptions(maxItems: 3))
    try check(a.items.count == 3)
    let dim = Int(shop.embedderContract().dim)
    try check(a.embedder == shop.embedderContract())
    for item in a.items {
        guard let v = item.embedding else { throw TestFailure(description: "no embedding") }
        try check(v.count == dim)
        let norm = sqrt(v.reduce(0.0) { $0 + Double($1 * $1) })
        try check(abs(norm - 1.0) < 1e-3, "norm \(norm)")
    }
    try check(a.timings.totalMs > 0 && a.timings.detectMs > 0 && a.timings.embedMs > 0)
    try check(a.detectors == shop.detectors() && a.detectors.count == 1)
}

test("embedRegionOfAShoe") {
    let shoe = try shop.analyze(photo: bus).items.first { $0.category == "shoes" }!
    let e = try shop.embedRegion(photo: bus, region: shoe.bbox)
    try check(e.model == shop.embedderContract() && e.vector.count == Int(e.model.dim))
    let item = Embedding(vector: shoe.embedding!, model: e.model)
    let whole = try shop.embedImage(photo: bus)
    try check(cosineSimilarity(a: e, b: item) > cosineSimilarity(a: whole, b: item))
}

test("modelBytesGiveTheSameResultAsTheDirectory") {
    let dir = URL(fileURLWithPath: modelDir)
    func model(_ name: String) throws -> ModelBytes {
        ModelBytes(manifestJson: try Data(contentsOf: dir.appendingPathComponent("\(name).json")),
                   onnx: try Data(contentsOf: dir.appendingPathComponent("\(name).onnx")))
    }
    let fromBytes = try ShopLook.fromModelBytes(detectors: [model("ssd_mbv2_oidv4")],
                                                embedder: model("efficientnet_lite0_feat"))
    let a = try fromBytes.analyze(photo: bus, options: AnalyzeOptions(embed: false))
    let b = try shop.analyze(photo: bus, options: AnalyzeOptions(embed: false))
    try check(a.items.map(\.bbox) == b.items.map(\.bbox))
}

// ------------------------------------------------------------------ error paths

test("emptyBytesAreEmptyInput") {
    let e = try await expectError("empty", { try shop.analyze(photo: Data()) }) {
        if case ShopLookError.EmptyInput = $0 { return true } else { return false }
    }
    try check((e as! ShopLookError).isBadPhoto())
}

test("truncatedJpegIsCorruptImage") {
    try await expectError("truncated", { try shop.analyze(photo: bus.prefix(bus.count / 3)) }) {
        if case ShopLookError.CorruptImage(let detail) = $0 { return !detail.isEmpty } else { return false }
    }
}

test("garbageBytesAreUnsupportedFormat") {
    try await expectError("garbage", { try shop.analyze(photo: Data("not a photo".utf8)) }) {
        if case ShopLookError.UnsupportedFormat = $0 { return true } else { return false }
    }
}

test("hugePhotoIsImageTooLarge") {
    var config = defaultModelConfig()
    config.decodeLimits = DecodeLimits(maxPixels: 100_000)
    let small = try ShopLook.fromModelDir(path: modelDir, config: config)
    try await expectError("too large", { try small.analyze(photo: bus) }) {
        if case ShopLookError.ImageTooLarge(810, 1080, 100_000) = $0 { return true } else { return false }
    }
}

test("regionOutsideThePhotoIsInvalidRegion") {
    try await expectError("region", { try shop.embedRegion(photo: bus, region: Rect(x: 5000, y: 5000, width: 10, height: 10)) }) {
        if case ShopLookError.InvalidRegion = $0 { return true } else { return false }
    }
}

test("missingModelDirIsModelIo") {
    try await expectError("missing dir", { try ShopLook.fromModelDir(path: "/nonexistent/models") }) {
        if case ShopLookError.ModelIo(let path, _) = $0 { return path.contains("/nonexistent/models") } else { return false }
    }
}

test("garbageModelBytesAreModelInvalid") {
    let junk = ModelBytes(manifestJson: Data("{}".utf8), onnx: Data(count: 16))
    try await expectError("junk model", { try ShopLook.fromModelBytes(detectors: [junk], embedder: junk) }) {
        if case ShopLookError.ModelInvalid = $0 { return true } else { return false }
    }
}

test("recordDefaultsAreTheLibrarysDefaults") {
    try check(DecodeLimits() == defaultDecodeLimits())
    try check(AnalyzeOptions() == AnalyzeOptions(minScore: nil, maxItems: 20, embed: true))
    try check(defaultModelConfig().detectors == ["ssd_mbv2_oidv4"])
}

// ------------------------------------------------------------------ panics

test("panicIsAnInternalErrorNotACrash") {
    try await expectError("panic", { try testPanic(message: "swift sync boom") }) {
        if case ShopLookError.Internal(let detail) = $0 { return detail.contains("swift sync boom") } else { return false }
    }
    let after = try shop.analyze(photo: bus, options: AnalyzeOptions(embed: false))
    try check(!after.items.isEmpty)
}

test("panicInAsyncWorkIsAnInternalError") {
    try await expectError("async panic", { try await testPanicAsync(message: "swift async boom") }) {
        if case ShopLookError.Internal(let detail) = $0 { return detail.contains("swift async boom") } else { return false }
    }
}

// ------------------------------------------------------------------ threads and tasks

test("concurrentCallsFromSeveralThreads") {
    let expected = try shop.analyze(photo: bus).items
    let hopperPhoto = try photo("photos/grace_hopper.jpg")
    let hopper = try shop.analyze(photo: hopperPhoto).items
    let lock = NSLock()
    var results = [Int: [Item]]()
    var errors = [String]()
    DispatchQueue.concurrentPerform(iterations: 8) { i in
        do {
            let items = try shop.analyze(photo: i % 2 == 0 ? bus : hopperPhoto).items
            lock.lock(); results[i] = items; lock.unlock()
        } catch {
            lock.lock(); errors.append("\(error)"); lock.unlock()
        }
    }
    try check(errors.isEmpty, "\(errors)")
    for i in 0..<8 { try check(results[i] == (i % 2 == 0 ? expected : hopper), "thread \(i)") }
}

test("asyncTasksMatchBlockingCalls") {
    let expected = try shop.analyze(photo: bus).items
    let all = try await withThrowingTaskGroup(of: [Item].self) { group in
        for _ in 0..<4 { group.addTask { try await shop.analyzeAsync(photo: bus).items } }
        var all: [[Item]] = []
        for try await items in group { all.append(items) }
        return all
    }
    try check(all.count == 4 && all.allSatisfy { $0 == expected })
    let region = try await shop.embedRegionAsync(photo: bus, region: expected[0].bbox)
    let blocking = try shop.embedRegion(photo: bus, region: expected[0].bbox)
    try check(region == blocking)
}

test("asyncLoadFromDir") {
    let s = try await ShopLook.loadFromModelDir(path: modelDir)
    let a = try await s.analyzeAsync(photo: bus)
    try check(a.items.contains { $0.category == "shoes" })
    try await expectError("async missing dir", { try await ShopLook.loadFromModelDir(path: "/nonexistent") }) {
        if case ShopLookError.ModelIo = $0 { return true } else { return false }
    }
}

test("cancellingTheTaskStopsWaiting") {
    let start = Date()
    let slow = Task { try await withShopLookCancellation { try await testSleepAsync(millis: 10_000, cancel: $0) } }
    try await Task.sleep(nanoseconds: 100_000_000)
    slow.cancel()
    try await expectError("cancelled sleep", { try await slow.value }) { $0 is CancellationError }
    let ms = Date().timeIntervalSince(start) * 1000
    try check(ms < 2000, "cancel took \(ms) ms")
    // The cancellable overload of analyzeAsync, cancelled right away.
    let analysis = Task { try await shop.analyzeAsync(photo: bus) }
    analysis.cancel()
    try await expectError("cancelled analyze", { try await analysis.value }) { $0 is CancellationError }
}

test("cancelTokenStopsWaiting") {
    let token = CancelToken()
    let call = Task { try await testSleepAsync(millis: 10_000, cancel: token) }
    try await Task.sleep(nanoseconds: 100_000_000)
    token.cancel()
    try await expectError("token", { try await call.value }) {
        if case ShopLookError.Cancelled = $0 { return true } else { return false }
    }
    try check(token.isCancelled())
}

// ------------------------------------------------------------------ catalogue client
// Against a real `shoplook catalogue serve` on loopback (scripts/test-bindings.sh starts it).

/// Sponsored-product campaigns through the catalogue's HTTP API (`POST /v1/campaigns`, `.../pause`)
/// with the advertiser key, sent by the SDK's own `URLSessionTransport` (only 2xx answers here).
/// Not part of the app SDK: advertisers manage campaigns from their own back office. Also used by
/// the iOS demo's tests (ios-demo/Core/HostTests).
struct TestCampaigns {
    let url: String
    let key: String

    static var fromEnvironment: TestCampaigns? {
        guard let url = env["SHOPLOOK_CATALOGUE_URL"], let key = env["SHOPLOOK_CATALOGUE_ADVERTISER_KEY"] else { return nil }
        return TestCampaigns(url: url, key: key)
    }

    private func call(_ method: String, _ path: String, _ body: String, expect: UInt16) throws -> [String: Any] {
        let r = try URLSessionTransport().send(request: HttpRequest(
            method: method, url: url + path,
            headers: [HttpHeader(name: "Authorization", value: "Bearer \(key)"),
                      HttpHeader(name: "Content-Type", value: "application/json")],
            body: Data(body.utf8), timeoutMs: 10_000))
        let text = String(decoding: r.body, as: UTF8.self)
        guard r.status == expect,
              let json = (try? JSONSerialization.jsonObject(with: r.body)) as? [String: Any] else {
            throw TestFailure(description: "\(method) \(path): \(r.status) \(text)")
        }
        return json
    }

    /// A live campaign promoting `productId` (asap pacing, a budget no test spends); its id.
    func create(productId: String, name: String, bidCents: Int = 100, frequencyCap: Int = 1000) throws -> String {
        let body = #"{"name":"\#(name)","product_id":"\#(productId)","bid_cents":\#(bidCents),"daily_budget_cents":100000,"pacing":"asap","frequency_cap":\#(frequencyCap)}"#
        guard let id = try call("POST", "/v1/campaigns", body, expect: 201)["id"] as? String else {
            throw TestFailure(description: "no campaign id")
        }
        return id
    }

    /// What the campaign spent today (cents).
    func spentToday(_ id: String) throws -> Int {
        try (call("GET", "/v1/campaigns/\(id)", "", expect: 200)["spent_today_cents"] as? NSNumber)?.intValue ?? -1
    }

    /// Stops it serving (tests pause their campaigns so that the others see organic results only).
    func pause(_ id: String) throws {
        _ = try call("POST", "/v1/campaigns/\(id)/pause", "{}", expect: 200)
    }
}

if let url = env["SHOPLOOK_CATALOGUE_URL"], let key = env["SHOPLOOK_CATALOGUE_KEY"] {
    let client = try CatalogueClient(baseUrl: url, apiKey: key)
    let offlineUrl = env["SHOPLOOK_CATALOGUE_OFFLINE_URL"] ?? "http://127.0.0.1:9"

    test("catalogueSearchForAShoeReturnsPurchaseUrls") {
        let analysis = try shop.analyze(photo: bus)
        let shoe = analysis.items.first { $0.category == "shoes" }!
        let found = try client.search(item: shoe, model: analysis.embedder, k: 3)
        try check((1...3).contains(found.results.count), "\(found.results)")
        for h in found.results {
            try check(h.category == "shoes" && h.price > 0 && h.currency == "EUR" && !h.title.isEmpty, "\(h)")
            try check(h.url.hasPrefix("https://example.com/demo/products/"), "purchase URL \(h.url)")
        }
        try check(!found.queryId.isEmpty)
    }

    test("catalogueImageFindsItsOwnProductAsync") {
        let photoData = try photo("demo-catalogue/demo-shoe-1.jpg")
        let found = try await client.searchEmbeddingAsync(embedding: try shop.embedImage(photo: photoData), k: 5)
        let hit = found.results.first { $0.id == "demo-shoe-1" }
        try check(hit?.url == "https://example.com/demo/products/demo-shoe-1", "\(found.results.map(\.id))")
        try await client.reportEventAsync(kind: .click, productId: "demo-shoe-1", queryId: found.queryId)
        try client.reportEvent(kind: .impression, productId: "demo-shoe-1", queryId: found.queryId)
    }

    test("catalogueWrongKeyIsUnauthorized") {
        let bad = try CatalogueClient(baseUrl: url, apiKey: "slk_not_a_key")
        try await expectError("bad key", { try bad.product(id: "demo-shoe-1") }) {
            if case ShopLookError.Unauthorized = $0 { return true } else { return false }
        }
    }

    test("catalogueNoServerIsOffline") {
        let nobody = try CatalogueClient(baseUrl: offlineUrl, apiKey: key)
        let item = try shop.analyze(photo: bus).items[0]
        let e = try await expectError("offline", { try await nobody.searchAsync(item: item, model: shop.embedderContract()) }) {
            if case ShopLookError.Offline = $0 { return true } else { return false }
        }
        try check((e as! ShopLookError).isRetryable())
    }

    /// The ranking explanation of a hit: the order's score is the similarity plus the learned boost.
    func checkExplained(_ h: SearchHit, line: UInt = #line) throws {
        try check(abs(h.similarity + h.boost - h.score) < 1e-4, "score \(h.score) != similarity \(h.similarity) + boost \(h.boost)", line: line)
        try check((-1...1.0001).contains(h.similarity), "similarity \(h.similarity)", line: line)
        try check(h.sponsored == (h.campaignId != nil), "\(h)", line: line)
    }

    test("catalogueSessionIdIsStableUntilRotated") {
        let c = try CatalogueClient(baseUrl: url, apiKey: key)
        let first = c.sessionId()
        let hex = { (s: String) in s.count == 32 && s.allSatisfy { $0.isHexDigit && !$0.isUppercase } }
        try check(hex(first), first)
        _ = try c.product(id: "demo-shoe-1")
        try check(c.sessionId() == first, "calls keep the session")
        let second = c.rotateSession()
        try check(second != first && hex(second), second)
        try check(c.sessionId() == second)
        let other = try CatalogueClient(baseUrl: url, apiKey: key)
        try check(other.sessionId() != second, "each client has its own session")
    }

    test("catalogueSponsoredHitCarriesItsCampaignAndItsClickIsCharged") {
        guard let campaigns = TestCampaigns.fromEnvironment else {
            throw TestFailure(description: "SHOPLOOK_CATALOGUE_ADVERTISER_KEY is not set")
        }
        let c = try CatalogueClient(baseUrl: url, apiKey: key)
        let embedding = try shop.embedImage(photo: try photo("demo-catalogue/demo-shoe-1.jpg"))
        let organic = try c.searchEmbedding(embedding: embedding, category: "shoes", k: 5)
        try check(organic.results.count >= 2, "\(organic.results)")
        try check(organic.results.allSatisfy { !$0.sponsored && $0.campaignId == nil }, "no live campaign yet")
        for h in organic.results { try checkExplained(h) }
        if organic.ranking == .visual { try check(organic.results.allSatisfy { $0.boost == 0 }) }
        // Promote a product that looks like the query but is not first (above the relevance floor).
        let promoted = organic.results.dropFirst().first { $0.inStock && $0.similarity >= 0.6 } ?? organic.results[0]
        // Frequency cap 1: one ad per app session.
        let campaign = try campaigns.create(productId: promoted.id, name: "swift host test", frequencyCap: 1)
        do {
            let found = try c.searchEmbedding(embedding: embedding, category: "shoes", k: 5)
            let ad = found.results[0]
            try check(ad.sponsored && ad.campaignId == campaign && ad.id == promoted.id, "\(found.results)")
            try check(ad.similarity >= 0.5 && ad.boost == 0, "\(ad)")
            try check(found.results.filter(\.sponsored).count == 1, "one ad slot by default")
            try check(found.results.filter { $0.id == promoted.id }.count == 1, "the ad is not shown twice")
            for h in found.results { try checkExplained(h) }

            // The session has had its one ad; a new session (the app back in the foreground) gets it again.
            let session = c.sessionId()
            let capped = try c.searchEmbedding(embedding: embedding, category: "shoes", k: 5)
            try check(capped.results.allSatisfy { !$0.sponsored }, "\(capped.results)")
            try check(c.sessionId() == session)
            _ = c.rotateSession()
            let fresh = try await c.searchEmbeddingAsync(embedding: embedding, category: "shoes", k: 5)
            try check(fresh.results[0].campaignId == campaign, "\(fresh.results)")

            // Impressions with their 1-based positions, then a click on the ad: the campaign pays.
            let before = try campaigns.spentToday(campaign)
            try check(before == 0, "spent \(before) before any click")
            for (i, h) in fresh.results.enumerated() {
                try c.reportEvent(kind: .impression, productId: h.id, queryId: fresh.queryId, position: UInt32(i + 1))
            }
            Thread.sleep(forTimeInterval: 1.1)  // a click within 1 s of its ad's serve is not billed (docs/security.md): a shopper looks first
            try await c.reportEventAsync(kind: .click, productId: fresh.results[0].id, queryId: fresh.queryId, position: 1)
            let spent = try campaigns.spentToday(campaign)
            try check((1...100).contains(spent), "charged at most the bid: \(spent)")
            try c.reportEvent(kind: .click, productId: fresh.results[0].id, queryId: fresh.queryId, position: 1)
            let again = try campaigns.spentToday(campaign)
            try check(again == spent, "the same click is not charged twice: \(again)")
            // Positions are 1-based.
            try await expectError("position 0", { try c.reportEvent(kind: .click, productId: ad.id, queryId: fresh.queryId, position: 0) }) {
                if case ShopLookError.BadRequest(_, let detail) = $0 { return detail.contains("position") } else { return false }
            }
        } catch {
            try? campaigns.pause(campaign)
            throw error
        }
        try campaigns.pause(campaign)
        _ = c.rotateSession()
        let after = try c.searchEmbedding(embedding: embedding, category: "shoes", k: 5)
        try check(after.results.allSatisfy { !$0.sponsored }, "a paused campaign serves no ads")
    }

    /// The app's transport, counting the requests that went through it.
    final class Counting: HttpTransport, @unchecked Sendable {
        let inner: HttpTransport
        private let lock = NSLock()
        private var count = 0
        init(_ inner: HttpTransport) { self.inner = inner }
        var sent: Int { lock.lock(); defer { lock.unlock() }; return count }
        func send(request: HttpRequest) throws -> HttpResponse {
            lock.lock(); count += 1; lock.unlock()
            return try inner.send(request: request)
        }
    }

    test("catalogueThroughURLSessionTransport") {
        let transport = Counting(URLSessionTransport())
        let viaApp = try CatalogueClient(baseUrl: url, apiKey: key, transport: transport)
        let embedding = try shop.embedImage(photo: try photo("demo-catalogue/demo-shoe-1.jpg"))
        let found = try await viaApp.searchEmbeddingAsync(embedding: embedding, category: "shoes", k: 5)
        try check(found.results.contains { $0.id == "demo-shoe-1" }, "\(found.results.map(\.id))")
        let builtin = try client.searchEmbedding(embedding: embedding, category: "shoes", k: 5)
        try check(builtin.results == found.results, "same answer as the built-in client")
        try viaApp.reportEvent(kind: .click, productId: found.results[0].id, queryId: found.queryId)
        let product = try viaApp.product(id: "demo-shoe-1")
        try check(product.url == "https://example.com/demo/products/demo-shoe-1", product.url)
        try check(transport.sent == 3, "requests through the app's transport: \(transport.sent)")

        // A 401 answer through URLSession is not checked on Linux: swift-corelibs-foundation
        // 6.0.3's FoundationNetworking traps (SIGILL) on the catalogue's 401 here, after earlier
        // requests to the same server (reproduced; a 401 on a fresh connection to another
        // server passed). Apple's URLSession is another implementation: check it on iOS.
        #if !canImport(FoundationNetworking)
        let bad = try CatalogueClient(baseUrl: url, apiKey: "slk_not_a_key", transport: URLSessionTransport())
        try await expectError("bad key", { try bad.product(id: "demo-shoe-1") }) {
            if case ShopLookError.Unauthorized = $0 { return true } else { return false }
        }
        #endif
        let nobody = try CatalogueClient(baseUrl: offlineUrl, apiKey: key, transport: URLSessionTransport())
        try await expectError("offline", { try nobody.product(id: "demo-shoe-1") }) {
            if case ShopLookError.Offline = $0 { return true } else { return false }
        }
    }
} else {
    print("skip catalogue tests: SHOPLOOK_CATALOGUE_URL is not set (no catalogue server)")
}

// The iOS demo's shared-logic tests (ios-demo/Core/HostTests), compiled in with -D SHOPLOOK_DEMO_TESTS
// by scripts/test-bindings.sh.
// ------------------------------------------------------------------ live camera: Tracker

test("trackerTakesCameraLayoutsAndRefusesBadFrames") {
    let tracker = try Tracker(shoplook: shop, options: TrackerOptions(everyNthFrame: 2))
    // Flat grey frames in each layout: accepted, nothing found; every 2nd needs pixels.
    let y = Data(repeating: 128, count: 64 * 48)
    let c = Data(repeating: 128, count: 32 * 24)
    let vu = Data(repeating: 128, count: 64 * 24)
    let rgba = Data(repeating: 200, count: 64 * 4 * 48)
    try check(tracker.needsPixels(timestampMs: 0))
    let a = try tracker.pushYuv420(width: 64, height: 48, y: y, yRowStride: 64, u: c, v: c,
                                   uvRowStride: 32, uvPixelStride: 1, rotationDegrees: 90,
                                   timestampMs: 0)
    try check(a.isEmpty)
    try check(!tracker.needsPixels(timestampMs: 33))
    let b = try tracker.carry(timestampMs: 33)
    try check(b.isEmpty)
    let c2 = try tracker.pushNv21(width: 64, height: 48, data: y + vu, rotationDegrees: 0,
                                  timestampMs: 66)
    try check(c2.isEmpty)
    let d = try tracker.pushRgba(width: 64, height: 48, data: rgba, rowStride: 256, bgra: true,
                                 rotationDegrees: 270, timestampMs: 99)
    try check(d.isEmpty)
    let stats = tracker.stats()
    try check(stats.frames == 4 && stats.detectionsRun == 2, "\(stats)")
    // A detection is due: carry without pixels is refused; so are short buffers and odd rotations.
    try await expectError("carry when due", { try tracker.carry(timestampMs: 132) }) {
        if case ShopLookError.CorruptImage = $0 { return true } else { return false }
    }
    try await expectError("short NV21", {
        try tracker.pushNv21(width: 640, height: 480, data: y, rotationDegrees: 0, timestampMs: 132)
    }) { if case ShopLookError.CorruptImage = $0 { return true } else { return false } }
    try await expectError("rotation 45", {
        try tracker.pushRgba(width: 64, height: 48, data: rgba, rowStride: 256, bgra: false,
                             rotationDegrees: 45, timestampMs: 132)
    }) { if case ShopLookError.CorruptImage = $0 { return true } else { return false } }
}

#if SHOPLOOK_DEMO_TESTS
registerDemoTests()
#endif

// ------------------------------------------------------------------ run

var passed = 0, failed = 0
for (name, body) in tests {
    let start = Date()
    do {
        try await body()
        passed += 1
        print("ok   \(name) (\(Int(Date().timeIntervalSince(start) * 1000)) ms)")
    } catch {
        failed += 1
        print("FAIL \(name): \(error)")
    }
}
print("swift: \(passed) passed, \(failed) failed")
exit(failed == 0 && passed > 0 ? 0 : 1)
