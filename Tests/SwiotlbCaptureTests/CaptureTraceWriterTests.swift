import XCTest

@testable import SwiotlbCapture

final class CaptureTraceWriterTests: XCTestCase {
    static let context = CaptureContext(
        uname: "Linux 6.1.0-57-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3 (2026-11-26) x86_64",
        commandLine: "console=hvc0 swiotlb=force iommu=soft", clock: "counter",
        probes: ["map hits=4 missed=0"], debugfsStart: "io_tlb_nslabs=32768 io_tlb_used=0", debugfsEnd: "io_tlb_nslabs=32768 io_tlb_used=1",
        kernelLines: ["software IO TLB: area num 2."])

    func testTrace() throws {
        let writer = try CaptureTraceWriter(CapturePairing(events: TwoCPUScenario.events), context: Self.context)
        var lines: [String] = []
        let counts = writer.write { lines.append($0) }
        XCTAssertEqual(
            lines,
            [
                "# xenpv swiotlb capture, trace format v2: xenpv swiotlb replay --kernel v6.1 --check <this file>",
                "# uname: Linux 6.1.0-57-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3 (2026-11-26) x86_64",
                "# cmdline: console=hvc0 swiotlb=force iommu=soft",
                "# clock: counter (order: the allocator's area-lock releases)",
                "# probe: map hits=4 missed=0",
                "# debugfs at start: io_tlb_nslabs=32768 io_tlb_used=0",
                "# debugfs at end: io_tlb_nslabs=32768 io_tlb_used=1",
                "# kernel: software IO TLB: area num 2.",
                "pool nslabs=32768 start=0x2ac00000 areas=2",
                "map id=m1 orig=0x6590000 size=4096 dir=from_device seg_mask=0xffffffff min_align=0xfff cpu=0 dev=0000:00:03.0 kernel_tlb=0x2ac00000 kernel_used=2",
                "unmap id=m1 kernel_used=0",
                "map id=m2 orig=0x6596200 size=512 dir=from_device seg_mask=0xffffffff min_align=0xfff cpu=0 dev=0000:00:03.0 kernel_tlb=0x2ac00200 kernel_used=1",
                "map id=m3 orig=0x7000000 size=4096 dir=from_device seg_mask=0xffffffff min_align=0xfff cpu=1 dev=0000:00:03.0 kernel_tlb=0x2ac01000 kernel_used=3",
                "map id=m4 orig=0x8000000 size=262144 dir=from_device seg_mask=0xffffffff min_align=0xfff cpu=1 dev=0000:00:03.0 kernel_used=3",
                "sync id=m2 target=cpu",
            ])
        XCTAssertEqual(counts.maps, 4)
        XCTAssertEqual(counts.failedMaps, 1)
        XCTAssertEqual(counts.unmaps, 1)
        XCTAssertEqual(counts.syncs, 1)
    }

    /// `--device` keeps one device's maps and unmaps (and the syncs of its buffers) and leaves
    /// the used counts out; a name that is not a trace word is left out.
    func testDeviceAndNames() throws {
        var events = TwoCPUScenario.events
        events[6].deviceName = "0000:00:04.0"  // m3's map: another device
        events[12].deviceName = "bad\u{1}name"  // m4's map
        let writer = try CaptureTraceWriter(CapturePairing(events: events), context: Self.context, device: "0000:00:03.0")
        var lines: [String] = []
        _ = writer.write { if !$0.hasPrefix("#") { lines.append($0) } }
        XCTAssertEqual(
            lines,
            [
                "pool nslabs=32768 start=0x2ac00000 areas=2",
                "map id=m1 orig=0x6590000 size=4096 dir=from_device seg_mask=0xffffffff min_align=0xfff cpu=0 dev=0000:00:03.0 kernel_tlb=0x2ac00000",
                "unmap id=m1",
                "map id=m2 orig=0x6596200 size=512 dir=from_device seg_mask=0xffffffff min_align=0xfff cpu=0 dev=0000:00:03.0 kernel_tlb=0x2ac00200",
                "sync id=m2 target=cpu",
            ])
        let all = try CaptureTraceWriter(CapturePairing(events: events), context: Self.context)
        var m4 = ""
        _ = all.write { if $0.hasPrefix("map id=m4 ") { m4 = $0 } }
        XCTAssertEqual(m4, "map id=m4 orig=0x8000000 size=262144 dir=from_device seg_mask=0xffffffff min_align=0xfff cpu=1 kernel_used=3")
        XCTAssertThrowsError(try CaptureTraceWriter(CapturePairing(events: events), context: Self.context, device: "nvme9")) {
            XCTAssertEqual("\($0)", "no map was recorded for device nvme9: nothing bounced while the capture ran")
        }
    }

    func testRefusals() {
        XCTAssertThrowsError(try CaptureTraceWriter(CapturePairing(events: []), context: Self.context)) {
            XCTAssertEqual("\($0)", "no map was recorded: nothing bounced while the capture ran")
        }
        var events = TwoCPUScenario.events
        events[0].pool = 0x1234
        XCTAssertThrowsError(try CaptureTraceWriter(CapturePairing(events: events), context: Self.context)) {
            XCTAssertEqual(
                "\($0)", "maps used two bounce pools (io_tlb_mem 0x1234 and 0xffffffff8331bd00): one pool per trace is supported; keep one device with --device"
            )
        }
        events = TwoCPUScenario.events
        events[0].direction = 7
        XCTAssertThrowsError(try CaptureTraceWriter(CapturePairing(events: events), context: Self.context)) {
            XCTAssertEqual("\($0)", "map at counter 1: direction 7 is not an enum dma_data_direction")
        }
    }
}
