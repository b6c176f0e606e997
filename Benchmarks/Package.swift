// swift-tools-version: 6.1
// xenpv's benchmarks, kept apart from the main package and its tests:
//   swift package --package-path Benchmarks benchmark
import Foundation
import PackageDescription

/// SwiftPM names a path dependency after its directory, which is whatever the clone is called.
let xenpv = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent.lowercased()

let package = Package(
    name: "xenpv-benchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .target(name: "SwiotlbReference", cSettings: [.unsafeFlags(["-O2"])]),
        .executableTarget(name: "ReplayReference", dependencies: ["SwiotlbReference"], cSettings: [.unsafeFlags(["-O2"])]),
        .executableTarget(
            name: "XenPVBenchmarks",
            dependencies: [
                "SwiotlbReference",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Swiotlb", package: xenpv),
                .product(name: "XenMemory", package: xenpv),
                .product(name: "XenBoot", package: xenpv),
                .product(name: "XenDumps", package: xenpv),
                .product(name: "XenLive", package: xenpv),
                .product(name: "XenModel", package: xenpv),
            ],
            path: "Benchmarks/XenPVBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
