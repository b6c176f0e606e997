// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "xenpv",
    products: [
        .library(name: "XenMemory", targets: ["XenMemory"]),
        .library(name: "Swiotlb", targets: ["Swiotlb"]),
        .library(name: "XenSwiotlb", targets: ["XenSwiotlb"]),
        .library(name: "XenBoot", targets: ["XenBoot"]),
        .library(name: "XenModel", targets: ["XenModel"]),
        .library(name: "XenLive", targets: ["XenLive"]),
        .library(name: "XenDumps", targets: ["XenDumps"]),
        .library(name: "Diagnosis", targets: ["Diagnosis"]),
        .library(name: "SwiotlbCapture", targets: ["SwiotlbCapture"]),
        .executable(name: "xenpv", targets: ["xenpv"]),
    ],
    traits: [
        .trait(name: "XenCtrl", description: "Build the libxenctrl shim for the live dom0 commands (needs Debian's libxen-dev).")
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .target(name: "XenMemory"),
        .target(name: "Swiotlb", dependencies: ["XenMemory"]),
        .target(name: "XenSwiotlb", dependencies: ["XenMemory", "Swiotlb"]),
        .target(name: "XenBoot", dependencies: ["XenMemory", "Swiotlb", "XenSwiotlb"]),
        .target(name: "SwiotlbCapture", dependencies: ["Swiotlb", "XenMemory"]),
        .target(
            name: "CXenCtrl",
            cSettings: [.define("CXEN_ENABLED", .when(traits: ["XenCtrl"]))],
            linkerSettings: [
                .linkedLibrary("xenguest", .when(traits: ["XenCtrl"])),
                .linkedLibrary("xenctrl", .when(traits: ["XenCtrl"])),
                .linkedLibrary("xenforeignmemory", .when(traits: ["XenCtrl"])),
                .linkedLibrary("xentoollog", .when(traits: ["XenCtrl"])),
            ]
        ),
        .target(name: "XenDumps", dependencies: ["XenMemory"]),
        .target(name: "Diagnosis", dependencies: ["Swiotlb", "XenDumps", "XenMemory"]),
        .target(name: "XenLive", dependencies: ["XenMemory", "XenDumps", "CXenCtrl"]),
        .target(
            name: "XenModel", dependencies: ["XenMemory", "Swiotlb", "XenSwiotlb", "XenBoot", "XenDumps", "Diagnosis", .product(name: "Yams", package: "Yams")]),
        .executableTarget(
            name: "xenpv",
            dependencies: [
                "XenMemory",
                "Swiotlb",
                "XenSwiotlb",
                "XenBoot",
                "XenModel",
                "XenLive",
                "XenDumps",
                "Diagnosis",
                "SwiotlbCapture",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(name: "XenPVTestSupport", dependencies: ["Swiotlb"], path: "Tests/Support"),
        .testTarget(name: "XenMemoryTests", dependencies: ["XenMemory", "XenPVTestSupport"]),
        .testTarget(name: "SwiotlbTests", dependencies: ["Swiotlb", "XenMemory", "XenPVTestSupport"], exclude: ["Vectors"]),
        .testTarget(
            name: "XenLiveTests", dependencies: ["XenPVTestSupport", "XenBoot", "XenLive", "XenDumps", "XenMemory", "XenModel", "XenSwiotlb", "Swiotlb"]),
        .testTarget(name: "XenModelTests", dependencies: ["XenPVTestSupport", "XenModel", "XenSwiotlb", "XenMemory", "Swiotlb", "XenDumps"]),
        .testTarget(name: "SwiotlbCaptureTests", dependencies: ["SwiotlbCapture", "Swiotlb", "XenPVTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "XenSwiotlbTests", dependencies: ["XenSwiotlb", "XenBoot", "XenMemory", "Swiotlb", "XenPVTestSupport"]),
        .testTarget(name: "DiagnosisTests", dependencies: ["Diagnosis", "XenDumps", "Swiotlb", "XenModel", "XenPVTestSupport"]),
        .testTarget(name: "XenPVCommandTests", dependencies: ["xenpv", "XenPVTestSupport"], exclude: ["Snapshots"]),
    ]
)
