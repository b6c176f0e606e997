// swift-tools-version: 6.1
// libFuzzer targets for every parser, kept apart from the main package:
//   Scripts/fuzz <target> [seconds]
import PackageDescription

let package = Package(
    name: "xenpv-fuzz",
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(name: "FuzzTrace", dependencies: [.product(name: "Swiotlb", package: "main")]),
        .executableTarget(name: "FuzzScenario", dependencies: [.product(name: "XenModel", package: "main")]),
        .executableTarget(name: "FuzzDumps", dependencies: [.product(name: "XenDumps", package: "main"), .product(name: "XenLive", package: "main")]),
        .executableTarget(name: "FuzzCommandLines", dependencies: [.product(name: "Swiotlb", package: "main"), .product(name: "XenMemory", package: "main")]),
    ]
)
