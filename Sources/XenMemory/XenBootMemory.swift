/// What Xen 4.17 (x86-64) does with machine memory from power-on until it builds dom0, as
/// `__start_xen` (`xen/arch/x86/setup.c`) does it: relocate itself to the top 2 MiB-aligned RAM
/// below 4 GiB, walk the E820 handing RAM outside its image and the boot modules to the boot
/// allocator (taking page tables for what the prebuilt 2 MiB mappings do not cover), take the
/// frame table in 2 MiB pieces, hand the regions to the heap (`end_boot_allocator`), then make
/// its own heap allocations: the boot stack, the M2P (`paging_init`), the unused BSS given back.
public struct XenBootMemory: Sendable {
    /// `xen_phys_start`, in frames.
    public var xenStart: UInt64
    /// The image's reserved frames (`_stext` … `__2M_rwdata_end`).
    public var image: Range<UInt64>
    /// The frame table's frames, in allocation order.
    public var frameTable: [Range<UInt64>]
    /// The boot allocator's regions in the order the heap got them.
    public var heapRegions: [Range<UInt64>]

    static let superpage: UInt64 = 0x200
    static let gigapage: UInt64 = 0x40000
    static let fourGiB: UInt64 = 0x100000
    /// Frames per `PDX_GROUP_COUNT` (2 MiB of 32-byte `page_info`).
    static let pdxGroup: UInt64 = 0x10000

    /// Boots `build` on a host with this E820 and these boot modules (machine frames, Xen's
    /// placement): the host with its heap as dom0's builder finds it.
    public static func boot(e820: E820Map, modules: [Range<UInt64>], build: XenBuild, dmaBits: Int? = nil) throws(XenHostError) -> (
        host: XenHost, memory: XenBootMemory
    ) {
        try XenHost.validate(e820: e820, bootRegions: [], inventory: [])
        let ram = e820.ramFrames
        let xenStart = try relocation(ram: ram, build: build)
        let image = (xenStart + superpage)..<(xenStart + build.imageEndPages)
        var boot = XenBootAllocator()
        var tables = PageTableMap(prebuilt: ram)
        // The RAM walk: E820 RAM without the modules and the image, from the lowest entry up.
        for entry in ram {
            for piece in (modules + [image]).reduce([entry], { $0.subtracting($1) }) {
                try walk(piece, &boot, &tables)
            }
        }
        for m in modules { try takeTables(tables.map(m), &boot) }
        for _ in 0..<build.earlyBootPages {
            guard boot.allocate(1, align: 1) != nil else { throw .bootMemoryExhausted(pages: 1) }
        }
        let frameTable = try allocateFrameTable(ram: ram, modules: modules, &boot)
        let regions = boot.heapInsertionOrder
        var host = try XenHost(e820: e820, dmaBits: dmaBits, bootRegions: regions, inventory: [])
        host.applyBootSteps(build, xenStart: xenStart, machineToPhysPieces: machineToPhysPieces(ram: ram))
        return (host, XenBootMemory(xenStart: xenStart, image: image, frameTable: frameTable, heapRegions: regions))
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
    static func walk(_ piece: Range<UInt64>, _ boot: inout XenBootAllocator, _ tables: inout PageTableMap) throws(XenHostError) {
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
        for _ in 0..<count where boot.allocate(1, align: 1) == nil { throw .bootMemoryExhausted(pages: 1) }
    }

    /// `init_frametable`: for each run of PDX groups holding RAM or modules, 32 bytes per frame
    /// in 2 MiB pieces (2 MiB-aligned), a smaller step only where a whole one would overrun
    /// the end by more than 4 pages.
    static func allocateFrameTable(ram: [Range<UInt64>], modules: [Range<UInt64>], _ boot: inout XenBootAllocator) throws(XenHostError) -> [Range<UInt64>] {
        let maxPage = ram.map(\.upperBound).max() ?? 0
        let groups = validGroups(ram + modules)
        let maxIndex = (maxPage + pdxGroup - 1) / pdxGroup
        var runs: [Range<UInt64>] = []
        for g in groups.sorted() where g < maxIndex {
            if let last = runs.last, last.upperBound == g { runs[runs.count - 1] = last.lowerBound..<(g + 1) } else { runs.append(g..<(g + 1)) }
        }
        var out: [Range<UInt64>] = []
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

    /// `paging_init`'s M2P: one order-9 block per 2 MiB of `max_page * 8` bytes, skipped where
    /// none of its 256 Ki frames is RAM (a PCI hole).
    static func machineToPhysPieces(ram: [Range<UInt64>]) -> Int {
        let maxPage = ram.map(\.upperBound).max() ?? 0
        let pieces = (maxPage * 8 + (2 << 20) - 1) >> 21
        let groups = validGroups(ram)
        return (0..<pieces).filter { i in (0..<UInt64(4)).contains { groups.contains(i * 4 + $0) } }.count
    }
}

/// Which parts of the direct map have page tables while Xen boots: the 2 MiB superpages
/// `__start_xen` prebuilt below 4 GiB, L1 tables of 2 MiB slots mapped in part, L2 tables of
/// 1 GiB slots above 4 GiB not mapped by a 1 GiB page.
struct PageTableMap {
    private var superpages: [Range<UInt64>]
    private var l1Slots = Set<UInt64>()
    private var l2Slots = Set<UInt64>()

    /// The prebuilt superpages: each RAM entry's 2 MiB-aligned part from 2 MiB to 4 GiB.
    init(prebuilt ram: [Range<UInt64>]) {
        superpages = ram.compactMap { r in
            let s = max((r.lowerBound + XenBootMemory.superpage - 1) & ~(XenBootMemory.superpage - 1), XenBootMemory.superpage)
            let e = min(r.upperBound & ~(XenBootMemory.superpage - 1), XenBootMemory.fourGiB)
            return s < e ? s..<e : nil
        }
    }

    /// `map_pages_to_xen` over `frames`: the page-table pages it allocates.
    mutating func map(_ frames: Range<UInt64>) -> Int {
        var tables = 0
        var s = frames.lowerBound
        while s < frames.upperBound {
            let slot = s & ~(XenBootMemory.superpage - 1)
            let slotEnd = min(slot + XenBootMemory.superpage, frames.upperBound)
            defer { s = slotEnd }
            if superpages.contains(where: { $0.contains(slot) }) || l1Slots.contains(slot) { continue }
            if slot >= XenBootMemory.fourGiB {
                let giga = s & ~(XenBootMemory.gigapage - 1)
                if giga == s && s + XenBootMemory.gigapage <= frames.upperBound {
                    superpages.append(giga..<(giga + XenBootMemory.gigapage))
                    s = giga + XenBootMemory.gigapage
                    continue
                }
                if l2Slots.insert(giga).inserted { tables += 1 }
            }
            if s == slot && slotEnd == slot + XenBootMemory.superpage {
                superpages.append(slot..<slotEnd)
            } else {
                l1Slots.insert(slot)
                tables += 1
            }
        }
        return tables
    }
}

extension XenHost {
    /// Xen's own heap operations of `build` between the heap's creation and dom0's build.
    mutating func applyBootSteps(_ build: XenBuild, xenStart: UInt64, machineToPhysPieces: Int) {
        var held: [(MFN, Int)] = []
        for step in build.heapSteps {
            switch step {
            case .allocate(let o, let bits):
                _ = heap.allocate(order: o, addressBits: bits, noScrub: true)
            case .allocateAndFree(let o, let bits):
                if let m = heap.allocate(order: o, addressBits: bits, noScrub: true) { heap.free(m, order: o, dirty: true) }
            case .hold(let o, let bits):
                if let m = heap.allocate(order: o, addressBits: bits, noScrub: true) { held.append((m, o)) }
            case .releaseHeld:
                if !held.isEmpty { let (m, o) = held.removeFirst(); heap.free(m, order: o, dirty: true) }
            case .machineToPhys:
                for _ in 0..<machineToPhysPieces { _ = heap.allocate(order: 9) }
            case .freeUnusedBSS:
                heap.insert((xenStart + build.unusedBSSPages.lowerBound)..<(xenStart + build.unusedBSSPages.upperBound))
            }
        }
    }
}
