// The sheet of products for the tapped box: loading, products (image, title, brand, price, Buy),
// or a message (no products, offline, unauthorised, error) with a retry.
import ShopLook
import ShopLookDemoCore
import SwiftUI

struct ProductSheetView: View {
    let sheet: Sheet
    let controller: DemoController
    @EnvironmentObject private var model: DemoModel
    @State private var showSettings = false
    @Environment(\.openURL) private var openURL

    var body: some View {
        NavigationStack {
            Group {
                switch sheet {
                case .loading:
                    VStack(spacing: 16) {
                        ProgressView("Searching the catalogue…")
                        Button("Cancel") { controller.cancel() }
                    }
                case .failed(_, let message):
                    MessageView(message: message, controller: controller, onSettings: { showSettings = true })
                case .products(_, let response):
                    List(response.results, id: \.id) { hit in
                        ProductRow(hit: hit) {
                            if let url = URL(string: controller.buy(hit)) { openURL(url) }
                        }
                        .contentShape(Rectangle())
                        .onTapGesture { controller.openProduct(hit) }
                    }
                    .listStyle(.plain)
                }
            }
            .navigationTitle(sheet.target.label)
            .navigationBarTitleDisplayMode(.inline)
        }
        .sheet(isPresented: $showSettings) {
            SettingsView(current: model.settings) { model.save($0); showSettings = false }
        }
    }
}

private struct ProductRow: View {
    let hit: SearchHit
    let onBuy: () -> Void

    var body: some View {
        HStack(spacing: 12) {
            // The demo feed's images are file names the service does not serve: a grey placeholder then.
            AsyncImage(url: Format.imageURL(hit.image)) { image in
                image.resizable().scaledToFill()
            } placeholder: {
                Color.gray.opacity(0.3)
            }
            .frame(width: 72, height: 72).clipped()
            VStack(alignment: .leading, spacing: 2) {
                Text(hit.title).font(.headline).lineLimit(2)
                Text(hit.brand).font(.subheadline).foregroundColor(.secondary)
                Text(Format.price(hit.price, hit.currency)).font(.body)
                Text(Format.similarity(hit.score) + (hit.inStock ? "" : " · out of stock")).font(.caption2)
            }
            Spacer()
            Button("Buy", action: onBuy).buttonStyle(.borderedProminent)
        }
    }
}
