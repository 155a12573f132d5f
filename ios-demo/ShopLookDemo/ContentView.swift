// The one screen, switched on the shared state machine's Screen. Every decision is DemoController's.
import ShopLook
import ShopLookDemoCore
import SwiftUI

struct ContentView: View {
    @EnvironmentObject var model: DemoModel
    @State private var showSettings = false
    @State private var liveMode = false

    var body: some View {
        ZStack {
            Color.black.ignoresSafeArea()
            switch model.screen {
            case .capture where liveMode:
                LiveView(model: model.live, onClose: { liveMode = false }, onSettings: { showSettings = true })
            case .capture:
                CaptureView(onPhoto: model.analyze, onSettings: { showSettings = true }, onLive: { liveMode = true })
            case .analyzing(let photo):
                ZStack {
                    if let image = UIImage(data: photo) {
                        Image(uiImage: image).resizable().aspectRatio(contentMode: .fit).opacity(0.5)
                    }
                    VStack(spacing: 16) {
                        ProgressView().tint(.white)
                        Text("Finding shoppable things…").foregroundColor(.white)
                        Button("Cancel") { model.controller.cancel() }.buttonStyle(.bordered)
                    }
                }
            case .failed(let message, _):
                MessageView(message: message, controller: model.controller, onSettings: { showSettings = true })
                    .background(Color(.systemBackground))
            case .photo(let p):
                PhotoView(state: p, controller: model.controller, onSettings: { showSettings = true })
            }
        }
        .sheet(isPresented: $showSettings) {
            SettingsView(current: model.settings) { model.save($0); showSettings = false }
        }
        .onAppear { if model.needsSettings { showSettings = true } }
    }
}

/// A message with its retry button and, where it helps, Settings / another photo.
struct MessageView: View {
    let message: UiMessage
    let controller: any SheetDriver
    let onSettings: () -> Void

    var body: some View {
        VStack(spacing: 12) {
            Text(message.title).font(.title2).multilineTextAlignment(.center)
            Text(message.message).multilineTextAlignment(.center)
            Button(message.retryLabel) {
                if message.needsNewPhoto { controller.newPhoto() }
                else if message.opensSettings && !message.retryable { onSettings() }
                else { controller.retry() }
            }.buttonStyle(.borderedProminent)
            if message.opensSettings && message.retryable { Button("Settings", action: onSettings).buttonStyle(.bordered) }
            if !message.needsNewPhoto { Button("New photo") { controller.newPhoto() }.buttonStyle(.bordered) }
        }
        .padding(24)
    }
}
