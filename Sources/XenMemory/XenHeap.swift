/// Xen's buddy heap for domain memory (`xen/common/page_alloc.c`, 4.17).
///
/// Free blocks are naturally aligned power-of-two extents kept on one list per (zone, order),
/// where the zone of a block is the bit length of its first MFN. Allocation scans zones from the
/// highest allowed down and, within a zone, orders from the requested one up, taking list heads;
/// a larger block is halved, the lower halves going back and the highest sub-block returned.
/// Blocks that need scrubbing ("dirty", e.g. everything freed during boot with `bootscrub=idle`
/// and the inputs of `XENMEM_exchange`) are appended at list tails, clean ones at the heads, and a
/// request without `MEMF_no_scrub` first looks for clean blocks in every zone before taking dirty
/// ones — all exactly as 4.17 does it. The idle-time scrubber is not modelled.
public struct XenHeap: Sendable {
    /// `MAX_ORDER` on x86 (`2 * PAGETABLE_ORDER`).
    public static let maxOrder = 18
    /// `NR_ZONES` = `PADDR_BITS - PAGE_SHIFT + 1` = 41 on x86.
    public static let zoneCount = 41
    /// One past the highest frame the zones cover: frame numbers of at most 40 bits, memory
    /// below 2^52 bytes (`PADDR_BITS`). Hosts are checked against it (``XenHost/validate``).
    public static let frameLimit = MFN(1 << 40)
    static let none = UInt64.max
    /// `INVALID_DIRTY_IDX`.
    static let clean = UInt64.max

    struct Node: Sendable {
        var order: Int
        var firstDirty: UInt64
        var prev: UInt64
        var next: UInt64
    }

    private var nodes: [UInt64: Node] = [:]
    private var heads = [UInt64](repeating: XenHeap.none, count: XenHeap.zoneCount * (XenHeap.maxOrder + 1))
    private var tails = [UInt64](repeating: XenHeap.none, count: XenHeap.zoneCount * (XenHeap.maxOrder + 1))
    /// Free pages per zone.
    public private(set) var freePagesByZone = [UInt64](repeating: 0, count: XenHeap.zoneCount)
    /// `dma_bitsize` (boot option `dma_bits=`); nil when there is no DMA zone (single NUMA node).
    public var dmaBits: Int?

    /// An empty heap.
    public init(dmaBits: Int? = nil) { self.dmaBits = dmaBits }

    /// Total free pages.
    public var freePages: UInt64 { freePagesByZone.reduce(0, +) }

    /// `bits_to_zone(b)`.
    public static func zone(forAddressBits b: Int) -> Int { b < Int(Page.shift) + 1 ? 1 : b - Int(Page.shift) }

    @inline(__always) private func slot(_ zone: Int, _ order: Int) -> Int { zone * (XenHeap.maxOrder + 1) + order }

    // MARK: Lists

    private mutating func append(_ mfn: UInt64, order: Int, firstDirty: UInt64) {
        let z = MFN(mfn).zone, s = slot(z, order)
        if firstDirty == XenHeap.clean {
            let h = heads[s]
            nodes[mfn] = Node(order: order, firstDirty: firstDirty, prev: XenHeap.none, next: h)
            if h != XenHeap.none { nodes[h]!.prev = mfn } else { tails[s] = mfn }
            heads[s] = mfn
        } else {
            let t = tails[s]
            nodes[mfn] = Node(order: order, firstDirty: firstDirty, prev: t, next: XenHeap.none)
            if t != XenHeap.none { nodes[t]!.next = mfn } else { heads[s] = mfn }
            tails[s] = mfn
        }
        freePagesByZone[z] += 1 << UInt64(order)
    }

    @discardableResult
    private mutating func unlink(_ mfn: UInt64) -> Node {
        let n = nodes.removeValue(forKey: mfn)!
        let z = MFN(mfn).zone, s = slot(z, n.order)
        if n.prev != XenHeap.none { nodes[n.prev]!.next = n.next } else { heads[s] = n.next }
        if n.next != XenHeap.none { nodes[n.next]!.prev = n.prev } else { tails[s] = n.prev }
        freePagesByZone[z] -= 1 << UInt64(n.order)
        return n
    }

    /// Moves the head of list `s` to its tail (`page_list_del` + `page_list_add_tail`) by
    /// relinking it: the block stays where it is in `nodes`, and a one-block list is left alone.
    private mutating func rotateHead(_ s: Int) {
        let h = heads[s], t = tails[s]
        guard h != t, let next = nodes[h]?.next else { return }
        nodes[next]?.prev = XenHeap.none
        heads[s] = next
        nodes[t]?.next = h
        nodes[h]?.prev = t
        nodes[h]?.next = XenHeap.none
        tails[s] = h
    }

    /// The free blocks of one (zone, order) list, head first.
    public func blocks(zone: Int, order: Int) -> [MFN] {
        var out: [MFN] = []
        var m = heads[slot(zone, order)]
        while m != XenHeap.none { out.append(MFN(m)); m = nodes[m]!.next }
        return out
    }

    /// Whether `mfn` is the first frame of a free block, and its order.
    public func freeBlockOrder(at mfn: MFN) -> Int? { nodes[mfn.rawValue]?.order }

    /// Whether the frame lies in any free block.
    public func isFree(_ mfn: MFN) -> Bool {
        for o in 0...XenHeap.maxOrder {
            let head = mfn.rawValue & ~((1 << UInt64(o)) - 1)
            if let n = nodes[head], n.order >= o, mfn.rawValue < head + (1 << UInt64(n.order)) { return true }
        }
        return false
    }

    // MARK: Freeing

    /// `init_heap_pages` for `[frames)`: cut into maximal naturally aligned blocks in ascending
    /// order (MFN 0 is kept out so that no merge can cross a zone boundary) and free each.
    public mutating func insert(_ frames: Range<MFN>, dirty: Bool = true) {
        var s = max(frames.lowerBound.rawValue, 1)
        let e = frames.upperBound.rawValue
        while s < e {
            let o = min(XenHeap.maxOrder, BitMath.floorLog2(e - s), s.trailingZeroBitCount)
            free(MFN(s), order: o, dirty: dirty)
            s += 1 << UInt64(o)
        }
    }

    /// `free_heap_pages(pg, order, need_scrub)`: merge with free buddies of the same order while
    /// possible, then put the block at the tail (dirty) or head (clean) of its list.
    public mutating func free(_ mfn: MFN, order: Int, dirty: Bool) {
        var m = mfn.rawValue, o = order
        var firstDirty: UInt64 = dirty ? 0 : XenHeap.clean
        while o < XenHeap.maxOrder {
            let mask: UInt64 = 1 << UInt64(o)
            if m & mask != 0 {
                let pred = m - mask
                guard let n = nodes[pred], n.order == o else { break }
                unlink(pred)
                var fd = n.firstDirty
                if fd == XenHeap.clean && firstDirty != XenHeap.clean { fd = mask + firstDirty }
                firstDirty = fd
                m = pred
            } else {
                let succ = m + mask
                guard let n = nodes[succ], n.order == o else { break }
                unlink(succ)
                if firstDirty == XenHeap.clean && n.firstDirty != XenHeap.clean { firstDirty = mask + n.firstDirty }
            }
            o += 1
        }
        append(m, order: o, firstDirty: firstDirty)
    }

    // MARK: Allocation

    /// `alloc_domheap_pages(d, order, MEMF_bits(addressBits) [| MEMF_no_dma] [| MEMF_no_scrub])`:
    /// a block of `2^order` frames below `2^addressBits` bytes (nil = unrestricted), or nil.
    public mutating func allocate(order: Int, addressBits: Int? = nil, noDMA: Bool = false, noScrub: Bool = false) -> MFN? {
        guard order >= 0, order <= XenHeap.maxOrder else { return nil }
        let bits = addressBits ?? 64 + Int(Page.shift)
        let zoneHi = min(XenHeap.zone(forAddressBits: bits), XenHeap.zoneCount - 1)
        guard zoneHi > 0 else { return nil }
        if let dma = dmaBits {
            let dmaZone = XenHeap.zone(forAddressBits: dma)
            if dmaZone < zoneHi, let m = allocate(zoneLo: dmaZone + 1, zoneHi: zoneHi, order: order, noScrub: noScrub) {
                return m
            }
            if noDMA { return nil }
        }
        return allocate(zoneLo: 1, zoneHi: zoneHi, order: order, noScrub: noScrub)
    }

    private mutating func allocate(zoneLo: Int, zoneHi: Int, order: Int, noScrub: Bool) -> MFN? {
        guard let (m, j) = freeBuddy(zoneLo: zoneLo, zoneHi: zoneHi, order: order, noScrub: noScrub) else { return nil }
        var pg = m
        var firstDirty = unlink(m).firstDirty
        var buddyOrder = j
        while buddyOrder != order {
            buddyOrder -= 1
            let half: UInt64 = 1 << UInt64(buddyOrder)
            append(pg, order: buddyOrder, firstDirty: half > firstDirty ? firstDirty : XenHeap.clean)
            pg += half
            if firstDirty != XenHeap.clean {
                firstDirty = firstDirty >= half ? firstDirty - half : 0
            }
        }
        return MFN(pg)
    }

    /// `get_free_buddy`: first a pass that takes only clean blocks (or any block for an order-0
    /// request), rotating dirty heads to their tails; then a pass that takes any head.
    private mutating func freeBuddy(zoneLo: Int, zoneHi: Int, order: Int, noScrub: Bool) -> (UInt64, Int)? {
        var useUnscrubbed = noScrub
        while true {
            var zone = zoneHi
            while zone >= zoneLo {
                if freePagesByZone[zone] >= 1 << UInt64(order) {
                    for j in order...XenHeap.maxOrder {
                        let s = slot(zone, j)
                        let h = heads[s]
                        guard h != XenHeap.none else { continue }
                        guard let n = nodes[h] else { continue }
                        if n.firstDirty == XenHeap.clean || order == 0 || useUnscrubbed { return (h, j) }
                        rotateHead(s)
                    }
                }
                zone -= 1
            }
            if useUnscrubbed { return nil }
            useUnscrubbed = true
        }
    }

    /// `xc_availheap(min_width, max_width)` (`avail_domheap_pages_region`): free bytes in zones
    /// `bits_to_zone(min_width)` … `bits_to_zone(max_width)` (0 for either means no bound).
    public func availableBytes(minWidth: Int = 0, maxWidth: Int = 0) -> UInt64 {
        let lo = minWidth == 0 ? 1 : min(XenHeap.zone(forAddressBits: minWidth), XenHeap.zoneCount - 1)
        let hi = maxWidth == 0 ? XenHeap.zoneCount - 1 : min(XenHeap.zone(forAddressBits: maxWidth), XenHeap.zoneCount - 1)
        guard lo <= hi else { return 0 }
        return freePagesByZone[lo...hi].reduce(0, +) << Page.shift
    }
}
