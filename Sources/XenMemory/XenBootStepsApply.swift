/// One block Xen took from its heap while it booted, and the step that took it.
public struct XenBootAllocation: Sendable, Hashable {
    /// The step (``XenHeapStep``) that made it.
    public var step: XenHeapStep
    /// Its first frame, nil when the heap had no block for it.
    public var mfn: MFN?
    /// Its order.
    public var order: Int
}

extension XenHost {
    /// Makes Xen's own heap operations `steps` on this heap, in order; `tables` is the direct
    /// map's state (for the stacks' guard pages), `ram` the host's RAM (for the M2P). The
    /// blocks taken, in order.
    @discardableResult
    mutating func apply(_ steps: [XenHeapStep], tables: inout XenPageTableMap, ram: [Range<UInt64>]) -> [XenBootAllocation] {
        var out: [XenBootAllocation] = []
        for step in steps {
            func take(_ order: Int, noScrub: Bool, bits: Int? = nil) -> MFN? {
                let m = heap.allocate(order: order, addressBits: bits, noScrub: noScrub)
                out.append(XenBootAllocation(step: step, mfn: m, order: order))
                return m
            }
            switch step {
            case .allocate(let o, let bits, _): _ = take(o, noScrub: true, bits: bits)
            case .table: _ = take(0, noScrub: false)
            case .poolPage: _ = take(0, noScrub: true)
            case .xmalloc(let pages, _):
                if let m = take(BitMath.ceilLog2(max(pages, 1)), noScrub: true) { freeTail(m, pages) }
            case .xmallocAndFree(let pages, _):
                if let m = take(BitMath.ceilLog2(max(pages, 1)), noScrub: true) {
                    freeTail(m, pages)
                    freeWholePages(m, pages)
                }
            case .stack:
                if let m = take(3, noScrub: true) {
                    for _ in 0..<tables.guardStack(m.rawValue) { _ = take(0, noScrub: false) }
                }
            case .machineToPhys:
                for (order, noScrub) in Self.machineToPhysBlocks(XenBootMemory.machineToPhysPieces(ram: ram)) {
                    _ = take(order, noScrub: noScrub)
                }
            }
        }
        return out
    }

    /// `xmalloc_whole_pages`: after the smallest order holding `pages`, the tail beyond them
    /// freed in the aligned blocks its address bits give.
    private mutating func freeTail(_ m: MFN, _ pages: UInt64) {
        let order = BitMath.ceilLog2(max(pages, 1))
        var p = pages
        for i in 0..<order where p & (1 << UInt64(i)) != 0 {
            heap.free(MFN(m.rawValue + p), order: i, dirty: true)
            p += 1 << UInt64(i)
        }
    }

    /// `xfree` of whole pages: the power-of-two parts of `pages`, the smallest (highest) first.
    private mutating func freeWholePages(_ m: MFN, _ pages: UInt64) {
        var size = pages
        for i in 0..<64 where size & (1 << UInt64(i)) != 0 {
            size -= 1 << UInt64(i)
            heap.free(MFN(m.rawValue + size), order: i, dirty: true)
            if size == 0 { break }
        }
    }

    /// `paging_init`'s blocks (order, `MEMF_no_scrub`): the read-only M2P's L3, then per 2 MiB
    /// piece covering RAM an order-9 block, an L2 for each GiB of the writable M2P first
    /// mapped (`map_pages_to_xen`), and a read-only L2 every 512 pieces
    /// (`alloc_mapped_pagetable`); none of them `MEMF_no_scrub`.
    static func machineToPhysBlocks(_ pieces: [Bool]) -> [(Int, Bool)] {
        var out = [(0, false)]
        var mappedGiB = Set<Int>()
        for (i, valid) in pieces.enumerated() {
            if valid {
                out.append((9, false))
                if mappedGiB.insert(i >> 9).inserted { out.append((0, false)) }
            }
            if i % 512 == 0 { out.append((0, false)) }
        }
        return out
    }
}
