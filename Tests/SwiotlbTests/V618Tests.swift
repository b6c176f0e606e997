import Testing
import XenMemory

@testable import Swiotlb

/// Replays `trace` (lines) under Linux 6.18: the output lines (closing lines included when the
/// run ends), the kernel's messages, and the error that stopped it, if any.
func replay618(_ trace: [String]) -> (lines: [String], messages: [String], error: TraceError?) {
    var r = TraceReplayer(kernel: .v6_18)
    var out = ReplayOutput()
    var messages: [String] = []
    for (i, line) in trace.enumerated() {
        do throws(TraceError) {
            try TraceLine.withBytes(of: Substring(line)) { b throws(TraceError) in try r.feed(bytes: b, line: i + 1, into: &out) }
            messages += r.takeMessages().map(\.description)
        } catch {
            return (out.lines, messages + r.takeMessages().map(\.description), error)
        }
    }
    do throws(TraceError) {
        return (out.lines + (try r.finish()), messages, nil)
    } catch {
        return (out.lines, messages, error)
    }
}

/// A PV dom0's early memory for the set-up: an allocation succeeds when it is at most
/// `largest` bytes (placed top-down below 4 GiB); every remap succeeds.
private struct BoundedMemory: XenPoolPlatform {
    var largest: UInt64
    var tried: [UInt64] = []
    mutating func allocateEarly(bytes: UInt64) -> PhysicalAddress? {
        tried.append(bytes)
        return bytes <= largest ? PhysicalAddress((1 << 32) - bytes) : nil
    }
    mutating func allocatePages(order: Int) -> PhysicalAddress? { nil }
    mutating func free(start: PhysicalAddress, bytes: UInt64) {}
    mutating func remap(start: PhysicalAddress, nslabs: Int, pool: Int, firstBits: Int, maxBits: Int) -> Bool { true }
}

/// Linux 6.18.2's swiotlb, each value worked by hand from its kernel/dma/swiotlb.c (line
/// numbers of that file) and include/linux/swiotlb.h.
@Suite("Linux 6.18: command line, set-up, padded slot search, messages, debugfs")
struct V618Tests {
    // setup_io_tlb_npages (185-203): the RFC's value is <nslabs>,<nareas>,force; 1048576 is a
    // power of two (swiotlb_adjust_nareas, 152-165), and round_up_default_nslabs (131-143)
    // raises 65536 to 128 * 1048576 = 134217728 slots: (134217728 << 11) >> 20 = 262144 MB.
    @Test("swiotlb=65536,1048576,force: 1,048,576 areas, the pool rounded up to 262144MB, then halved with the areas limited")
    func rfcValue() {
        let c = SwiotlbCommandLine(parsing: "65536,1048576,force", kernel: .v6_18)
        #expect(c.nslabs == 65536 && c.areas == 1_048_576 && c.force == .force && c.ignored.isEmpty)
        // 64 MiB (32768 slots) is the largest block: 2^27 slots down to 2^16 fail (12 sizes);
        // limit_nareas (177-182) keeps at most nslabs / 128 areas at each size (384-390).
        var memory = BoundedMemory(largest: 64 << 20)
        let setup = Linux6_18.setUpXenPools(commandLine: c, cpus: 4, early: true, platform: &memory)
        let p = "software IO TLB: "
        let failures = (16...27).reversed().map { p + "swiotlb_memblock_alloc: Failed to allocate \(UInt64(1) << UInt64($0 + 11)) bytes tlb structure" }
        let head: [String] = [p + "area num 1048576.", p + "SWIOTLB bounce buffer size roundup to 262144MB"]
        let tail: [String] = [
            p + "SWIOTLB bounce buffer size adjusted 134217728 -> 32768 slabs",
            "PCI-DMA: Using software bounce buffering for IO (SWIOTLB)",
            p + "mapped [mem 0x00000000fc000000-0x0000000100000000] (64MB)",
        ]
        #expect(setup.log == head + failures + tail)
        #expect(setup.pools.map(\.nslabs) == [32768])
        #expect(setup.pools.map(\.areas.count) == [256])
        #expect(memory.tried.first == 274_877_906_944)
        // 6.1.192 keeps default_nareas: 1048576 areas of 0 slots.
        var memory61 = BoundedMemory(largest: 64 << 20)
        let setup61 = Linux6_1.setUpXenPools(
            commandLine: SwiotlbCommandLine(parsing: "65536,1048576,force", kernel: .v6_1),
            cpus: 4, early: true, platform: &memory61)
        #expect(setup61.pools.map(\.areas.count) == [1_048_576])
    }

    // No areas given: swiotlb_init_remap (354-413) calls swiotlb_adjust_nareas(num_possible_cpus())
    // (380-381): 6 CPUs → 8 areas; 32768 slots is already ≥ 128 * 8 and a power of two.
    // The halving stops at IO_TLB_MIN_SLABS (512): no pool, `No low mem`.
    @Test("no areas: num_possible_cpus() rounded to a power of two; a failing set-up halves to 512 slots and leaves no pool")
    func possibleCPUsAndNoPool() {
        var memory = BoundedMemory(largest: 1 << 40)
        let ok = Linux6_18.setUpXenPools(commandLine: SwiotlbCommandLine(parsing: "32768", kernel: .v6_18), cpus: 6, early: true, platform: &memory)
        #expect(ok.log.first == "software IO TLB: area num 8.")
        #expect(ok.pools.map(\.areas.count) == [8])
        var none = BoundedMemory(largest: 0)
        let failed = Linux6_18.setUpXenPools(commandLine: SwiotlbCommandLine(), cpus: 1, early: true, platform: &none)
        let halvings: [UInt64] = (20...26).reversed().map { UInt64(1) << UInt64($0) }
        #expect(none.tried == halvings)
        #expect(failed.pools.isEmpty)
        #expect(failed.log.suffix(2) == ["PCI-DMA: Using software bounce buffering for IO (SWIOTLB)", "software IO TLB: No low mem"])
        // A map then fails with 6.18's message (1382-1385), not the "full" line.
        var tlb = SoftwareIOTLB(kernel: .v6_18, pools: failed.pools)
        let r = try? tlb.map(device: DMADevice(name: "nvme0"), original: PhysicalAddress(0x1000), mappingSize: 4096, allocSize: 4096, direction: .toDevice)
        let failedToMap: Bool = r == .failure(.full)
        #expect(failedToMap)
        let messages: [String] = tlb.takeMessages().map(\.description)
        #expect(messages == ["nvme0: Can not allocate SWIOTLB buffer earlier and can't now provide you with the DMA bounce buffer"])
    }

    // A streaming map of a page or more on a device without min_align_mask is page aligned
    // (1044-1045: alloc_align_mask = PAGE_SIZE - 1, stride 2); with min_align_mask 0x7ff it is
    // not (iotlb_align_mask is 0 after 1052-1053: stride 1), where 6.1.192 doubled its stride
    // for any map of 4096 bytes or more. The walk starts at the cursor as it is (1065).
    @Test("page alignment only without min_align_mask: after a 1-slot map, 4096 bytes go to slot 2, or slot 1 with min_align 0x7ff")
    func pageStride() {
        let head = ["pool nslabs=128 start=0x100000", "map id=a orig=0x5000 size=2048 dir=to_device"]
        #expect(
            replay618(head + ["map id=b orig=0x10000 size=4096 dir=to_device"]).lines.prefix(2)
                == ["map id=a tlb=0x100000 used=1", "map id=b tlb=0x101000 used=3"])
        #expect(
            replay618(head + ["map id=b orig=0x10000 size=4096 dir=to_device min_align=0x7ff"]).lines.prefix(2)
                == ["map id=a tlb=0x100000 used=1", "map id=b tlb=0x100800 used=3"])
        #expect(
            replay61(head + ["map id=b orig=0x10000 size=4096 dir=to_device min_align=0x7ff"]).lines.prefix(2)
                == ["map id=a tlb=0x100000 used=1", "map id=b tlb=0x101000 used=3"])
    }

    // swiotlb_align_offset (849-853) with alloc_align_mask 0xfff: 0x12945 & 0xfff & 0xfff =
    // 0x945; size = ALIGN(0x1000 + 0x945, 0x1000) = 0x2000: 4 slots (1402-1403). pad_slots =
    // 0x945 >> 11 = 1, the address slot 1 + 0x145 (1423-1428). The unmap finds slot 0 again
    // through pad_slots and frees nr_slots(alloc_size + 0x145) = 4 (1452-1455).
    @Test("padding slots: align 0xfff, orig 0x12945: one padding slot, tlb = start + 0x800 + 0x145, 4 slots freed at unmap")
    func padding() {
        let r = replay618([
            "pool nslabs=128 start=0x100000",
            "map id=a orig=0x12945 size=4096 dir=to_device min_align=0xfff align=0xfff",
            "map id=b orig=0x3000 size=2048 dir=to_device",
            "unmap id=a", "unmap id=b",
        ])
        #expect(r.error == nil)
        #expect(
            r.lines == [
                "map id=a tlb=0x100945 used=4", "map id=b tlb=0x102000 used=5", "unmap id=a used=1", "unmap id=b used=0",
                "final used=0", "area 0 used=0 index=5",
                "checksum list=0x\(String(TraceReplayer.checksum(SlotPool(start: PhysicalAddress(0), nslabs: 128).list), radix: 16))",
            ])
    }

    // The 6.1.192 hang (docs/trace-format.md): 6.18's loop stops after area_nslabs checked slots
    // (1068): the second map fails. Its size keeps the offset 0 (0x200800 & 0xfff & 0x7ff), and
    // the message gives the padded size, mem->nslabs and mem_used (1405-1408).
    @Test("the 6.1 hang case ends: full, with the kernel's message")
    func boundedSearch() {
        let r = replay618([
            "pool nslabs=128 start=0x100000", "map id=a orig=0x100000 size=4096 dir=to_device",
            "map id=b orig=0x200800 size=258048 dir=to_device min_align=0xfff dev=nvme0",
        ])
        #expect(r.error == nil)
        #expect(r.lines.prefix(2) == ["map id=a tlb=0x100000 used=2", "map id=b error=full used=2"])
        #expect(r.messages == ["nvme0: swiotlb buffer is full (sz: 258048 bytes), total 128 (slots), used 2 (slots)"])
        #expect(
            replay61([
                "pool nslabs=128 start=0x100000", "map id=a orig=0x100000 size=4096 dir=to_device",
                "map id=b orig=0x200800 size=258048 dir=to_device min_align=0xfff",
            ]).error?.exitStatus == TraceError.kernelHangExitStatus)
    }

    // sz is the padded size: 262144 + (0x100 & 0xfff & 0x7ff) = 262400 (1403, 1407); 6.1.192
    // printed alloc_size. 6.18's map has no alloc_size: `alloc=` chooses nothing, no Invalid sizes.
    @Test("the full message's sz is the padded size; alloc= is no alloc_size on 6.18")
    func fullSize() {
        let r = replay618([
            "pool nslabs=128 start=0x100000",
            "map id=a orig=0x100 size=262144 dir=to_device min_align=0xfff",
            "map id=b orig=0x2000 size=4096 alloc=2048 dir=to_device",
        ])
        #expect(r.lines.prefix(2) == ["map id=a error=full used=0", "map id=b tlb=0x100000 used=2"])
        #expect(r.messages == ["swiotlb buffer is full (sz: 262400 bytes), total 128 (slots), used 0 (slots)"])
    }

    // dev_WARN_ONCE (1396-1397) for alloc_align_mask > ~PAGE_MASK, once.
    @Test("an alloc alignment above a page warns once")
    func allocAlignmentWarning() {
        let r = replay618([
            "pool nslabs=256 start=0x100000",
            "map id=a orig=0x2000 size=4096 dir=to_device align=0x1fff",
            "map id=b orig=0x4000 size=4096 dir=to_device align=0x1fff",
        ])
        #expect(r.lines.prefix(2) == ["map id=a tlb=0x100000 used=4", "map id=b tlb=0x102000 used=8"])
        #expect(r.messages == ["Alloc alignment may prevent fulfilling requests with max mapping_size"])
    }

    // io_tlb_used_hiwater (1692-1712): the most used at once; writing 0 resets it, any other
    // value is -EINVAL. 6.1.192's debugfs has no such file.
    @Test("debugfs: io_tlb_nslabs, io_tlb_used, io_tlb_used_hiwater; only 0 may be written to the high-water mark")
    func debugfs() throws {
        var tlb = SoftwareIOTLB(kernel: .v6_18, pools: [SlotPool(start: PhysicalAddress(0x100000), nslabs: 256, areas: 2)])
        let a = try tlb.map(device: DMADevice(), original: PhysicalAddress(0x1000), mappingSize: 8192, allocSize: 8192, direction: .toDevice).get()
        _ = try tlb.map(device: DMADevice(), original: PhysicalAddress(0x9000), mappingSize: 2048, allocSize: 2048, direction: .toDevice, cpu: 1)
        try tlb.unmap(a.address, mappingSize: 8192, allocSize: 8192, direction: .toDevice)
        #expect(tlb.debugfs.map(\.file) == ["io_tlb_nslabs", "io_tlb_used", "io_tlb_used_hiwater"])
        #expect(tlb.debugfs.map(\.value) == [256, 1, 5])
        #expect(throws: DebugfsWriteError.invalidValue) { try tlb.writeUsedHighWater(3) }
        try tlb.writeUsedHighWater(0)
        #expect(tlb.debugfs.map(\.value) == [256, 1, 0])
        var old = SoftwareIOTLB(kernel: .v6_1, pools: [SlotPool(start: PhysicalAddress(0x100000), nslabs: 128)])
        #expect(throws: DebugfsWriteError.noSuchFile) { try old.writeUsedHighWater(0) }
    }

    // swiotlb_max_mapping_size (1605-1619): unchanged since 5.19.
    @Test("max mapping size: 256 KiB less roundup(min_align_mask, 2048)", arguments: [(UInt64(0), 262_144), (0xfff, 258_048), (0x7ff, 260_096)])
    func maxMapping(mask: UInt64, expected: Int) {
        #expect(Linux6_18.maxMappingSize(minAlignMask: mask) == expected)
    }
}

/// Replays `trace` under Linux 6.18 with dynamic pools taken from `memory` (the worker's limit
/// `limit`).
func replay618Dynamic(_ trace: [String], memory: Range<UInt64>, limit: UInt64 = 0xffff_ffff) -> (lines: [String], messages: [String], debugfs: [String]) {
    var r = TraceReplayer(kernel: .v6_18)
    var out = ReplayOutput()
    var messages: [String] = []
    do throws(TraceError) {
        try r.growPools(from: Range(raw: memory), limit: PhysicalAddress(limit))
        for (i, line) in trace.enumerated() {
            try TraceLine.withBytes(of: Substring(line)) { b throws(TraceError) in try r.feed(bytes: b, line: i + 1, into: &out) }
            messages += r.takeMessages().map(\.description)
        }
        let debugfs = r.tlb.map { $0.debugfs.map { "\($0.file)=\($0.value)" } } ?? []
        return (out.lines + (try r.finish()), messages, debugfs)
    } catch {
        return (out.lines + ["error: \(error)"], messages, [])
    }
}

/// 6.18's `CONFIG_SWIOTLB_DYNAMIC` (kernel/dma/swiotlb.c 683-747, 1134-1227, 1510-1550), pool
/// memory as ``DynamicPoolMemory`` hands it out (the lowest free block of the order, aligned).
@Suite("Linux 6.18 dynamic pools: transient pools, the worker's pools, the counts")
struct V618DynamicPoolTests {
    // a fills the 128-slot pool. b misses: the worker is scheduled and a transient pool of
    // nr_slots(4096) = 2 slots (one 4 KiB block: the lowest, 0x1000000) is searched (1204-1227);
    // io_tlb_used counts its slots (130). The worker then adds min(128, 2048) slots (a 256 KiB
    // block aligned to its size: 0x1040000), the newest pool, searched first: c goes there.
    // io_tlb_nslabs counts the grown pool, not the transient one. b's unmap frees its pool.
    // d's transient pool would need 256 KiB below its 16 MiB mask: the lowest such block is
    // 0x1000000, above it: full, and the message's total/used are mem->nslabs and mem_used; the
    // worker it scheduled takes that block for a second grown pool.
    @Test("a miss makes a transient pool under the device's mask and grows the pools; counts and unmap")
    func transientAndGrown() {
        let r = replay618Dynamic(
            [
                "pool nslabs=128 start=0x100000",
                "map id=a orig=0x200000 size=262144 dir=to_device",
                "map id=b orig=0x300000 size=4096 dir=to_device",
                "map id=c orig=0x400000 size=2048 dir=to_device",
            ], memory: 0x100_0000..<0x200_0000)
        #expect(r.lines.prefix(3) == ["map id=a tlb=0x100000 used=128", "map id=b tlb=0x1000000 used=130", "map id=c tlb=0x1040000 used=131"])
        #expect(r.debugfs == ["io_tlb_nslabs=256", "io_tlb_used=131", "io_tlb_used_hiwater=131", "io_tlb_transient_nslabs=2"])
        let zeros = String(TraceReplayer.checksum([UInt32](repeating: 0, count: 128)), radix: 16)
        #expect(
            Array(r.lines.dropFirst(3)) == [
                "final used=131", "area 0 used=128 index=0", "grown start=0x1040000 nslabs=128 areas=1 used=1",
                "transient nslabs=2", "checksum list=0x\(zeros)",
            ])
        let more = replay618Dynamic(
            [
                "pool nslabs=128 start=0x100000",
                "map id=a orig=0x200000 size=262144 dir=to_device",
                "map id=b orig=0x300000 size=4096 dir=to_device",
                "map id=c orig=0x400000 size=2048 dir=to_device",
                "unmap id=b",
                "map id=d orig=0x500000 size=262144 dir=to_device dma_mask=0xffffff dev=nic",
            ], memory: 0x100_0000..<0x200_0000)
        #expect(Array(more.lines.prefix(5).suffix(2)) == ["unmap id=b used=129", "map id=d error=full used=129"])
        #expect(more.messages == ["nic: swiotlb buffer is full (sz: 262144 bytes), total 256 (slots), used 129 (slots)"])
        #expect(more.debugfs == ["io_tlb_nslabs=384", "io_tlb_used=129", "io_tlb_used_hiwater=131", "io_tlb_transient_nslabs=0"])
        #expect(more.lines.contains("grown start=0x1000000 nslabs=128 areas=1 used=0"))
    }

    // The worker asks for default_nslabs = 4096, capped at 2048 with limit_nareas(32, 2048) = 16
    // areas (704-707); 4 MiB and 2 MiB find no block in the 2 MiB of memory (the transient pool
    // took its first page), 1 MiB does at 0x1100000, with limit_nareas(8, 512) = 4 areas (717-721).
    @Test("the worker halves 2048 → 1024 → 512 slots with limit_nareas; below 512 it gives up: 'Failed to allocate new pool'")
    func workerHalving() {
        let fill = (0..<32).map { "map id=f\($0) orig=0x\(String(0x1000_0000 + $0 * 0x40000, radix: 16)) size=262144 dir=to_device cpu=\($0)" }
        let r = replay618Dynamic(
            ["pool nslabs=4096 start=0x100000 areas=32"] + fill + ["map id=x orig=0x200000 size=2048 dir=to_device"],
            memory: 0x100_0000..<0x120_0000)
        #expect(r.lines[32] == "map id=x tlb=0x1000000 used=4097")
        #expect(r.lines.contains("grown start=0x1100000 nslabs=512 areas=4 used=0"))
        #expect(r.messages.isEmpty)
        let none = replay618Dynamic(
            [
                "pool nslabs=128 start=0x100000", "map id=a orig=0x200000 size=262144 dir=to_device",
                "map id=b orig=0x300000 size=4096 dir=to_device",
            ], memory: 0x100_0000..<0x100_1000)
        #expect(none.lines.prefix(2) == ["map id=a tlb=0x100000 used=128", "map id=b tlb=0x1000000 used=130"])
        #expect(none.messages == ["software IO TLB: Failed to allocate new pool"])
    }

    @Test("dynamic pools are 6.18's: another kernel refuses them; the memory must not overlap a pool")
    func refusals() {
        var r61 = TraceReplayer(kernel: .v6_1)
        #expect(
            throws: TraceError(
                line: nil, token: "0x1000000-0x2000000", message: "kernel v6.1 has no dynamic pools (only Linux 6.18's CONFIG_SWIOTLB_DYNAMIC is modelled)")
        ) {
            try r61.growPools(from: Range(raw: 0x100_0000..<0x200_0000), limit: PhysicalAddress(0xffff_ffff))
        }
        let overlap = replay618Dynamic(["pool nslabs=128 start=0x1000000"], memory: 0x100_0000..<0x200_0000)
        #expect(overlap.lines == ["error: line 1: pool overlaps the memory of dynamic pools: 'start=0x1000000'"])
    }

    @Test("DynamicPoolMemory: get_order blocks aligned to their size, lowest first, under the limit; freed blocks merge")
    func memory() {
        var m = DynamicPoolMemory(Range(raw: 0x1000..<0x10_0000))
        #expect(DynamicPoolMemory.blockBytes(6144) == 8192 && DynamicPoolMemory.blockBytes(1) == 4096 && DynamicPoolMemory.blockBytes(1 << 20) == 1 << 20)
        #expect(m.allocate(bytes: 6144, limit: PhysicalAddress(~0)) == PhysicalAddress(0x2000))
        #expect(m.allocate(bytes: 4096, limit: PhysicalAddress(~0)) == PhysicalAddress(0x1000))
        #expect(m.allocate(bytes: 0x40000, limit: PhysicalAddress(0x3ffff)) == nil)
        #expect(m.allocate(bytes: 0x40000, limit: PhysicalAddress(~0)) == PhysicalAddress(0x40000))
        m.release(start: PhysicalAddress(0x2000), bytes: 6144)
        m.release(start: PhysicalAddress(0x1000), bytes: 4096)
        #expect(m.free == [0x1000..<0x40000, 0x80000..<0x10_0000])
    }
}
