// The ShopLook iOS demo: SwiftUI over ShopLookDemoCore (the host-tested app logic).
import SwiftUI

@main
struct ShopLookDemoApp: App {
    @StateObject private var model = DemoModel()
    @Environment(\.scenePhase) private var scenePhase
    @State private var wasInBackground = false

    var body: some Scene {
        WindowGroup {
            ContentView()
                .environmentObject(model)
        }
        .onChange(of: scenePhase) { phase in
            // Back in the foreground after the app was in the background: a new catalogue session.
            if phase == .background { wasInBackground = true }
            if phase == .active, wasInBackground {
                wasInBackground = false
                model.controller.onForeground()
            }
        }
    }
}
