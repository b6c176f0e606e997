import Testing

@testable import XenMemory

/// Xen 4.17's own boot-time use of memory (XenBootMemory), against the captured real hosts:
/// `fixtures/real-xen-default` (QEMU -m 2048, dom0_mem=768M) and the 6 GiB `bigmem` host whose
/// dom0 layout real-dom0-layout.md §3 reconstructs.
@Suite("Xen 4.17 boot memory")
struct XenBootMemoryTests {
    static let defaultModules: [Range<UInt64>] = [0x7a7f7..<0x7f66f, 0x7f66f..<0x7fa00]
    static let bigmemModules: [Range<UInt64>] = [0x1badf7..<0x1bfc6f, 0x1bfc6f..<0x1c0000]

    @Test("the boot allocator takes from the top of the highest region that fits and keeps the rounding as a region")
    func bootAllocator() {
        var b = XenBootAllocator()
        b.add(0x100..<0x200)
        b.add(0x7a600..<0x7a7f7)
        b.add(0x200..<0x7a600)
        #expect(b.allocate(0x200, align: 0x200) == 0x7a400)  // [0x7a600, 0x7a7f7) cannot hold it aligned
        #expect(b.allocate(1, align: 1) == 0x7a7f6)
        #expect(b.regions == [0x100..<0x200, 0x200..<0x7a400, 0x7a600..<0x7a7f6])
        #expect(b.heapInsertionOrder == [0x100..<0x200, 0x7a600..<0x7a7f6, 0x200..<0x7a400])
    }

    @Test("default host: Xen at 0x7f800000, frame table below the kernel module, regions in end_boot_allocator's order")
    func defaultHost() throws {
        let (host, m) = try XenBootMemory.boot(e820: .qemuPC(ramBytes: 2 << 30), modules: Self.defaultModules, build: .debian4_17_7)
        #expect(m.xenStart == 0x7f800)  // "New Xen image base address: 0x7f800000"
        #expect(m.image == 0x7fa00..<0x7fda7)
        #expect(m.frameTable.count == 8)
        #expect(m.frameTable.first == 0x7a400..<0x7a600)
        #expect(m.frameTable.last == 0x79600..<0x79800)
        #expect(m.heapRegions == [0x100..<0x200, 0x7fe00..<0x7ffc0, 0x7fda7..<0x7fe00, 0x7a600..<0x7a7f6, 0x200..<0x79600])
        // What dom0's builder finds in the top zone (real-dom0-layout.md §3's lists, without
        // the kernel module's blocks, which come back later).
        #expect(host.heap.blocks(zone: 19, order: 3) == [MFN(0x7a7e0)])
        #expect(host.heap.blocks(zone: 19, order: 5) == [MFN(0x7a7c0)])
        #expect(host.heap.blocks(zone: 19, order: 6) == [MFN(0x7ff80), MFN(0x7fdc0), MFN(0x7fd00), MFN(0x7a780)])
        #expect(host.heap.blocks(zone: 19, order: 7) == [MFN(0x7ff00), MFN(0x7fc80)])
        #expect(host.heap.blocks(zone: 19, order: 9) == [MFN(0x79000)])  // the M2P took 0x79400 and 0x79200
        for o in [0, 1, 2, 4, 8, 10, 11] { #expect(host.heap.blocks(zone: 19, order: o).isEmpty) }
    }

    @Test("bigmem host: the M2P skips the PCI hole; dom0's initial block, physmap and all chunks but three small ones are real-dom0-layout.md §3's")
    func bigmemHost() throws {
        let e820 = E820Map.qemuPC(ramBytes: 6 << 30)
        #expect(XenBootMemory.machineToPhysPieces(ram: e820.ramFrames) == 6)
        var (host, m) = try XenBootMemory.boot(e820: e820, modules: Self.bigmemModules, build: .debian4_17_7)
        #expect(m.xenStart == 0xbf800)  // "New Xen image base address: 0xbf800000"
        #expect(m.frameTable.count == 24)
        #expect(m.frameTable.last == 0x1b7c00..<0x1b7e00)
        var cfg = Dom0BuildConfig()
        cfg.memory = try Dom0MemoryOption(parsing: "4096M,max:4096M")
        cfg.kernelModule = Self.bigmemModules[0]
        cfg.initrd = Self.bigmemModules[1]
        let layout = try host.buildDom0(cfg)
        #expect(layout.allocStart == MFN(0x1a8000))  // "Dom0 alloc.: 00000001a8000000->00000001b0000000"
        // The physmap: L3, L2, then four order-9 blocks (the module's, the halves of its
        // 0x1bf800 o10, a split of its 0x1bf000 o11), as §3 shows them.
        #expect(
            layout.physmapFrames.map { $0.value } == [
                .machine(base: 0x1badf7), .machine(base: 0x1bfc6e), .machine(base: 0x1bae00),
                .machine(base: 0x1bfa00), .machine(base: 0x1bf800), .machine(base: 0x1bf600),
            ])
        let chunks = layout.chunks.map { "\(Hex.plain($0.mfn.rawValue)) o\($0.order)" }
        #expect(
            chunks.prefix(9) == [
                "0x100000 o18", "0x140000 o18", "0x40000 o18", "0x180000 o17", "0xa0000 o16", "0x1b0000 o14", "0x1b4000 o13",
                "0x1b6000 o12", "0x1bf000 o10",
            ])
        #expect(chunks.count == 14)
        #expect(chunks[11...12] == ["0x1badf8 o3", "0x1bfc68 o2"])
        // Not yet: chunks 9, 10 and 13. §3 has 0x1bad00 o6, 0x1bad40 o5 and 0x1bad71 o0 (the
        // boot left those of zone 21's region below the kernel module whole); the model gives
        // 0x1bacc0 o6, 0x1bad80 o5 and 0x1badb5 o0.
    }
}
