// Thin glue: loads the engine from the bundle, keeps settings in UserDefaults, and republishes the
// shared DemoController's state on the main actor for SwiftUI. No app logic here.
import Foundation
import ShopLook
import ShopLookDemoCore
import SwiftUI
import UIKit

@MainActor
final class DemoModel: ObservableObject {
    @Published private(set) var screen: Screen = .capture
    @Published private(set) var settings: DemoSettings
    let controller: DemoController
    /// The live viewfinder (its own tracker over the same engine; searches and events through `controller`).
    let live: LiveModel

    private static let defaults = UserDefaults.standard

    init() {
        // Loaded once, off the main thread (~1-2 s).
        let engine = Task.detached(priority: .userInitiated) { () throws -> ShopLook in
            let dir = Bundle.main.resourceURL!.appendingPathComponent("models").path
            return try await ShopLook.loadFromModelDir(path: dir)
        }
        let settings = DemoModel.loadSettings()
        self.settings = settings
        controller = DemoController(engine: { try await engine.value }, settings: settings)
        live = LiveModel(engine: { try await engine.value }, lookup: controller)
        controller.onChange = { [weak self] _ in
            // Called on any thread; always publish the latest state, in order, on the main thread.
            DispatchQueue.main.async { if let self { self.screen = self.controller.state } }
        }
    }

    var needsSettings: Bool { settings.problem != nil }

    func save(_ s: DemoSettings) {
        let n = s.normalized
        let d = DemoModel.defaults
        d.set(n.catalogueURL, forKey: "catalogueURL")
        d.set(n.apiKey, forKey: "apiKey")
        d.set(n.resultsPerSearch, forKey: "resultsPerSearch")
        d.set(n.maxPrice ?? -1, forKey: "maxPrice")
        controller.updateSettings(n)
        settings = n
    }

    /// A photo from the camera or the library. HEIC (the iPhone default) is converted to JPEG,
    /// which the core decodes; JPEG/PNG/WebP go as they are (EXIF kept: the core applies it).
    func analyze(_ data: Data) {
        if PhotoFormat.isSupported(data) {
            controller.analyze(data)
        } else if let jpeg = UIImage(data: data)?.jpegData(compressionQuality: 0.92) {
            controller.analyze(jpeg)
        } else {
            controller.analyze(data)   // unreadable: the core's "can't be read" message
        }
    }

    private static func loadSettings() -> DemoSettings {
        let d = defaults
        let k = d.integer(forKey: "resultsPerSearch")
        let maxPrice = d.double(forKey: "maxPrice")
        return DemoSettings(
            catalogueURL: d.string(forKey: "catalogueURL") ?? DemoSettings.defaultURL,
            apiKey: d.string(forKey: "apiKey") ?? "",
            resultsPerSearch: k > 0 ? k : 6,
            maxPrice: maxPrice > 0 ? maxPrice : nil)
    }
}
