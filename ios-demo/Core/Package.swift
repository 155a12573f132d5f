// swift-tools-version:5.9
// The iOS demo's app logic as a Swift package (Foundation only, no UI): the screen state machine,
// box mapping and hit-testing, drawn boxes, search/event calls, error messages. The SwiftUI app
// (../ShopLookDemo, project ../project.yml) depends on it; scripts/test-bindings.sh compiles the
// same sources with its host tests (HostTests/) on Linux against the real library.
import PackageDescription

let package = Package(
    name: "ShopLookDemoCore",
    platforms: [.iOS(.v16)],
    products: [
        .library(name: "ShopLookDemoCore", targets: ["ShopLookDemoCore"]),
    ],
    dependencies: [
        // The bindings' package (product ShopLook): the xcframework + Swift written by
        // scripts/build-ios.sh. A local package's identity is its folder name: "swift".
        .package(path: "../../bindings/swift"),
    ],
    targets: [
        .target(
            name: "ShopLookDemoCore",
            dependencies: [.product(name: "ShopLook", package: "swift")],
            path: "Sources/ShopLookDemoCore"
        ),
    ]
)
