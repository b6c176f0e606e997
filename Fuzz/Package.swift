// swift-tools-version: 6.1
// libFuzzer targets for every parser, kept apart from the main package:
//   Scripts/fuzz <target> [seconds]
import Foundation
import PackageDescription

/// SwiftPM names a path dependency after its directory, which is whatever the clone is called.
let xenpv = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent.lowercased()

let package = Package(
    name: "xenpv-fuzz",
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(name: "FuzzTrace", dependencies: [.product(name: "Swiotlb", package: xenpv)]),
        .executableTarget(name: "FuzzScenario", dependencies: [.product(name: "XenModel", package: xenpv)]),
        .executableTarget(name: "FuzzModel", dependencies: [.product(name: "XenModel", package: xenpv)]),
        .executableTarget(name: "FuzzDumps", dependencies: [.product(name: "XenDumps", package: xenpv), .product(name: "XenLive", package: xenpv)]),
        .executableTarget(name: "FuzzCommandLines", dependencies: [.product(name: "Swiotlb", package: xenpv), .product(name: "XenMemory", package: xenpv)]),
    ]
)
