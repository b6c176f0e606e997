import Testing

@testable import Swiotlb

/// The kernel's messages of a replay, as 6.1.192 prints them for the map's device: its
/// `dev_warn_ratelimited` / `dev_warn_once` (kernel/dma/swiotlb.c 810–822) go through
/// `dev_printk`, which puts `"%s %s: "` of `dev_driver_string(dev)` and `dev_name(dev)` first
/// (drivers/base/core.c), here the trace's `driver=` and `dev=`.
@Suite("Replay messages")
struct ReplayMessageTests {
    /// Replays `lines` under v6.1 and returns the messages.
    func messages(_ lines: [String]) throws -> [String] {
        var r = TraceReplayer(kernel: .v6_1)
        for (i, l) in lines.enumerated() { _ = try r.feed(Substring(l), line: i + 1) }
        return r.takeMessages().map(\.description)
    }

    /// A 128-slot pool made full by one 256 KiB map (stride 2 from slot 0: the whole area).
    let full = ["pool nslabs=128 start=0x1000000", "map id=a orig=0x100000 size=262144 dir=to_device"]

    @Test("a failing map with dev= and driver= prints the kernel's whole line")
    func fullWithDriver() throws {
        #expect(
            try messages(full + ["map id=b orig=0x200000 size=2048 dir=from_device dev=0000:01:00.0 driver=nvme"])
                == ["nvme 0000:01:00.0: swiotlb buffer is full (sz: 2048 bytes), total 128 (slots), used 128 (slots)"])
        #expect(
            try messages(full + ["map id=b orig=0x200000 size=2048 dir=from_device dev=0000:01:00.0"])
                == ["0000:01:00.0: swiotlb buffer is full (sz: 2048 bytes), total 128 (slots), used 128 (slots)"])
        #expect(
            try messages(full + ["map id=b orig=0x200000 size=2048 dir=from_device"])
                == ["swiotlb buffer is full (sz: 2048 bytes), total 128 (slots), used 128 (slots)"])
        #expect(try messages(full + ["map id=b orig=0x200000 size=2048 dir=from_device attrs=no_warn dev=0000:01:00.0 driver=nvme"]) == [])
    }

    @Test("Invalid sizes carries the same prefix, once per run")
    func invalidSizes() throws {
        #expect(
            try messages([
                "pool nslabs=128 start=0x1000000",
                "map id=a orig=0x100000 size=4096 alloc=2048 dir=to_device dev=0000:01:00.0 driver=nvme",
                "map id=b orig=0x100000 size=4096 alloc=2048 dir=to_device dev=0000:02:00.0 driver=xhci_hcd",
            ])
                == ["nvme 0000:01:00.0: Invalid sizes (mapping: 4096 bytes, alloc: 2048 bytes)"])
    }

    @Test("driver= is a word of at most 64 bytes, on map lines only")
    func driverBounds() {
        var r = TraceReplayer(kernel: .v6_1)
        #expect(throws: TraceError(line: 1, token: "driver=", message: "empty value")) {
            try r.feed("map id=a orig=0x0 size=1 dir=none driver=", line: 1)
        }
        #expect(throws: TraceError(line: 1, token: "driver=nvme", message: "unknown key")) {
            try r.feed("unmap id=a driver=nvme", line: 1)
        }
    }
}
