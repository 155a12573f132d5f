// Hand-written companion of the generated ShopLook.swift: `async` calls that honour Swift task
// cancellation.
//
// UniFFI's generated `async` functions wait on an unsafe continuation that does not observe task
// cancellation. These overloads (same names, without the `cancel:` argument, so Swift picks them
// when no token is passed) create a CancelToken per call and cancel it from
// `withTaskCancellationHandler`: cancelling the task ends the wait at once with
// `CancellationError`. An inference already running finishes on its worker thread and its result
// is dropped.

import Foundation

/// Runs `body` with a fresh `CancelToken` that is cancelled when the current task is;
/// `ShopLookError.Cancelled` becomes `CancellationError`.
func withShopLookCancellation<T>(_ body: (CancelToken) async throws -> T) async throws -> T {
    let token = CancelToken()
    do {
        return try await withTaskCancellationHandler {
            try await body(token)
        } onCancel: {
            token.cancel()
        }
    } catch ShopLookError.Cancelled {
        throw CancellationError()
    }
}

extension ShopLook {
    /// Loads the models from a directory off the calling thread (see `fromModelDir`).
    /// Cancelling the task throws `CancellationError`.
    public static func loadFromModelDir(path: String, config: ModelConfig? = nil) async throws -> ShopLook {
        try await withShopLookCancellation { token in
            try await ShopLook.loadFromModelDir(path: path, config: config, cancel: token)
        }
    }

    /// Loads models handed over as bytes off the calling thread (see `fromModelBytes`).
    /// Cancelling the task throws `CancellationError`.
    public static func loadFromModelBytes(
        detectors: [ModelBytes], embedder: ModelBytes, decodeLimits: DecodeLimits? = nil
    ) async throws -> ShopLook {
        try await withShopLookCancellation { token in
            try await ShopLook.loadFromModelBytes(
                detectors: detectors, embedder: embedder, decodeLimits: decodeLimits, cancel: token)
        }
    }

    /// Finds the shoppable items in a photo on a worker thread (see `analyze`).
    /// Cancelling the task throws `CancellationError` at once.
    public func analyzeAsync(photo: Data, options: AnalyzeOptions = AnalyzeOptions()) async throws -> Analysis {
        try await withShopLookCancellation { token in
            try await self.analyzeAsync(photo: photo, options: options, cancel: token)
        }
    }

    /// Embeds a region of the photo on a worker thread (see `embedRegion`).
    /// Cancelling the task throws `CancellationError` at once.
    public func embedRegionAsync(photo: Data, region: Rect) async throws -> Embedding {
        try await withShopLookCancellation { token in
            try await self.embedRegionAsync(photo: photo, region: region, cancel: token)
        }
    }
}

extension CatalogueClient {
    /// Searches for products like an analysed item off the calling thread (see `search`).
    /// Cancelling the task throws `CancellationError` at once.
    public func searchAsync(
        item: Item, model: ModelContract, k: UInt32 = 10, filters: SearchFilters = SearchFilters()
    ) async throws -> SearchResponse {
        try await withShopLookCancellation { token in
            try await self.searchAsync(item: item, model: model, k: k, filters: filters, cancel: token)
        }
    }

    /// Searches with an embedding off the calling thread (see `searchEmbedding`).
    /// Cancelling the task throws `CancellationError` at once.
    public func searchEmbeddingAsync(
        embedding: Embedding, category: String? = nil, k: UInt32 = 10,
        filters: SearchFilters = SearchFilters()
    ) async throws -> SearchResponse {
        try await withShopLookCancellation { token in
            try await self.searchEmbeddingAsync(
                embedding: embedding, category: category, k: k, filters: filters, cancel: token)
        }
    }

    /// Records an event off the calling thread (see `reportEvent`); `position` is the product's
    /// 1-based place in the results of `queryId`.
    public func reportEventAsync(
        kind: EventType, productId: String, queryId: String? = nil, position: UInt32? = nil
    ) async throws {
        try await withShopLookCancellation { token in
            try await self.reportEventAsync(
                kind: kind, productId: productId, queryId: queryId, position: position, cancel: token)
        }
    }
}
