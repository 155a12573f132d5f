// The sheet of products for the tapped box: loading, products (image, title, brand, price, why it
// is there, a "Sponsored" label on paid placements, Buy), or a message (no products, offline, unauthorised, error) with a retry.
import ShopLook
import ShopLookDemoCore
import SwiftUI

/// Shown for a photo's box (`controller`: the DemoController) or the frozen live viewfinder's.
struct ProductSheetView: View {
    let sheet: Sheet
    let controller: any SheetDriver
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
                case .products:
                    List(sheet.rows, id: \.position) { row in
                        ProductCard(row: row) {
                            if let url = URL(string: controller.buy(row.hit)) { openURL(url) }
                        }
                        .contentShape(Rectangle())
                        .onTapGesture { controller.openProduct(row.hit) }
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

private struct ProductCard: View {
    let row: ProductRow
    let onBuy: () -> Void

    var body: some View {
        let hit = row.hit
        HStack(spacing: 12) {
            // The demo feed's images are file names the service does not serve: a grey placeholder then.
            AsyncImage(url: Format.imageURL(hit.image)) { image in
                image.resizable().scaledToFill()
            } placeholder: {
                Color.gray.opacity(0.3)
            }
            .frame(width: 72, height: 72).clipped()
            VStack(alignment: .leading, spacing: 2) {
                // Paid placements are always labelled.
                if let label = row.label { Text(label).font(.caption2.bold()).foregroundColor(.secondary) }
                Text(hit.title).font(.headline).lineLimit(2)
                Text(hit.brand).font(.subheadline).foregroundColor(.secondary)
                Text(Format.price(hit.price, hit.currency)).font(.body)
                Text(row.explanation + (hit.inStock ? "" : " · out of stock")).font(.caption2)
            }
            Spacer()
            Button("Buy", action: onBuy).buttonStyle(.borderedProminent)
        }
    }
}
