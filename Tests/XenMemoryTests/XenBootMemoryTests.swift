import Testing

@testable import XenMemory

/// Xen 4.17's own boot-time use of memory (XenBootMemory) against real boots of Debian's
/// 4.17.7 build under QEMU (`-machine pc -cpu max,-smap`): every block `alloc_heap_pages`
/// returned between `end_boot_allocator` and dom0's initial block, as a debugger on QEMU's
/// gdbstub recorded them (docs/memory-model.md, "How this was read"), on the default host of
/// `fixtures/real-xen-default` (2 GiB, 2 CPUs), the same with 1 CPU, and the 6 GiB `bigmem`
/// host (4 GiB dom0 across the PCI hole).
@Suite("Xen 4.17 boot memory")
struct XenBootMemoryTests {
    static let defaultModules: [Range<MFN>] = [Range(raw: 0x7a7f7..<0x7f66f), Range(raw: 0x7f66f..<0x7fa00)]
    static let bigmemModules: [Range<MFN>] = [Range(raw: 0x1badf7..<0x1bfc6f), Range(raw: 0x1bfc6f..<0x1c0000)]

    /// The traced boot of the default host (`-m 2048 -smp 2`).
    static let defaultTrace = """
        0x7ffd8 o0 0x7fda7 o0 0x7fd70 o0 0x7ffd0 o3 0x7a7f6 o0 0x79400 o9 0x7fc73 o0 0x7fc72 o0 0x79200 o9 0x7a7f4 o1 \
        0x7fc77 o0 0x7fc76 o0 0x7fc75 o0 0x7fc74 o0 0x7a7f3 o0 0x7a7f2 o0 0x7a7f1 o0 0x7fd40 o5 0x7a7f0 o0 0x7fda8 o3 \
        0x7fd5b o0 0x7fd5a o0 0x7fdaf o0 0x7fdae o0 0x7fd5f o0 0x7fc7c o2 0x7fc78 o2 0x7fd5e o0 0x7fd5d o0 0x7ffcc o2 \
        0x7fd5c o0 0x7ffcb o0 0x7ffc0 o3 0x7ffca o0 0x7ffc9 o0 0x7ffc8 o0 0x7fdbf o0 0x7fdbe o0 0x7fdb8 o2 0x7fdb4 o2 \
        0x7fdb0 o2 0x7fdbd o0 0x7fdbc o0 0x7fd6f o0 0x7fd6e o0 0x7fd6d o0 0x7fd6c o0 0x7fd6b o0 0x7fd6a o0 0x7fd69 o0 \
        0x7fd68 o0 0x7fd67 o0 0x7fd66 o0 0x7fd65 o0 0x7fd64 o0 0x7fd63 o0 0x7fd62 o0 0x7fd61 o0 0x7fd60 o0 0x7a7ef o0 \
        0x7a7ee o0 0x7a7ed o0 0x7a7ec o0 0x7a7e0 o3
        """

    /// The same host booted with one CPU (`-smp 1`): a smaller irq_desc array, no AP.
    static let oneCPUTrace = """
        0x7ffd8 o0 0x7fda7 o0 0x7fd70 o0 0x7ffd0 o3 0x7a7f6 o0 0x79400 o9 0x7fc73 o0 0x7fc72 o0 0x79200 o9 0x7a7f4 o1 \
        0x7fc77 o0 0x7fc76 o0 0x7fc75 o0 0x7fc74 o0 0x7a7f3 o0 0x7a7f2 o0 0x7a7f1 o0 0x7ffc0 o4 0x7a7f0 o0 0x7fda8 o3 \
        0x7ffcd o0 0x7ffcf o0 0x7ffce o0 0x7fdaf o0 0x7fdae o0 0x7fc7c o2 0x7fc78 o2 0x7fdbf o0 0x7fdbe o0 0x7fdbd o0 \
        0x7fdb8 o2 0x7fdb4 o2 0x7fdb0 o2 0x7fdbc o0 0x7fd6f o0 0x7fd6e o0 0x7fd6d o0 0x7fd6c o0 0x7fd6b o0 0x7fd6a o0 \
        0x7fd69 o0 0x7fd68 o0 0x7fd67 o0 0x7fd66 o0 0x7fd65 o0 0x7fd64 o0 0x7fd63 o0 0x7fd62 o0 0x7fd61 o0 0x7fd60 o0 \
        0x7a7ef o0 0x7a7ee o0 0x7a7ed o0 0x7a7ec o0 0x7a7eb o0 0x7a7e0 o3
        """

    /// The traced boot of the 6 GiB host (`-m 6144 -smp 2`): the BSP's stack shatters a 1 GiB
    /// and a 2 MiB mapping (two tables), the M2P skips the PCI hole, `shared_info` comes from
    /// below 4 GiB (`MEMF_bits(32)`).
    static let bigmemTrace = """
        0x1badf2 o0 0x1badf1 o0 0x1badf0 o0 0x1bade8 o3 0x1bade7 o0 0x1bade6 o0 0x1bade5 o0 0x1b7a00 o9 0x1bade4 o0 \
        0x1bade3 o0 0x1b7800 o9 0x1b7600 o9 0x1b7400 o9 0x1b7200 o9 0x1b7000 o9 0x1bade0 o1 0x1bade2 o0 0x1baddf o0 \
        0x1badde o0 0x1baddd o0 0x1baddc o0 0x1baddb o0 0x1badda o0 0x1bada0 o5 0x1badd9 o0 0x1badd0 o3 0x1badd8 o0 \
        0x1badbb o0 0x1badba o0 0x1badd7 o0 0x1badd6 o0 0x1badbc o2 0x1badcc o2 0x1badcb o0 0x1badca o0 0x1badc4 o2 \
        0x1badc9 o0 0x1badc8 o0 0x1bad98 o3 0x1badc3 o0 0x1badc2 o0 0x1badc1 o0 0x1badc0 o0 0x1bad97 o0 0x1bad90 o2 \
        0x1bad8c o2 0x1bad88 o2 0x1bad96 o0 0x1bad95 o0 0xbfda7 o0 0x1bad94 o0 0x1bad87 o0 0x1bad86 o0 0x1bad85 o0 \
        0x1bad84 o0 0x1bad83 o0 0x1bad82 o0 0x1bad81 o0 0x1bad80 o0 0x1bad7f o0 0x1bad7e o0 0x1bad7d o0 0x1bad7c o0 \
        0x1bad7b o0 0x1bad7a o0 0x1bad79 o0 0x1bad78 o0 0x1bad77 o0 0x1bad76 o0 0x1bad68 o3
        """

    static func taken(_ m: XenBootMemory) -> String {
        m.heapAllocations.map { "\($0.mfn.map { Hex.plain($0.rawValue) } ?? "none") o\($0.order)" }.joined(separator: " ")
    }

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

    @Test("default host: ebmalloc_mem is a boot region, the regions and every block Xen takes are the traced boot's")
    func defaultHost() throws {
        let (host, m) = try XenBootMemory.boot(
            e820: .qemuPC(ramBytes: 2 << 30), modules: Self.defaultModules, build: .debian4_17_7, host: XenBootHost(cpus: 2))
        #expect(m.xenStart == MFN(0x7f800))  // "New Xen image base address: 0x7f800000"
        #expect(m.image.map(\.raw) == [0x7fa00..<0x7fc72, 0x7fd72..<0x7fda7])
        #expect(m.frameTable.count == 8)
        #expect(m.frameTable.first?.raw == 0x7a400..<0x7a600)
        #expect(m.frameTable.last?.raw == 0x79600..<0x79800)
        // init_heap_pages as traced: 0x100+0x100, 0x7fe00+0x1d9, 0x7fda7+0x59, 0x7fc72+0xff,
        // 0x7a600+0x1f7, 0x200+0x79400 (an L1, two image-remap tables, the frame table's L2 and
        // the ACPI table list came out of the boot allocator).
        #expect(
            m.heapRegions.map(\.raw) == [0x100..<0x200, 0x7fe00..<0x7ffd9, 0x7fda7..<0x7fe00, 0x7fc72..<0x7fd71, 0x7a600..<0x7a7f7, 0x200..<0x79600])
        #expect(Self.taken(m) == Self.defaultTrace)
        #expect(host.heap.blocks(zone: 19, order: 9) == [MFN(0x79000)])  // the M2P took 0x79400 and 0x79200
        #expect(m.afterInitialBlock.count == 4)  // dom0's vCPU 1: 0x7a7eb, 0x7a7ea, 0x7a7e9, 0x7a7e8 as traced
    }

    @Test("one CPU: irq_desc[208] in an order-4 block, no AP, the traced boot's blocks")
    func oneCPU() throws {
        let (_, m) = try XenBootMemory.boot(
            e820: .qemuPC(ramBytes: 2 << 30), modules: Self.defaultModules, build: .debian4_17_7, host: XenBootHost(cpus: 1))
        #expect(XenBootHost(cpus: 1).irqs == 208)  // "IRQ limits: 24 GSI, 184 MSI/MSI-X"
        #expect(XenBootHost(cpus: 2).irqs == 416)  // "IRQ limits: 24 GSI, 392 MSI/MSI-X"
        #expect(XenBootHost(cpus: 2).consoleRingOrder == 2)  // "Allocated console ring of 16 KiB."
        #expect(XenBootHost(cpus: 4).consoleRingOrder == 3)  // 32 KiB with 4 CPUs and loglvl=all
        #expect(Self.taken(m) == Self.oneCPUTrace)
        #expect(m.afterInitialBlock.isEmpty)
    }

    @Test("bigmem host: ACPI's table list during the walk, tables above 4 GiB, the traced boot's blocks, Dom0 alloc. 0x1a8000000")
    func bigmemHost() throws {
        let e820 = HostE820.qemuPC(ramBytes: 6 << 30)
        // 0xc0000-0xfffff: the PCI hole
        #expect(XenBootMemory.machineToPhysPieces(ram: e820.ramFrames.map(\.raw)) == [true, true, true, false, true, true, true])
        var (host, m) = try XenBootMemory.boot(e820: e820, modules: Self.bigmemModules, build: .debian4_17_7, host: XenBootHost(cpus: 2))
        #expect(m.xenStart == MFN(0xbf800))  // "New Xen image base address: 0xbf800000"
        #expect(m.frameTable.count == 24)
        #expect(m.frameTable.first?.raw == 0x1baa00..<0x1bac00)
        #expect(m.frameTable.last?.raw == 0x1b7c00..<0x1b7e00)
        // init_heap_pages as traced.
        #expect(
            m.heapRegions.map(\.raw) == [
                0x100..<0x200, 0x1bac00..<0x1badf3, 0x100000..<0x1b7c00, 0xbfe00..<0xbffda, 0xbfda7..<0xbfe00,
                0xbfc72..<0xbfd71, 0x200..<0xbfa00,
            ])
        #expect(Self.taken(m) == Self.bigmemTrace)
        var cfg = Dom0BuildConfig()
        cfg.memory = try Dom0MemoryOption(parsing: "4096M,max:4096M")
        cfg.kernelModule = Self.bigmemModules[0]
        cfg.initrd = Self.bigmemModules[1]
        cfg.afterInitialBlock = m.afterInitialBlock
        let layout = try host.buildDom0(cfg)
        #expect(layout.allocStart == MFN(0x1a8000))  // "Dom0 alloc.: 00000001a8000000->00000001b0000000"
        // Every chunk as the traced boot allocated it and the captured P2M holds it
        // (Tests/Fixtures/real-captures/bigmem-1/dom0-p2m.txt.xz), the small ones from what Xen's
        // boot left in zone 21 included.
        #expect(
            layout.chunks.map { "\(Hex.plain($0.mfn.rawValue)) o\($0.order)" } == [
                "0x100000 o18", "0x140000 o18", "0x40000 o18", "0x180000 o17", "0xa0000 o16", "0x1b0000 o14", "0x1b4000 o13",
                "0x1b6000 o12", "0x1bf000 o10", "0x1bad00 o6", "0x1bad40 o5", "0x1badf8 o3", "0x1bfc68 o2", "0x1bad71 o0",
            ])
    }
}
