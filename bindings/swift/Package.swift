// swift-tools-version:5.9
// The ShopLook Swift package for iOS apps: the Rust library as a binary xcframework plus the
// UniFFI-generated Swift (Sources/ShopLook/ShopLook.swift) and the hand-written extensions next
// to it. Both the xcframework and ShopLook.swift are written by scripts/build-ios.sh (on a Mac
// with Xcode); neither is committed. Not built in this repository's CI: see bindings/README.md.
import PackageDescription

let package = Package(
    name: "ShopLook",
    platforms: [.iOS(.v15)],
    products: [
        .library(name: "ShopLook", targets: ["ShopLook"]),
    ],
    targets: [
        // Static libshoplook_ffi.a for device (arm64) and simulator (arm64 + x86_64), with
        // ShopLookFFI.h and its module map.
        .binaryTarget(name: "ShopLookFFI", path: "ShopLookFFI.xcframework"),
        .target(
            name: "ShopLook",
            dependencies: ["ShopLookFFI"],
            path: "Sources/ShopLook"
        ),
    ]
)
