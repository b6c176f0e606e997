import Swiotlb
import Testing
import XenModel

/// A scenario's `trace` stream honours a v2 map line's `min_align=`, `align=`, `cpu=` and
/// `dev=` and `driver=` as `swiotlb replay --kernel v6.1` does (docs/trace-format.md).
@Suite("Trace stream fields")
struct TraceStreamFieldsTests {
    /// A 6.1 PV dom0 whose pool is `swiotlb=1024,2`: 1024 slots in 2 areas of 512; the device
    /// declares no min_align_mask, and its stream runs on CPU 0.
    static let scenario = """
        schema: 1
        host: {ram: 2G}
        xen: {dom0_mem: 768M}
        guest: {type: pv-dom0, kernel: v6.1, cpus: 2, cmdline: "swiotlb=1024,2,force iommu=soft"}
        devices: [{name: nvme, dma_bits: 64}]
        workload: {streams: [{trace: {device: nvme, file: t.trace}}]}
        """

    /// Slots worked out from 6.1.192's `swiotlb_do_find_slots` / `swiotlb_find_slots`
    /// (kernel/dma/swiotlb.c 664–778), pool start S (page aligned), area 1 from slot 512:
    /// - a: cpu 1 → area 1 (`cpu & (nareas − 1)`); 4096 bytes: stride 2; cursor 0 → slot 512
    ///   (2 slots; cursor 2). On the stream's CPU 0 it would be slot 0.
    /// - b: cpu 1, min_align 0xfff: offset = 0xa00 & 0xfff & 0x7ff = 0x200, alloc 512 + 0x200;
    ///   iotlb_align_mask = 0x800, stride 2; cursor ALIGN(2, 2) = 2: slot 514's address has bit
    ///   11 clear, orig's set → +1: slot 515 (1 slot; tlb S + 515·2048 + 0x200; cursor 4).
    ///   Without min_align: slot 514.
    /// - c: cpu 3 → area 1; align 0x3fff: stride (0x3fff >> 11) + 1 = 8; ALIGN(4, 8) = 8 →
    ///   slot 520 (cursor 9). Without align: slot 516.
    /// - d: no cpu → the stream's CPU 0: area 0, slot 0 (2 slots).
    /// - e: 512 slots: more than 512 − used in either area → "full" (fast fail in both), which
    ///   `dev_warn_ratelimited` prints after `"%s %s: "` of the driver and the device (819–822).
    static let trace = [
        "pool nslabs=1024 start=0x0 areas=2",  // checked, then the scenario's pool is used
        "map id=a orig=0x100000 size=4096 dir=to_device cpu=1",
        "map id=b orig=0x200a00 size=512 dir=to_device min_align=0xfff cpu=1 kernel_tlb=0x1",
        "map id=c orig=0x300000 size=2048 dir=to_device align=0x3fff cpu=3",
        "map id=d orig=0x400000 size=4096 dir=to_device",
        "map id=e orig=0x500000 size=1048576 dir=to_device dev=0000:00:04.0 driver=nvme",
    ]

    @Test("min_align, align and cpu choose the slots 6.1.192 chooses; dev and driver name the failing map's device")
    func slotsAndMessage() throws {
        let s = try ScenarioParser.parse(Self.scenario, file: "s.yaml") { _ in Self.trace }
        let r = WorkloadRunner.run(s)
        #expect(r.kernelBug == nil)
        #expect(r.pools.count == 1 && r.pools[0].nslabs == 1024 && r.pools[0].areas == 2)
        #expect(r.devices[0].maps == 5 && r.devices[0].bounced == 4 && r.devices[0].failed == 1)
        let snapshot = try #require(r.timeline.firstFullFailure)
        // Free runs in slot order, cut at the 128-slot segments: area 0 holds d (0–1); area 1
        // holds a (512–513), b (515) and c (520).
        #expect(
            snapshot.freeRuns == [
                2..<128, 128..<256, 256..<384, 384..<512,
                514..<515, 516..<520, 521..<640, 640..<768, 768..<896, 896..<1024,
            ])
        #expect(r.messages == ["nvme 0000:00:04.0: swiotlb buffer is full (sz: 1048576 bytes), total 1024 (slots), used 6 (slots)"])
    }

    @Test("the same ops under swiotlb replay on the scenario's pool give the same slots")
    func sameAsReplay() throws {
        let s = try ScenarioParser.parse(Self.scenario, file: "s.yaml") { _ in Self.trace }
        let start = WorkloadRunner.run(s).pools[0].start.rawValue
        var replayer = TraceReplayer(kernel: .v6_1)
        var out: [String] = []
        let lines = ["pool nslabs=1024 start=0x\(String(start, radix: 16)) areas=2"] + Self.trace.dropFirst()
        for (i, l) in lines.enumerated() { out += try replayer.feed(Substring(l), line: i + 1) }
        func tlb(_ offset: UInt64) -> String { "0x" + String(start + offset, radix: 16) }
        #expect(
            out == [
                "map id=a tlb=\(tlb(512 * 2048)) used=2",
                "map id=b tlb=\(tlb(515 * 2048 + 0x200)) used=3",
                "map id=c tlb=\(tlb(520 * 2048)) used=4",
                "map id=d tlb=\(tlb(0)) used=6",
                "map id=e error=full used=6",
            ])
        #expect(
            replayer.takeMessages().map(\.description)
                == ["nvme 0000:00:04.0: swiotlb buffer is full (sz: 1048576 bytes), total 1024 (slots), used 6 (slots)"])
    }

    @Test("a v5.11 scenario refuses min_align in its trace, as replay under v5.11 does")
    func v511Refuses() {
        let text = Self.scenario.replacingOccurrences(
            of: "kernel: v6.1, cpus: 2, cmdline: \"swiotlb=1024,2,force iommu=soft\"",
            with: "cmdline: \"swiotlb=1024,force iommu=soft\"")
        do {
            _ = try ScenarioParser.parse(text, file: "s.yaml") { _ in ["map id=a orig=0x0 size=1 dir=none min_align=0xfff"] }
            Issue.record("parsed")
        } catch {
            #expect(
                error.description
                    == "t.trace:1: kernel v5.11 cannot honour this field (format v2; only v6.1 and v6.18 read it): 'min_align=0xfff' (trace of s.yaml workload.streams[0].trace.file)"
            )
        }
    }
}
