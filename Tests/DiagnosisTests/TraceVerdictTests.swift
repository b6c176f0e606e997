import Swiotlb
import Testing

@testable import Diagnosis

/// Verdicts from swiotlb traces replayed against the kernel's allocator.
@Suite struct TraceVerdictTests {
    /// Replays `lines` as `trace.txt` for `kernel` and diagnoses what it shows.
    func diagnose(_ lines: [String], kernel: String) throws -> (Diagnosis, Evidence) {
        let k = try #require(DiagnosedKernel(kernel))
        var t = TraceEvidence(name: "trace.txt", kernel: k)
        for (i, line) in lines.enumerated() {
            var copy = line
            let more = try copy.withUTF8 { b throws(TraceError) in try t.feed(bytes: b, line: i + 1) }
            if !more { break }
        }
        try t.finish()
        var e = Evidence(kernel: k, kernelSource: "--kernel")
        t.add(to: &e)
        return (Diagnoser.diagnose(e), e)
    }

    /// A Wi-Fi driver that unmaps only two of every three receive buffers: a leak, with the
    /// count, bytes and oldest ids of what is still mapped; the NVMe beside it is fine. r(3k)
    /// was overtaken by 200 − 2k unmapped later maps; with 100 buffers mapped at the end, those
    /// overtaken by at least 100 (r0 … r150, 51 of them) were left behind, the other 49 are in flight.
    @Test func wifiLeak() throws {
        var lines = ["pool nslabs=1024 start=0x10000000"]
        for i in 0..<300 {
            lines.append("map id=r\(i) orig=0x\(String(0x2000000 + i * 0x1000, radix: 16)) size=2048 dir=from_device dev=wifi")
            lines.append("map id=n\(i) orig=0x\(String(0x4000000 + i * 0x1000, radix: 16)) size=4096 dir=to_device dev=nvme")
            lines.append("unmap id=n\(i)")
            if i % 3 != 0 { lines.append("unmap id=r\(i)") }
        }
        let (d, e) = try diagnose(lines, kernel: "v6.1")
        #expect(d.verdicts.map(\.kind) == [.leak])
        #expect(d.verdicts[0].device == "wifi")
        #expect(
            e.stillMapped == [Evidence.StillMapped(device: "wifi", count: 51, bytes: 104448, firstIDs: ["r0", "r3", "r6", "r9", "r12"], source: "trace.txt")])
        #expect(d.verdicts[0].evidence[0] == "trace.txt: 51 mappings still mapped at the end (104448 bytes), first ids r0, r3, r6, r9, r12")
        #expect(e.notes == ["trace.txt: 49 mappings of wifi still in flight at the end (fewer of its later maps were unmapped than it had mapped): no leak"])
        #expect(e.pools.map(\.used) == [100])
    }

    /// A capture stops in the middle of I/O: ten buffers mapped, the last one completed first.
    /// The nine still mapped were overtaken by one later map only: in flight, not a leak.
    @Test func inFlightAtTheEndIsNoLeak() throws {
        var lines = ["pool nslabs=1024 start=0x10000000"]
        for i in 0..<100 {
            lines.append("map id=d\(i) orig=0x\(String(0x2000000 + i * 0x1000, radix: 16)) size=4096 dir=to_device dev=nvme")
            lines.append("unmap id=d\(i)")
        }
        for i in 0..<10 { lines.append("map id=q\(i) orig=0x\(String(0x3000000 + i * 0x1000, radix: 16)) size=4096 dir=to_device dev=nvme") }
        lines.append("unmap id=q9")
        let (d, e) = try diagnose(lines, kernel: "v6.1")
        #expect(d.verdicts.map(\.kind) == [.healthy])
        #expect(e.stillMapped.isEmpty)
        #expect(e.notes == ["trace.txt: 9 mappings of nvme still in flight at the end (fewer of its later maps were unmapped than it had mapped): no leak"])
    }

    /// Two-slot buffers fill a 256-slot pool, every other one is unmapped: 128 slots are free
    /// but no run of 4, so an 8 KiB map fails.
    @Test func fragmentation() throws {
        var lines = ["pool nslabs=256 start=0x10000000"]
        for i in 0..<128 { lines.append("map id=a\(i) orig=0x\(String(0x2000000 + i * 0x2000, radix: 16)) size=4096 dir=to_device dev=nic") }
        for i in stride(from: 0, to: 128, by: 2) { lines.append("unmap id=a\(i)") }
        lines.append("map id=big orig=0x3000000 size=8192 dir=to_device dev=nic")
        for i in stride(from: 1, to: 128, by: 2) { lines.append("unmap id=a\(i)") }
        let (d, e) = try diagnose(lines, kernel: "v5.11")
        #expect(d.verdicts.map(\.kind) == [.fragmentation])
        #expect(d.verdicts[0].device == "nic")
        #expect(e.failures.count == 1)
        #expect(e.failures[0].largestFreeRun == 2 && e.failures[0].used == 128 && e.failures[0].neededSlots == 4)
        #expect(
            d.verdicts[0].evidence == [
                "trace.txt:194: map id=big size=8192 failed, used 128 of 256 slots",
                "128 of 256 slots free, the map needed a run of 4",
                "largest free run 2 slots (runs never cross a 128-slot segment)",
            ])
        #expect(d.recommendation?.cmdline == "swiotlb=512")
    }

    /// docs/trace-format.md's minimal hang: 6.1.192 never returns from the second map.
    @Test func kernelHang() throws {
        let lines = [
            "pool nslabs=128 start=0x10000000", "map id=1 orig=0x100000 size=4096 dir=to_device dev=nvme0",
            "map id=2 orig=0x200800 size=258048 min_align=0xfff dir=to_device dev=nvme0", "unmap id=1",
        ]
        let (d, _) = try diagnose(lines, kernel: "v6.1")
        #expect(d.verdicts.map(\.kind) == [.kernelHang])
        #expect(d.verdicts[0].device == "nvme0")
        #expect(d.verdicts[0].evidence == ["trace.txt:3: Linux 6.1.192 would never return from this map (its slot search loops with the area lock held)"])
        // 6.6 bounds the search: no hang verdict, a note instead.
        let (later, _) = try diagnose(lines, kernel: "v6.6")
        #expect(!later.verdicts.contains { $0.kind == .kernelHang })
        #expect(
            later.notes == [
                "trace.txt:3: 6.1.192's slot search would loop here; v6.6 bounds it, but the model has no later allocator: the rest of the trace is not replayed"
            ])
    }

    /// A map over the max mapping size in a trace names its device.
    @Test func overMaxInTrace() throws {
        let (d, _) = try diagnose(["pool nslabs=32768 start=0x10000000", "map id=1 orig=0x100000 size=524288 dir=from_device dev=usbip"], kernel: "v5.11")
        #expect(d.verdicts.map(\.kind) == [.overMaxMappingSize])
        #expect(d.verdicts[0].device == "usbip")
    }
}
