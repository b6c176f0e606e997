// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "xenpv",
    products: [
        .library(name: "XenMemory", targets: ["XenMemory"]),
        .library(name: "Swiotlb", targets: ["Swiotlb"]),
        .library(name: "XenSwiotlb", targets: ["XenSwiotlb"]),
        .library(name: "XenModel", targets: ["XenModel"]),
        .executable(name: "xenpv", targets: ["xenpv"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .target(name: "XenMemory"),
        .target(name: "Swiotlb"),
        .target(name: "XenSwiotlb", dependencies: ["XenMemory", "Swiotlb"]),
        .target(name: "XenModel", dependencies: ["XenMemory", "Swiotlb", "XenSwiotlb", .product(name: "Yams", package: "Yams")]),
        .executableTarget(
            name: "xenpv",
            dependencies: [
                "XenMemory",
                "Swiotlb",
                "XenSwiotlb",
                "XenModel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(name: "XenPVTestSupport", path: "Tests/Support"),
        .testTarget(name: "XenMemoryTests", dependencies: ["XenMemory", "XenPVTestSupport"]),
        .testTarget(name: "SwiotlbTests", dependencies: ["Swiotlb", "XenPVTestSupport"]),
        .testTarget(name: "XenModelTests", dependencies: ["XenModel", "XenSwiotlb", "XenMemory", "Swiotlb"]),
        .testTarget(name: "XenSwiotlbTests", dependencies: ["XenSwiotlb", "XenMemory", "Swiotlb", "XenPVTestSupport"]),
    ]
)
