// The ShopLook iOS demo: SwiftUI over ShopLookDemoCore (the host-tested app logic).
import SwiftUI

@main
struct ShopLookDemoApp: App {
    @StateObject private var model = DemoModel()

    var body: some Scene {
        WindowGroup {
            ContentView()
                .environmentObject(model)
        }
    }
}
