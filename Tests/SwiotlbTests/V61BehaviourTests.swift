import Testing
import XenMemory

@testable import Swiotlb

/// Replays `trace` (lines) under Linux 6.1: the output lines (closing lines included when the
/// run ends) and the error that stopped it, if any.
func replay61(_ trace: [String], countBytes: Bool = false) -> (lines: [String], error: TraceError?) {
    var r = TraceReplayer(kernel: .v6_1)
    var out = ReplayOutput()
    for (i, line) in trace.enumerated() {
        do throws(TraceError) {
            try TraceLine.withBytes(of: Substring(line)) { b throws(TraceError) in try r.feed(bytes: b, line: i + 1, into: &out) }
        } catch {
            return (out.lines, error)
        }
    }
    do throws(TraceError) {
        return (out.lines + (try r.finish()) + (countBytes ? ["bounced bytes=\(r.bytesBounced)"] : []), nil)
    } catch {
        return (out.lines, error)
    }
}

/// Issue 20's "6.1 behaviours that are easy to miss", each with values worked from 6.1.192's
/// `kernel/dma/swiotlb.c` and `drivers/xen/swiotlb-xen.c`.
@Suite("Linux 6.1.192: the behaviours that are easy to miss")
struct V61BehaviourTests {
    @Test("pool set-up for swiotlb=N,A: ALIGN(N,128), areas 0→1 and to 2^k, 128 per area, then 2^k even with one area")
    func setup() {
        func s(_ n: UInt64, _ a: UInt64?) -> [UInt64] {
            guard let p = Linux61PoolSetup(requested: n, areas: a) else { return [] }
            return [p.nslabs, p.areas, p.areaSlots]
        }
        #expect(s(1, nil) == [128, 1, 128])
        #expect(s(384, nil) == [512, 1, 512])
        #expect(s(1000, nil) == [1024, 1, 1024])
        #expect(s(256, 0) == [256, 1, 256])
        #expect(s(256, 3) == [512, 4, 128])
        #expect(s(128, 4) == [512, 4, 128])
        #expect(s(3000, 3) == [4096, 4, 1024])
        #expect(s(640, 5) == [1024, 8, 128])
        #expect(s(UInt64(IOTLB.maxModelSlots), 1) == [UInt64(IOTLB.maxModelSlots), 1, UInt64(IOTLB.maxModelSlots)])
        #expect(s(UInt64(IOTLB.maxModelSlots) + 1, 1) == [])
        #expect(s(128, UInt64(IOTLB.maxModelSlots / 64)) == [])
        // The trace's pool line goes through it: 384 slots become 512, 100 become 128.
        let r = replay61(["pool nslabs=384 start=0x1000000", "map id=a orig=0x2000 size=2048 dir=to_device"])
        #expect(
            r.lines == [
                "map id=a tlb=0x1000000 used=1", "final used=1", "area 0 used=1 index=1",
                "checksum list=0x\(String(TraceReplayer.checksum(Self.list(512, used: [0])), radix: 16))",
            ])
        #expect(
            replay61(["pool nslabs=100 start=0x1000000 areas=2"]).lines.dropFirst().prefix(2)
                == ["area 0 used=0 index=0", "area 1 used=0 index=0"])
    }

    /// `io_tlb_list` of a fresh pool of `n` slots with the slots in `used` taken (each segment's
    /// entries counting down to its end or the next used slot).
    static func list(_ n: Int, used: Set<Int>) -> [UInt32] {
        var l = [UInt32](repeating: 0, count: n)
        var run: UInt32 = 0
        for i in stride(from: n - 1, through: 0, by: -1) {
            if (i + 1) % 128 == 0 { run = 0 }
            if used.contains(i) { run = 0; continue }
            run += 1
            l[i] = run
        }
        return l
    }

    @Test("offset = orig & min_align & 2047: in the tlb, in the slot count, in the page-stride test; unmap recomputes it")
    func offset() {
        // b: 3584 bytes + offset 0x600 = 5120 ≥ 4096, so the stride doubles from 2 to 4:
        // ALIGN(1, 4) = 4, and 3 slots (not 2). Counting the alloc alone would give slot 2.
        let r = replay61([
            "pool nslabs=256 start=0x1000000",
            "map id=a orig=0x100000 size=2048 dir=to_device",
            "map id=b orig=0x300600 size=3584 dir=to_device min_align=0xfff",
            "unmap id=b",
        ])
        #expect(
            Array(r.lines.prefix(6)) == [
                "map id=a tlb=0x1000000 used=1", "map id=b tlb=0x1002600 used=4", "unmap id=b used=1",
                "final used=1", "area 0 used=1 index=7",
                "checksum list=0x\(String(TraceReplayer.checksum(Self.list(256, used: [0])), radix: 16))",
            ])
        // In the model: the slots' alloc_size is the alloc without the offset; unmap frees 3.
        var t = SoftwareIOTLB(kernel: .v6_1, pools: [SlotPool(start: PhysicalAddress(0x100_0000), nslabs: 256)])
        let m = try? t.map(
            device: DMADevice(minAlignMask: 0xfff), original: PhysicalAddress(0x300600), mappingSize: 3584, allocSize: 3584, direction: .toDevice
        ).get()
        #expect(m?.nslots == 3 && m?.address == PhysicalAddress(0x100_0600))
        #expect(Array(t.pools[0].allocSize.prefix(3)) == [3584, 1536, UInt32(truncatingIfNeeded: 3584 - 4096)])
    }

    @Test("stride 3 (min_align 0x1fff, align 0xfff): the kernel's ALIGN does not round to a multiple of 3")
    func strideThree() {
        #expect((0..<10).map { AreaSearch.kernelAlign($0, 3) } == [0, 1, 4, 5, 4, 5, 8, 9, 8, 9])
        #expect((0..<5).map { AreaSearch.kernelAlign($0, 4) } == [0, 4, 4, 4, 4])
        // Cursor 1: wrap = ALIGN(1, 3) = 1; slot 1 (0x1000800) misses bit 12 of 0x201000, +1:
        // slot 2 (0x1001000) matches. Rounding properly would start at 3 and give 0x1001800.
        let r = replay61([
            "pool nslabs=256 start=0x1000000",
            "map id=a orig=0x100000 size=2048 dir=to_device",
            "map id=b orig=0x201000 size=2048 dir=to_device min_align=0x1fff align=0xfff",
        ])
        #expect(Array(r.lines.prefix(3)) == ["map id=a tlb=0x1000000 used=1", "map id=b tlb=0x1001000 used=2", "final used=2"])
    }

    @Test("align strides the area-relative index, not the address")
    func alignIsAnIndexStride() {
        // align 0x1fff: stride 4 from ALIGN(1, 4) = 4: slot 4 at 0x1003000, not 8 KiB aligned.
        let r = replay61([
            "pool nslabs=256 start=0x1001000",
            "map id=a orig=0x100000 size=2048 dir=to_device",
            "map id=b orig=0x0 size=2048 dir=to_device align=0x1fff",
        ])
        #expect(Array(r.lines.prefix(2)) == ["map id=a tlb=0x1001000 used=1", "map id=b tlb=0x1003000 used=2"])
    }

    @Test("min_align compares absolute DMA addresses, is skipped for orig 0, is absent when align covers it")
    func minAlignComparison() {
        func first(_ map: String) -> String? {
            replay61(["pool nslabs=256 start=0x1001000", map]).lines.first
        }
        // Bits 0x1800 of orig 0x200000 are 0: slots 0 (0x1001000) and 1 (0x1001800) miss, 2 matches.
        #expect(first("map id=m orig=0x200000 size=2048 dir=to_device min_align=0x1fff") == "map id=m tlb=0x1002000 used=1")
        #expect(first("map id=m orig=0x0 size=2048 dir=to_device min_align=0x1fff") == "map id=m tlb=0x1001000 used=1")
        #expect(first("map id=m orig=0x200000 size=2048 dir=to_device min_align=0x1fff align=0x1fff") == "map id=m tlb=0x1001000 used=1")
    }

    @Test("areas from cpu & (nareas-1) round the ring; fast fail per area; unmap to the holding area; full beside free slots")
    func areas() {
        let r = replay61([
            "pool nslabs=256 start=0x1000000 areas=2",
            "map id=a orig=0x100000 size=2048 dir=to_device cpu=1",
            "map id=big orig=0x200000 size=262144 dir=to_device cpu=0",
            "map id=c orig=0x300000 size=2048 dir=to_device cpu=2",
            "map id=d orig=0x400000 size=262144 dir=to_device cpu=5 dev=nvme",
            "unmap id=a",
            "unmap id=d",
        ])
        let used = Set(0..<128).union([129])
        #expect(
            r.lines == [
                "map id=a tlb=0x1040000 used=1", "map id=big tlb=0x1000000 used=129", "map id=c tlb=0x1040800 used=130",
                "map id=d error=full used=130", "unmap id=a used=129", "unmap id=d skipped=map-failed",
                "final used=129", "area 0 used=128 index=0", "area 1 used=1 index=2",
                "checksum list=0x\(String(TraceReplayer.checksum(Self.list(256, used: used)), radix: 16))",
            ])
        // The cursor at the area's end wraps to 0 before the search: ALIGN(127, 2) = 128 → 0.
        let w = replay61([
            "pool nslabs=128 start=0x1000000",
            "map id=a orig=0x100000 size=260096 dir=to_device", "unmap id=a",
            "map id=b orig=0x100000 size=4096 dir=to_device",
        ])
        #expect(Array(w.lines.prefix(3)) == ["map id=a tlb=0x1000000 used=127", "unmap id=a used=0", "map id=b tlb=0x1000000 used=2"])
    }

    @Test("the map copies size bytes whatever the direction, even with skip_cpu_sync")
    func mapAlwaysCopies() throws {
        let r = replay61(
            [
                "pool nslabs=256 start=0x1000000",
                "map id=f orig=0x100000 size=3001 dir=from_device",
                "map id=n orig=0x200000 size=5000 dir=none",
                "map id=s orig=0x300000 size=700 dir=from_device attrs=skip_cpu_sync",
            ], countBytes: true)
        #expect(r.lines.last == "bounced bytes=8701")
        var t = SoftwareIOTLB(kernel: .v6_1, pools: [SlotPool(start: PhysicalAddress(0x100_0000), nslabs: 128)])
        t.memory.write([UInt8](repeating: 0xa5, count: 3001), at: PhysicalAddress(0x40_0000))
        let m = try t.map(
            device: DMADevice(), original: PhysicalAddress(0x40_0000), mappingSize: 3001, allocSize: 3001, direction: .fromDevice,
            attributes: .skipCPUSync
        ).get()
        #expect(t.memory.read(m.address, count: 3001) == [UInt8](repeating: 0xa5, count: 3001))
    }

    @Test("the hang: 6.1.192's search steps past its wrap point and never returns")
    func hang() throws {
        // Cursor 2, stride 4, wrap 4: slot 4 misses bit 11, then 5, 9, ... 125, 0 (miss), 1 (used), 5, ...
        let r = replay61([
            "pool nslabs=128 start=0x1000000",
            "map id=a orig=0x100000 size=4096 dir=to_device",
            "map id=b orig=0x200800 size=258048 dir=to_device min_align=0xfff dev=nvme0",
            "unmap id=a",
        ])
        #expect(r.lines == ["map id=a tlb=0x1000000 used=2", "map id=b hang area=0"])
        let e = try #require(r.error)
        #expect(e.isKernelHang && e.line == 3)
        #expect(e.report(file: "t") == "t:3: Linux 6.1.192 would never return from this map (its slot search loops with the area lock held)")
        #expect(TraceError.kernelHangExitStatus == 3)
        // The library says so too, naming the device, and the search changed nothing.
        var t = SoftwareIOTLB(kernel: .v6_1, pools: [SlotPool(start: PhysicalAddress(0x100_0000), nslabs: 128)])
        _ = try t.map(device: DMADevice(), original: PhysicalAddress(0x10_0000), mappingSize: 4096, allocSize: 4096, direction: .toDevice).get()
        #expect(throws: SwiotlbBug.searchNeverEnds(area: 0, device: "nvme0")) {
            try t.map(
                device: DMADevice(name: "nvme0", minAlignMask: 0xfff), original: PhysicalAddress(0x20_0800), mappingSize: 258_048,
                allocSize: 258_048, direction: .toDevice)
        }
        #expect(t.pools[0].used == 2 && t.pools[0].areas[0].index == 2)
        #expect(
            SwiotlbBug.searchNeverEnds(area: 0, device: "nvme0").description
                == "kernel hang: Linux 6.1.192 would never return from a map on nvme0 (its slot search loops in area 0 with the area lock held)")
        // 121 slots fit in the 123 free from slot 5, the first that matches bit 11: no hang.
        let ok = replay61([
            "pool nslabs=128 start=0x1000000",
            "map id=a orig=0x100000 size=4096 dir=to_device",
            "map id=b orig=0x200800 size=247808 dir=to_device min_align=0xfff",
        ])
        #expect(ok.error == nil && ok.lines[1] == "map id=b tlb=0x1002800 used=123")
    }

    @Test("format v2 keys: read under v6.1, refused by the v1 kernels; v6.1 has one pool; skipped=map-failed only for a failed map")
    func formatV2() {
        #expect(
            replay61(["pool nslabs=128 start=0x1000000", "pool nslabs=128 start=0x2000000"]).error?.report(file: "t")
                == "t:2: a second pool (Linux 6.1 has one default pool): 'pool'")
        #expect(
            replay61(["pool nslabs=128 start=0x1000000", "map id=a orig=0x0 size=1 dir=none min_align=0x100000000"]).error?.report(file: "t")
                == "t:2: min_align must fit in 32 bits (the kernel's unsigned int): 'min_align=0x100000000'")
        #expect(
            replay61(["pool nslabs=128 start=0x1000000 areas=262145"]).error?.report(file: "t")
                == "t:1: Linux 6.1 would set this pool up with more than 33554432 slots (128 per area, rounded up to a power of two): 'areas=262145'")
        #expect(replay61(["pool nslabs=0 start=0x1000000"]).error?.report(file: "t") == "t:1: nslabs must be 1 to 33554432: 'nslabs=0'")
        #expect(
            replay61(["pool nslabs=128 start=0x1000000", "map id=a orig=0x0 size=1 dir=none cpu=1048577"]).error?.report(file: "t")
                == "t:2: cpu must be at most 1048576: 'cpu=1048577'")
        #expect(replay61(["pool nslabs=128 start=0x1000000", "unmap id=x"]).error?.report(file: "t") == "t:2: unknown id: 'id=x'")
        let skip = replay61([
            "pool nslabs=128 start=0x1000000", "map id=a orig=0x0 size=300000 dir=none kernel_tlb=0x1000000",
            "sync id=a target=cpu", "unmap id=a", "unmap id=a",
        ])
        #expect(skip.lines == ["map id=a error=full used=0", "sync id=a skipped=map-failed", "unmap id=a skipped=map-failed"])
        #expect(skip.error?.report(file: "t") == "t:5: unknown id: 'id=a'")
        var v1 = TraceReplayer(kernel: .v5_11)
        #expect(throws: TraceError(line: 1, token: "areas=2", message: "kernel v5.11 cannot honour this field (format v2; only v6.1 and v6.18 read it)")) {
            _ = try v1.feed("pool nslabs=128 start=0x1000000 areas=2", line: 1)
        }
        #expect(throws: TraceError(line: 1, token: "nslabs=100", message: "nslabs must be 1 or a multiple of 128 up to 33554432")) {
            _ = try v1.feed("pool nslabs=100 start=0x1000000", line: 1)
        }
    }
}
