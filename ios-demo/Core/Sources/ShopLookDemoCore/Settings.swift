// Shared demo logic: catalogue settings and display formatting (Foundation only, host-tested).
import Foundation
#if canImport(ShopLook)
import ShopLook
#endif

/// Where the catalogue is and how to authenticate. The default URL is the demo catalogue of the
/// top-level README (`shoplook catalogue serve` listens on 127.0.0.1:8787), which the iOS
/// simulator reaches as localhost. On a device use the Mac's LAN address (serve with
/// `--listen 0.0.0.0:8787`). The key comes from `shoplook catalogue keys create`.
public struct DemoSettings: Equatable {
    public static let defaultPort = 8787
    public static let defaultURL = "http://localhost:\(defaultPort)"

    public var catalogueURL: String
    public var apiKey: String
    public var resultsPerSearch: Int
    /// Only products up to this price (nil: any price).
    public var maxPrice: Double?

    public init(catalogueURL: String = DemoSettings.defaultURL, apiKey: String = "", resultsPerSearch: Int = 6, maxPrice: Double? = nil) {
        self.catalogueURL = catalogueURL; self.apiKey = apiKey
        self.resultsPerSearch = resultsPerSearch; self.maxPrice = maxPrice
    }

    /// nil when usable, else what to fix (shown under the field in Settings).
    public var problem: String? {
        let url = catalogueURL.trimmingCharacters(in: .whitespaces)
        let parsed = URL(string: url)
        if url.isEmpty { return "Enter the catalogue URL, e.g. \(DemoSettings.defaultURL)" }
        if parsed == nil || !["http", "https"].contains(parsed?.scheme ?? "") || (parsed?.host ?? "").isEmpty {
            return "The catalogue URL must look like http://host:port"
        }
        if apiKey.trimmingCharacters(in: .whitespaces).isEmpty { return "Enter an API key (shoplook catalogue keys create --name demo)" }
        if !(1...100).contains(resultsPerSearch) { return "Results per search must be between 1 and 100" }
        if let p = maxPrice, !(p > 0) { return "The price limit must be above 0" }
        return nil
    }

    public var filters: SearchFilters { SearchFilters(maxPrice: maxPrice) }

    public var normalized: DemoSettings {
        var s = self
        s.catalogueURL = catalogueURL.trimmingCharacters(in: .whitespaces)
        while s.catalogueURL.hasSuffix("/") { s.catalogueURL.removeLast() }
        s.apiKey = apiKey.trimmingCharacters(in: .whitespaces)
        return s
    }
}

public enum Format {
    /// "89.00 EUR" in any locale.
    public static func price(_ amount: Double, _ currency: String) -> String {
        String(format: "%.2f", locale: Locale(identifier: "en_US_POSIX"), amount) + " " + currency
    }
    /// The product image as a loadable URL: absolute http(s) URLs only; the demo feed's local file
    /// names (not served by the catalogue) give nil and the UI shows a placeholder.
    public static func imageURL(_ image: String) -> URL? {
        image.hasPrefix("https://") || image.hasPrefix("http://") ? URL(string: image) : nil
    }
    public static func similarity(_ score: Float) -> String { "similar \(Int(min(max(score, 0), 1) * 100))%" }

    /// Why a hit is where it is: its visual similarity, and what the learned ranking added (in
    /// points of similarity, when it is at least half a point): "similar 83%", "similar 83% · learned +4".
    public static func explanation(_ hit: SearchHit) -> String {
        let points = Int((hit.boost * 100).rounded())
        return similarity(hit.similarity) + (points > 0 ? " · learned +\(points)" : points < 0 ? " · learned \u{2212}\(-points)" : "")
    }
}

public enum PhotoFormat {
    /// True when the core decoder reads these bytes as they are (JPEG, PNG, WebP, by their magic
    /// bytes). iPhone photos are often HEIC: the app converts those to JPEG before analysing.
    public static func isSupported(_ data: Data) -> Bool {
        let b = [UInt8](data.prefix(12))
        if b.count >= 3, b[0] == 0xFF, b[1] == 0xD8, b[2] == 0xFF { return true }
        if b.count >= 8, b[0..<8] == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] { return true }
        if b.count >= 12, b[0..<4] == [0x52, 0x49, 0x46, 0x46], b[8..<12] == [0x57, 0x45, 0x42, 0x50] { return true }
        return false
    }
}
