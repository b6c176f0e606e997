/// What the PV dom0 builder needs to know besides the host.
public struct Dom0BuildConfig: Sendable {
    /// Xen's `dom0_mem=` option.
    public var memory = Dom0MemoryOption()
    /// `v_end - v_start`: the initial mapping (kernel, start info, page tables, stack, padding).
    /// Debian's 6.1 kernel needs 0x4c00000 bytes, an order-15 (128 MiB) initial block.
    public var initialMappingBytes: UInt64 = 0x4c0_0000
    /// The initrd module's machine frames, assigned to dom0 in place (not in the heap).
    public var initrd: Range<MFN>?
    /// The kernel module's machine frames (kept out of the heap until the kernel is loaded,
    /// then given back by `discard_initial_images`).
    public var kernelModule: Range<MFN>?
    /// Pages of the boot modules counted in `avail` (`initial_images_nrpages`).
    public var bootModulePages: UInt64 = 0
    /// Pages Xen reserves for further vCPU structures (`(max_vcpus - 1) << order(sizeof vcpu)`).
    public var vcpuReservePages: UInt64 = 0
    /// A debug build of Xen (`CONFIG_DEBUG`): scramble the layout as `!NDEBUG` does.
    public var debugBuild = false
    /// The kernel has `XEN_ELFNOTE_INIT_P2M`: the P2M list lives outside the initial mapping
    /// and is built by `setup_pv_physmap` from separate allocations.
    public var separatePhysmap = true
    /// Xen's own allocations between the initial block and the kernel's loading (dom0's other
    /// vCPUs: ``XenBootMemory/afterInitialBlock``).
    public var afterInitialBlock: [XenHeapStep] = []
    /// Defaults: Debian's release build and kernel.
    public init() {}
}

/// One `alloc_chunk` result: machine-contiguous frames given consecutive pfns.
public struct Dom0Chunk: Sendable, Hashable {
    /// First pfn (before the debug-build renumbering).
    public var pfn: PFN
    /// First machine frame.
    public var mfn: MFN
    /// Buddy order.
    public var order: Int
}

/// The result of building dom0: its P2M as Xen wrote it, and what Xen printed.
public struct Dom0Layout: Sendable {
    /// The domain with its initial P2M (`start_info.mfn_list`).
    public var domain: PVDomain
    /// `nr_pages`.
    public var nrPages: UInt64
    /// `max_pages` given to the domain.
    public var maxPages: UInt64
    /// First MFN of the initial block (`alloc_spfn`).
    public var allocStart: MFN
    /// One past its last MFN (`alloc_epfn`).
    public var allocEnd: MFN
    /// The physmap pages (`setup_pv_physmap`) in allocation order.
    public var physmapFrames: [Extent<P2MRun>]
    /// The chunks `alloc_chunk` handed out, in order.
    public var chunks: [Dom0Chunk]
    /// Xen's console lines about the layout (`PHYSICAL MEMORY ARRANGEMENT:` and what follows).
    public var log: [String]
}

/// A boot module dom0 is built with.
public enum Dom0Module: String, Sendable, Hashable {
    /// The kernel image.
    case kernel = "kernel module"
    /// The initial ramdisk.
    case initrd
}

/// Why dom0 could not be built (Xen panics, or the modules are not where Xen could have them).
public enum Dom0BuildError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The initial block could not be allocated.
    case initialBlock(order: Int)
    /// `Not enough RAM for DOM0 reservation`.
    case notEnoughRAM
    /// dom0's pages cannot hold the initial block and the initrd (`dom0_mem=max:0`, say).
    case tooSmallForKernel(pages: UInt64, needed: UInt64)
    /// A module's frames are not all E820 RAM.
    case moduleOutsideRAM(Dom0Module, frames: Range<MFN>)
    /// A module's frames overlap the heap's boot frames, the other module or frames a domain
    /// holds (`DOMID_IO`'s first MiB).
    case moduleInUse(Dom0Module, frames: Range<MFN>)

    /// What Xen would say, or what is wrong with the modules.
    public var description: String {
        switch self {
        case .initialBlock(let o):
            return "no free block of order \(o) (\(o < 52 ? "\((Page.size << UInt64(o)) >> 20) MiB" : "2^\(o + 12) bytes")) for dom0's initial mapping"
        case .notEnoughRAM: return "Not enough RAM for DOM0 reservation"
        case .tooSmallForKernel(let pages, let needed):
            return "Domain 0 allocation is too small for kernel image (\(pages) pages, the initial mapping and initrd need \(needed))"
        case .moduleOutsideRAM(let m, let r):
            return "the \(m.rawValue) (frames \(r.lowerBound)–\(r.upperBound)) is not inside the E820 RAM"
        case .moduleInUse(let m, let r):
            return
                "the \(m.rawValue) (frames \(r.lowerBound)–\(r.upperBound)) overlaps the heap's frames, the other module or frames a domain holds"
        }
    }

    /// Xen's panic line, in its words (the module refusals, for which Xen has none: the description).
    public var panicMessage: String {
        switch self {
        case .initialBlock: return "Not enough RAM for domain 0 allocation"
        case .notEnoughRAM: return "Not enough RAM for DOM0 reservation"
        case .tooSmallForKernel: return "Domain 0 allocation is too small for kernel image"
        case .moduleOutsideRAM, .moduleInUse: return description
        }
    }
}

extension XenHost {
    /// Builds a PV dom0 as Xen 4.17's `dom0_construct_pv` does (release build unless configured):
    /// size it with `dom0_compute_nr_pages`, allocate the initial power-of-two block (highest
    /// zone first), give the initrd its pfns in place, allocate the physmap pages, then fill the
    /// rest with `alloc_chunk` (largest power of two not above what is left, never above the
    /// previous chunk's order; smaller on failure; with the 2 MiB fallback without
    /// `MEMF_no_dma`). Every assignment sets both the P2M and the M2P.
    public mutating func buildDom0(_ config: Dom0BuildConfig = Dom0BuildConfig()) throws(Dom0BuildError) -> Dom0Layout {
        try checkModules(config)
        let avail = (heap.freePages + config.bootModulePages) &- config.vcpuReservePages
        let nrPages = config.memory.dom0Pages(available: avail)
        let maxPages = max(config.memory.dom0MaxPages(available: avail), nrPages)
        addDomain(DomainState(id: .dom0, isControl: true, isHardware: true, maxPages: maxPages))

        var writes = Dom0P2MWrites()
        // 1. The initial block, which with the initrd must fit in dom0's pages.
        let block = try allocateInitialBlock(config, nrPages: nrPages, &writes)
        var noTables = XenPageTableMap(prebuilt: [])
        apply(config.afterInitialBlock, tables: &noTables, ram: [])
        // 2. The initrd, in place.
        if let rd = config.initrd, !rd.isEmpty {
            assign(rd.lowerBound, count: rd.span, to: .dom0)
            writes.map(rd.lowerBound.rawValue, rd.span)
        }
        // The kernel module goes back to the heap (dirty, after every boot block).
        if let k = config.kernelModule, !k.isEmpty { heap.insert(k, dirty: true) }
        let toAllocate = nrPages > writes.nextPfn ? nrPages - writes.nextPfn : 0
        var log = [
            "PHYSICAL MEMORY ARRANGEMENT:",
            " Dom0 alloc.:   \(Hex.padded(block.lowerBound << Page.shift, 16))->\(Hex.padded(block.upperBound << Page.shift, 16))"
                + (toAllocate > 0 ? " (\(toAllocate) pages to be allocated)" : ""),
        ]
        if let rd = config.initrd, !rd.isEmpty {
            log.append(" Init. ramdisk: \(Hex.padded(rd.lowerBound.address.rawValue, 16))->\(Hex.padded(rd.upperBound.address.rawValue, 16))")
        }
        // 3. The physmap (`setup_pv_physmap`).
        let physmap = config.separatePhysmap ? try allocatePhysmap(nrPages: nrPages, &writes) : []
        // 4. The chunks.
        let chunks = try allocateChunks(
            nrPages: nrPages, maxPages: maxPages, blockPages: UInt64(block.count),
            debugBuild: config.debugBuild, &writes)
        let p2mList = writes.p2m().extents
        setM2P(from: p2mList)
        let p2m = GuestP2M(initialList: p2mList, nrPages: nrPages)
        return Dom0Layout(
            domain: PVDomain(id: .dom0, p2m: p2m), nrPages: nrPages, maxPages: maxPages,
            allocStart: MFN(block.lowerBound), allocEnd: MFN(block.upperBound), physmapFrames: physmap,
            chunks: chunks, log: log)
    }

    /// Step 1 of `dom0_construct_pv`: the initial power-of-two block for the kernel's initial
    /// mapping (highest zone first), mapped from pfn 0 (a debug build maps the part above the
    /// initial mapping in reverse). Its machine frames.
    private mutating func allocateInitialBlock(
        _ config: Dom0BuildConfig, nrPages: UInt64,
        _ writes: inout Dom0P2MWrites
    ) throws(Dom0BuildError) -> Range<UInt64> {
        let order = BitMath.pageOrder(bytes: config.initialMappingBytes)
        let needed = (UInt64(1) << UInt64(order)) + (config.initrd?.span ?? 0)
        guard needed <= nrPages else { throw .tooSmallForKernel(pages: nrPages, needed: needed) }
        guard let block = allocateAssigned(.dom0, order: order, addressBits: nil, noScrub: true) else {
            throw .initialBlock(order: order)
        }
        let blockPages: UInt64 = 1 << UInt64(order)
        let allocStart = block.rawValue, allocEnd = allocStart + blockPages
        let reverseStart = config.initialMappingBytes >> Page.shift
        if config.debugBuild && reverseStart + 1 < blockPages {
            writes.map(allocStart, reverseStart + 1)
            writes.append(((reverseStart + 1)..<blockPages).map { Extent(start: $0, count: 1, value: .machine(base: MFN(allocEnd - ($0 - reverseStart)))) })
            writes.nextPfn = blockPages
        } else {
            writes.map(allocStart, blockPages)
        }
        return allocStart..<allocEnd
    }

    /// Step 3, `setup_pv_physmap`: the L3, L2 and L1 tables, then the data pages of the P2M list.
    private mutating func allocatePhysmap(nrPages: UInt64, _ writes: inout Dom0P2MWrites) throws(Dom0BuildError) -> [Extent<P2MRun>] {
        let listPages = (nrPages * 8 + Page.offsetMask) >> Page.shift
        let superpages = listPages / 512
        let smallPages = listPages - superpages * 512
        let l1Tables = (smallPages + 511) / 512
        var plan: [Int] = [0, 0] + Array(repeating: 0, count: Int(l1Tables))
        plan += Array(repeating: 9, count: Int(superpages)) + Array(repeating: 0, count: Int(smallPages))
        var physmap: [Extent<P2MRun>] = []
        for o in plan {
            guard let m = allocateAssigned(.dom0, order: o, addressBits: nil, noScrub: true) else { throw .notEnoughRAM }
            let n: UInt64 = 1 << UInt64(o)
            physmap.append(Extent(start: writes.nextPfn, count: n, value: .machine(base: m)))
            writes.map(m.rawValue, n)
        }
        return physmap
    }

    /// Step 4: the rest of dom0's pages with ``allocChunk(left:lastOrder:noDMA:maxPages:)``; a
    /// debug build numbers them from the top down (`pfn = nr_pages - 1 - (pfn - (alloc_epfn -
    /// alloc_spfn))`), one run per page.
    private mutating func allocateChunks(
        nrPages: UInt64, maxPages: UInt64, blockPages: UInt64, debugBuild: Bool,
        _ writes: inout Dom0P2MWrites
    ) throws(Dom0BuildError) -> [Dom0Chunk] {
        var chunks: [Dom0Chunk] = []
        var lastOrder = XenHeap.maxOrder
        var noDMA = true
        while writes.nextPfn < nrPages {
            let pfn = writes.nextPfn, left = nrPages - pfn
            guard let (m, o) = allocChunk(left: left, lastOrder: &lastOrder, noDMA: &noDMA, maxPages: maxPages) else {
                throw .notEnoughRAM
            }
            let n = min(UInt64(1) << UInt64(o), left)
            chunks.append(Dom0Chunk(pfn: PFN(pfn), mfn: m, order: o))
            if debugBuild {
                // Written here lowest pfn first, the chunk's last frame.
                let low = nrPages - 1 - (pfn + n - 1 - blockPages)
                writes.append((0..<n).map { Extent(start: low + $0, count: 1, value: .machine(base: MFN(m.rawValue + n - 1 - $0))) })
                writes.nextPfn += n
            } else {
                writes.map(m.rawValue, n)
            }
        }
        return chunks
    }

    /// Sets the M2P of every frame the P2M maps, in machine-frame order (a debug build's frames
    /// go down as its pfns go up): one contiguous write per run of adjacent frames.
    private mutating func setM2P(from p2mList: [Extent<P2MRun>]) {
        var m2pRuns = p2mList.compactMap { r -> (mfn: UInt64, count: UInt64, pfn: UInt64)? in
            if case .machine(let b) = r.value { return (b.rawValue, r.count, r.start) }
            return nil
        }
        m2pRuns.sort { $0.mfn < $1.mfn }
        var stretch: [Extent<M2PRun>] = []
        for r in m2pRuns {
            if let last = stretch.last, last.end != r.mfn { m2p.set(contiguous: stretch); stretch = [] }
            stretch.append(Extent(start: r.mfn, count: r.count, value: .pfn(base: PFN(r.pfn))))
        }
        m2p.set(contiguous: stretch)
    }

    /// The kernel module and the initrd must be E820 RAM that neither the heap, nor the other
    /// module, nor a domain holds.
    private func checkModules(_ config: Dom0BuildConfig) throws(Dom0BuildError) {
        let ram = e820.mergedRAMFrames
        var claimed = bootHeapFrames.map(\.raw)
        for (kind, given) in [(Dom0Module.kernel, config.kernelModule), (.initrd, config.initrd)] {
            guard let module = given, !module.isEmpty else { continue }
            let frames = module.raw
            guard ram.covers(module) else { throw .moduleOutsideRAM(kind, frames: module) }
            let held = owners.extents(start: frames.lowerBound, count: module.span)
            guard held.isEmpty, !claimed.contains(where: { $0.overlaps(frames) }) else { throw .moduleInUse(kind, frames: module) }
            claimed.append(frames)
        }
    }

    /// `alloc_chunk(d, max_pages)`.
    private mutating func allocChunk(left: UInt64, lastOrder: inout Int, noDMA: inout Bool, maxPages: UInt64) -> (MFN, Int)? {
        var order = BitMath.ceilLog2(left)
        if order > lastOrder { order = lastOrder } else if left & (left - 1) != 0 { order -= 1 }
        var page: MFN?
        while true {
            page = heap.allocate(order: order, addressBits: nil, noDMA: noDMA, noScrub: true)
            if page != nil || order == 0 { break }
            order -= 1
        }
        guard var found = page else {
            guard noDMA else { return nil }
            lastOrder = 21 - Int(Page.shift)
            noDMA = false
            return allocChunk(left: left, lastOrder: &lastOrder, noDMA: &noDMA, maxPages: maxPages)
        }
        lastOrder = order
        var freeOrder = order
        if !noDMA {
            // A smaller chunk at a higher address is preferred.
            var o = order
            while o > 0 {
                o -= 1
                if (domains[.dom0]?.totPages ?? 0) + (1 << UInt64(o)) > maxPages { continue }
                guard let pg2 = heap.allocate(order: o, addressBits: nil, noScrub: true) else { continue }
                if pg2 > found {
                    heap.free(found, order: freeOrder, dirty: false)
                    found = pg2
                    freeOrder = o
                } else {
                    heap.free(pg2, order: o, dirty: false)
                }
            }
        }
        assign(found, count: 1 << UInt64(freeOrder), to: .dom0)
        return (found, freeOrder)
    }
}

/// Dom0's P2M writes in Xen's order, each a run or consecutive runs of one allocation, and the
/// next pfn to map.
private struct Dom0P2MWrites {
    /// The writes so far.
    var runs: [[Extent<P2MRun>]] = []
    /// The first pfn no write has mapped yet.
    var nextPfn: UInt64 = 0

    /// Maps the next `count` pfns to the machine frames from `mfn`.
    mutating func map(_ mfn: UInt64, _ count: UInt64) {
        runs.append([Extent(start: nextPfn, count: count, value: .machine(base: MFN(mfn)))])
        nextPfn += count
    }

    /// Records runs written out of pfn order (a debug build's reversed pages); `nextPfn` is the caller's.
    mutating func append(_ extents: [Extent<P2MRun>]) { runs.append(extents) }

    /// The P2M the writes make, later writes over earlier ones.
    func p2m() -> ExtentMap<P2MRun> {
        var map = ExtentMap<P2MRun>()
        for w in runs { map.set(contiguous: w) }
        return map
    }
}
