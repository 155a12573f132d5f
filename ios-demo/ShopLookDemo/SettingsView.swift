// Catalogue URL, API key, results per search and a price limit; validated by DemoSettings.problem.
import ShopLookDemoCore
import SwiftUI

struct SettingsView: View {
    let current: DemoSettings
    let onSave: (DemoSettings) -> Void
    @Environment(\.dismiss) private var dismiss
    @State private var url = ""
    @State private var key = ""
    @State private var k = 6
    @State private var maxPrice = ""

    private var edited: DemoSettings {
        DemoSettings(catalogueURL: url, apiKey: key, resultsPerSearch: k, maxPrice: Double(maxPrice))
    }

    var body: some View {
        NavigationStack {
            Form {
                Section {
                    TextField("Catalogue URL", text: $url).keyboardType(.URL).textInputAutocapitalization(.never).autocorrectionDisabled()
                    TextField("API key", text: $key).textInputAutocapitalization(.never).autocorrectionDisabled()
                } footer: {
                    Text(edited.problem ?? "Simulator: \(DemoSettings.defaultURL) is your Mac's port \(DemoSettings.defaultPort). On a phone, use the Mac's address.")
                        .foregroundColor(edited.problem == nil ? .secondary : .red)
                }
                Section {
                    Stepper("Results per search: \(k)", value: $k, in: 1...20)
                    TextField("Max price (optional)", text: $maxPrice).keyboardType(.decimalPad)
                }
            }
            .navigationTitle("Catalogue")
            .toolbar {
                ToolbarItem(placement: .cancellationAction) { Button("Cancel") { dismiss() } }
                ToolbarItem(placement: .confirmationAction) {
                    Button("Save") { onSave(edited) }.disabled(edited.problem != nil)
                }
            }
            .onAppear {
                url = current.catalogueURL
                key = current.apiKey
                k = current.resultsPerSearch
                maxPrice = current.maxPrice.map { String($0) } ?? ""
            }
        }
    }
}
