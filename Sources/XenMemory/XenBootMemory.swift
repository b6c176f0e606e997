/// What Xen 4.17 (x86-64) does with machine memory from power-on until it builds dom0, as
/// `__start_xen` (`xen/arch/x86/setup.c`) does it: relocate itself to the top 2 MiB-aligned RAM
/// below 4 GiB, walk the E820 handing RAM outside its image and the boot modules to the boot
/// allocator (taking page tables for what the prebuilt mappings do not cover), take the frame
/// table in 2 MiB pieces, hand the regions to the heap (`end_boot_allocator`), then make its
/// own heap allocations (``XenBootHost/heapSteps(build:)``).
public struct XenBootMemory: Sendable {
    /// `xen_phys_start`'s frame.
    public var xenStart: MFN
    /// The image's reserved frames (`_stext` … `__2M_rwdata_end`), without `ebmalloc_mem`.
    public var image: [Range<MFN>]
    /// The frame table's frames, in allocation order.
    public var frameTable: [Range<MFN>]
    /// The boot allocator's regions in the order the heap got them.
    public var heapRegions: [Range<MFN>]
    /// The blocks Xen took from its heap before dom0's builder started, in order.
    public var heapAllocations: [XenBootAllocation]
    /// What Xen allocates between dom0's initial block and loading its kernel.
    public var afterInitialBlock: [XenHeapStep]

    static let superpage = XenPageTableMap.superpage
    static let fourGiB = XenPageTableMap.fourGiB
    /// Frames per `PDX_GROUP_COUNT` (2 MiB of 32-byte `page_info`).
    static let pdxGroup: UInt64 = 0x10000

    /// Boots `build` on a host with this E820, these boot modules (machine frames, Xen's
    /// placement) and CPUs: the host with its heap as dom0's builder finds it.
    public static func boot(
        e820: HostE820, modules moduleFrames: [Range<MFN>], build: XenBuild, host: XenBootHost, dmaBits: Int? = nil
    ) throws(XenHostError) -> (host: XenHost, memory: XenBootMemory) {
        let modules = moduleFrames.map(\.raw)
        try XenHost.validate(e820: e820, bootRegions: [], inventory: [])
        let ram = e820.ramFrames.map(\.raw)
        let xenStart = try relocation(ram: ram, build: build)
        let image = [
            (xenStart + superpage)..<(xenStart + build.bootMallocPages.lowerBound),
            (xenStart + build.bootMallocPages.upperBound)..<(xenStart + build.imageEndPages),
        ]
        var boot = XenBootAllocator()
        var tables = XenPageTableMap(prebuilt: ram)
        var acpiDone = false
        // The RAM walk: E820 RAM without the modules and the image, from the lowest entry up;
        // the first entry above 4 GiB makes `acpi_boot_table_init` run first.
        for entry in ram {
            for piece in (modules + image).reduce([entry], { $0.subtracting($1) }) {
                if !acpiDone && max(piece.lowerBound, 0x100) >= fourGiB {
                    try take(build.acpiRootTablePages, &boot)
                    acpiDone = true
                }
                try walk(piece, &boot, &tables)
            }
        }
        for m in modules { try takeTables(tables.map(m), &boot) }
        try takeTables(build.imageRemapTablePages, &boot)
        let frameTable = try allocateFrameTable(ram: ram, modules: modules, &boot)
        if !acpiDone { try take(build.acpiRootTablePages, &boot) }
        let regions = boot.heapInsertionOrder.map { Range<MFN>(raw: $0) }
        var xen = try XenHost(e820: e820, dmaBits: dmaBits, bootRegions: regions, inventory: [])
        let taken = xen.apply(host.heapSteps(build: build), tables: &tables, ram: ram)
        let memory = XenBootMemory(
            xenStart: MFN(xenStart), image: image.map { Range(raw: $0) }, frameTable: frameTable.map { Range(raw: $0) },
            heapRegions: regions, heapAllocations: taken,
            afterInitialBlock: host.afterInitialBlock)
        return (xen, memory)
    }

    /// Where Xen relocates itself: the top `reloc_size` of the highest RAM entry below 4 GiB,
    /// cut to 2 MiB boundaries. Xen moves itself before the boot modules, which it then places
    /// below itself, so their final frames do not constrain it.
    static func relocation(ram: [Range<UInt64>], build: XenBuild) throws(XenHostError) -> UInt64 {
        for r in ram.reversed() {
            let s = max((r.lowerBound + superpage - 1) & ~(superpage - 1), superpage)
            let e = r.upperBound & ~(superpage - 1)
            if e <= fourGiB && e >= s + build.relocationPages { return e - build.relocationPages }
        }
        throw .noRoomForXen(pages: build.relocationPages)
    }

    /// One RAM piece through `__start_xen`'s walk: the first MiB stays out; the part below 2 MiB,
    /// the 2 MiB-aligned middle and the unaligned ends become boot regions, ends that no
    /// mapping covers yet getting page tables from the boot allocator first.
    static func walk(_ piece: Range<UInt64>, _ boot: inout XenBootAllocator, _ tables: inout XenPageTableMap) throws(XenHostError) {
        let s = max(piece.lowerBound, 0x100), e = piece.upperBound
        guard s < e else { return }
        var mapS = max(s, superpage), mapE = min(e, fourGiB)
        boot.add(s..<min(mapS, e))
        let walked = mapS
        if walked < mapE {
            mapS = (walked + superpage - 1) & ~(superpage - 1)
            mapE &= ~(superpage - 1)
            if mapS < mapE { boot.add(mapS..<mapE) }
        }
        if mapS > mapE { mapS = walked; mapE = walked }
        if mapE < e {
            try takeTables(tables.map(mapE..<e), &boot)
            boot.add(mapE..<e)
        }
        if walked < mapS {
            try takeTables(tables.map(walked..<mapS), &boot)
            boot.add(walked..<mapS)
        }
    }

    static func takeTables(_ count: Int, _ boot: inout XenBootAllocator) throws(XenHostError) {
        for _ in 0..<count { try take(1, &boot) }
    }

    static func take(_ pages: UInt64, _ boot: inout XenBootAllocator) throws(XenHostError) {
        guard boot.allocate(pages, align: 1) != nil else { throw .bootMemoryExhausted(pages: pages) }
    }

    /// `init_frametable`: for each run of PDX groups holding RAM or modules, 32 bytes per frame
    /// in 2 MiB pieces (2 MiB-aligned), a smaller step only where a whole one would overrun
    /// the end by more than 4 pages; mapping a piece into a GiB of the frame table's virtual
    /// range not mapped yet takes an L2 table (`virt_to_xen_l2e`).
    static func allocateFrameTable(ram: [Range<UInt64>], modules: [Range<UInt64>], _ boot: inout XenBootAllocator) throws(XenHostError) -> [Range<UInt64>] {
        let maxPage = ram.map(\.upperBound).max() ?? 0
        let groups = validGroups(ram + modules)
        let maxIndex = (maxPage + pdxGroup - 1) / pdxGroup
        var runs: [Range<UInt64>] = []
        for g in groups.sorted() where g < maxIndex {
            if let last = runs.last, last.upperBound == g { runs[runs.count - 1] = last.lowerBound..<(g + 1) } else { runs.append(g..<(g + 1)) }
        }
        var out: [Range<UInt64>] = []
        var mappedGiB = Set<UInt64>()
        for (i, run) in runs.enumerated() {
            // Bytes of page_info: the last run ends at max_pdx.
            let start = run.lowerBound * pdxGroup * 32
            let end = (i == runs.count - 1 ? maxPage : run.upperBound * pdxGroup) * 32
            var s = start
            while s < end {
                var step = superpage
                while step > 0 && s + (step << Page.shift) > end + (4 << Page.shift) { step >>= 9 }
                guard step > 0, let m = boot.allocate(step, align: step) else { throw .bootMemoryExhausted(pages: superpage) }
                out.append(m..<(m + step))
                if mappedGiB.insert(s >> 30).inserted { try take(1, &boot) }
                s += step << Page.shift
            }
        }
        return out
    }

    /// The PDX groups (64 Ki frames each) holding any of these frames.
    static func validGroups(_ frames: [Range<UInt64>]) -> Set<UInt64> {
        var groups = Set<UInt64>()
        for r in frames where !r.isEmpty {
            for g in (r.lowerBound / pdxGroup)...((r.upperBound - 1) / pdxGroup) { groups.insert(g) }
        }
        return groups
    }

    /// `paging_init`'s M2P: for each 2 MiB of `max_page * 8` bytes, whether any of the 256 Ki
    /// frames it covers is RAM (a PCI hole's have none and get no block).
    static func machineToPhysPieces(ram: [Range<UInt64>]) -> [Bool] {
        let maxPage = ram.map(\.upperBound).max() ?? 0
        let pieces = (maxPage * 8 + (2 << 20) - 1) >> 21
        let groups = validGroups(ram)
        return (0..<pieces).map { i in (0..<UInt64(4)).contains { groups.contains(i * 4 + $0) } }
    }
}
