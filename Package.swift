// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "xenpv",
    products: [
        .library(name: "XenMemory", targets: ["XenMemory"]),
        .library(name: "Swiotlb", targets: ["Swiotlb"]),
        .library(name: "XenSwiotlb", targets: ["XenSwiotlb"]),
        .executable(name: "xenpv", targets: ["xenpv"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .target(name: "XenMemory"),
        .target(name: "Swiotlb"),
        .target(name: "XenSwiotlb", dependencies: ["XenMemory", "Swiotlb"]),
        .executableTarget(
            name: "xenpv",
            dependencies: [
                "XenMemory",
                "Swiotlb",
                "XenSwiotlb",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(name: "XenPVTestSupport", path: "Tests/Support"),
        .testTarget(name: "XenMemoryTests", dependencies: ["XenMemory", "XenPVTestSupport"]),
        .testTarget(name: "SwiotlbTests", dependencies: ["Swiotlb", "XenPVTestSupport"]),
        .testTarget(name: "XenSwiotlbTests", dependencies: ["XenSwiotlb", "XenMemory", "Swiotlb", "XenPVTestSupport"]),
    ]
)
