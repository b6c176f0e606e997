import Testing
import XenMemory

@testable import Swiotlb

/// One set of trace rules for `swiotlb replay` and a model run's trace (TraceReader).
@Suite("trace rules")
struct TraceRulesTests {
    /// The error `swiotlb replay` stops at, or nil.
    func replayError(_ text: String) -> TraceError? {
        var r = TraceReplayer()
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            do { _ = try r.feed(line, line: i + 1) } catch { return error }
        }
        do { _ = try r.finish() } catch { return error }
        return nil
    }

    /// The error a model run's reader stops at, or nil.
    func readerError(_ text: String) -> TraceError? {
        var r = TraceReader()
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            do { _ = try r.read(line, line: i + 1) } catch { return error }
        }
        return nil
    }

    static let pool = "pool nslabs=128 start=0x0\n"
    static let bothRefuse: [(String, String)] = [
        (pool + "unmap id=7", "line 2: unknown id: 'id=7'"),
        (pool + "map id=1 orig=0x0 size=1 dir=none\nmap id=1 orig=0x0 size=1 dir=none", "line 3: duplicate id (still mapped): 'id=1'"),
        (pool + "map id=1 orig=0x0 size=1 dir=none\nunmap id=1\nunmap id=1", "line 4: unknown id: 'id=1'"),
        (pool + "sync id=9 target=cpu", "line 2: unknown id: 'id=9'"),
        (pool + "map id=1 orig=0x0 size=1 dir=none\npool nslabs=128 start=0x100000", "line 3: pool lines must come before every other op: 'pool'"),
        (pool + "pool nslabs=128 start=0x10000", "line 2: pool overlaps an earlier pool: 'start=0x10000'"),
        (
            pool + "pool nslabs=128 start=0x100000\npool nslabs=128 start=0x200000",
            "line 3: a third pool (a trace has at most two: the RFC's low and high pool): 'pool'"
        ),
        (
            "pool nslabs=33554432 start=0x0\npool nslabs=128 start=0x1000000000000",
            "line 2: the pools would hold 33554560 slots; at most 33554432 in all (64 GiB): 'nslabs=128'"
        ),
        (
            pool + "map id=\(String(repeating: "x", count: 200)) orig=0x0 size=1 dir=none\nunmap id=\(String(repeating: "y", count: 200))",
            "line 3: unknown id: 'id=\(String(repeating: "y", count: 77))…'"
        ),
        (
            pool + "\(String(repeating: "z", count: 1000)) id=1",
            "line 2: unknown op (expected pool, map, unmap or sync): '\(String(repeating: "z", count: 80))…'"
        ),
        (
            pool + "\(String(repeating: "z", count: 70))\u{b}\u{2028}\u{85} id=1",
            "line 2: unknown op (expected pool, map, unmap or sync): '\(String(repeating: "z", count: 70))\\u{b}…'"
        ),
        (
            pool + "map id=\(String(repeating: "A", count: 257)) orig=0x0 size=1 dir=none",
            "line 2: an id is at most 256 bytes: 'id=\(String(repeating: "A", count: 77))…'"
        ),
    ]

    @Test("replay and a model run's trace refuse the same lines with the same words", arguments: bothRefuse)
    func sameRules(text: String, message: String) {
        #expect(replayError(text)?.description == message)
        #expect(readerError(text)?.description == message)
    }

    @Test("a trace without a pool line is an error of the whole trace for replay, named by its file")
    func noPool() {
        for text in ["", "# only a comment\n\n"] {
            let e = replayError(text)
            #expect(e?.line == nil)
            #expect(e?.report(file: "t.trace") == "t.trace: no pool line (a trace starts with at least one)")
        }
        #expect(replayError("pool nslabs=128 start=0x0")?.report(file: "t.trace") == nil)
        #expect(TraceError(line: 4, token: "id=1", message: "unknown id").report(file: "t.trace") == "t.trace:4: unknown id: 'id=1'")
    }

    @Test("a model run's trace may leave the pools out; it reads the ops as written")
    func readerOps() throws {
        var r = TraceReader()
        #expect(
            try r.read("map id=a orig=0x1000 size=5000 dir=to_device", line: 1)
                == .map(
                    TraceMap(
                        id: "a", original: PhysicalAddress(0x1000), size: 5000, alloc: 5000, direction: .toDevice, attributes: [], segmentMask: .max,
                        dmaMask: .max)))
        #expect(try r.read("  # comment", line: 2) == nil)
        #expect(try r.read("sync id=a target=device", line: 3) == .sync(id: "a", target: .device))
        #expect(try r.read("unmap id=a", line: 4) == .unmap(id: "a"))
        // Mapped again after its unmap.
        #expect(try r.read("map id=a orig=0x0 size=1 dir=none", line: 5) != nil)
    }

    @Test("a model run's trace carries every field of a v2 map line, under the kernel that reads them")
    func readerCarriesVersion2Fields() throws {
        var r = TraceReader(kernel: .v6_1)
        // 6.1's set-up: ALIGN(200, 128) = 256; 3 areas → 4; raised to 128 × 4 = 512, a power of two.
        #expect(try r.read("pool nslabs=200 start=0x1000000 areas=3", line: 1) == .pool(nslabs: 512, start: PhysicalAddress(0x100_0000), areas: 4, name: nil))
        #expect(
            try r.read(
                "map id=n orig=0x200800 size=8192 alloc=12288 dir=from_device attrs=no_warn seg_mask=0xffffffff dma_mask=0xffffffff min_align=0xfff align=0x3fff cpu=5 dev=0000:00:04.0 driver=nvme kernel_tlb=0x1000800 kernel_used=3",
                line: 2)
                == .map(
                    TraceMap(
                        id: "n", original: PhysicalAddress(0x200800), size: 8192, alloc: 12288, direction: .fromDevice, attributes: .noWarn,
                        segmentMask: 0xffff_ffff, dmaMask: 0xffff_ffff, minAlign: 0xfff, alignMask: 0x3fff, cpu: 5,
                        device: "0000:00:04.0", driver: "nvme", kernelTLB: PhysicalAddress(0x100_0800))))
        // Fields not given stay unset, so a model run uses its stream's device and CPU.
        #expect(
            try r.read("map id=m orig=0x1000 size=1 dir=none", line: 3)
                == .map(TraceMap(id: "m", original: PhysicalAddress(0x1000), size: 1, direction: .none)))
        // The v5.11 reader refuses what v5.11 cannot honour, as replay does.
        var v511 = TraceReader(kernel: .v5_11)
        #expect(
            throws: TraceError(line: 1, token: "min_align=0xfff", message: "kernel v5.11 cannot honour this field (format v2; only v6.1 and v6.18 read it)")
        ) {
            try v511.read("map id=a orig=0x0 size=1 dir=none min_align=0xfff", line: 1)
        }
    }
}
