import XenMemory

/// Linux 6.18's `CONFIG_SWIOTLB_DYNAMIC` state of a software IO TLB: whether pools may be added
/// (`can_grow`), the limit of the background worker's pools (`phys_limit`), the size and areas
/// it asks for (`default_nslabs`, `default_nareas`), and the memory new pools come from.
public struct PoolGrowth: Sendable {
    /// `io_tlb_mem.can_grow`: set by `swiotlb_init_remap` only without a remap callback
    /// (kernel/dma/swiotlb.c:372-373): a Xen PV dom0's pool never grows.
    public var canGrow: Bool
    /// `io_tlb_mem.phys_limit`: the highest byte a grown pool may use (`ARCH_LOW_ADDRESS_LIMIT`,
    /// 4 GiB − 1 on x86, unless `SWIOTLB_ANY`).
    public var physLimit: PhysicalAddress
    /// `default_nslabs`: the slots the worker asks for (at most 2048 are given).
    public var defaultNslabs: Int
    /// `default_nareas`: the areas the worker asks for, and the rounds of the search.
    public var defaultAreas: Int
    /// Where the memory of new pools comes from.
    public var memory: DynamicPoolMemory
    /// A confidential guest's DMA atomic pools (`force_dma_unencrypted`), which transient pools
    /// come from (``AtomicPools``); nil: transient pools come from ``memory`` too.
    public var atomicPools: AtomicPools?
    /// Whether a miss scheduled the worker (`schedule_work(&mem->dyn_alloc)`) and it has not run.
    public internal(set) var workScheduled = false

    /// A growth state.
    public init(canGrow: Bool, physLimit: PhysicalAddress, defaultNslabs: Int, defaultAreas: Int, memory: DynamicPoolMemory) {
        self.canGrow = canGrow; self.physLimit = physLimit; self.defaultNslabs = defaultNslabs
        self.defaultAreas = defaultAreas; self.memory = memory
    }

    /// `SLABS_PER_PAGE << MAX_PAGE_ORDER`: the largest pool `swiotlb_alloc_pool` makes (2048
    /// slots, 4 MiB: x86's `MAX_PAGE_ORDER` is 10).
    public static let maxPoolSlots = 2048
    /// `IO_TLB_MIN_SLABS`: the worker's smallest pool (512 slots, 1 MiB).
    public static let minPoolSlots = 512
}

/// The memory the model's new swiotlb pools come from: one range of physical addresses, handed
/// out as the page allocator hands out `alloc_pages(order)` — a block of 2^order pages aligned
/// to its own size — and given back when a transient pool is freed.
///
/// The kernel takes whatever block its buddy allocator finds; the model makes that choice a
/// fixed rule, so that a harness can give its allocator the same blocks and compare slot
/// choices: **the lowest free block of the order, aligned to its size, inside the range, whose
/// `bytes` end at or below the limit**; none such is a failed allocation (which the kernel's
/// zone fallbacks in `swiotlb_alloc_tlb` end in too when nothing fits under the limit). The
/// free space is kept as sorted disjoint ranges: an allocation or a free costs the number of
/// ranges, never pages.
public struct DynamicPoolMemory: Sendable, Hashable {
    /// The free ranges, sorted and disjoint.
    public private(set) var free: [Range<UInt64>]

    /// All of `range` free.
    public init(_ range: Range<PhysicalAddress>) { free = range.isEmpty ? [] : [range.raw] }

    /// `get_order(bytes)` in bytes: the power-of-two number of 4 KiB pages holding `bytes`.
    public static func blockBytes(_ bytes: UInt64) -> UInt64 {
        let pages = max((bytes &+ 4095) >> 12, 1)
        return (pages == 1 ? 1 : UInt64(1) << UInt64(64 - (pages &- 1).leadingZeroBitCount)) << 12
    }

    /// Takes the block for `bytes` (``blockBytes(_:)``) under the rule above (its last byte at
    /// or below `limit`, the kernel's `phys_limit`); its first byte, or nil.
    public mutating func allocate(bytes: UInt64, limit: PhysicalAddress) -> PhysicalAddress? {
        let block = Self.blockBytes(bytes)
        for (k, r) in free.enumerated() {
            let (aligned, o1) = r.lowerBound.addingReportingOverflow(block &- 1)
            if o1 { continue }
            let start = aligned & ~(block &- 1)
            let (end, o2) = start.addingReportingOverflow(block)
            guard !o2, end <= r.upperBound else { continue }
            guard start &+ (bytes &- 1) <= limit.rawValue else { return nil }
            var pieces: [Range<UInt64>] = []
            if r.lowerBound < start { pieces.append(r.lowerBound..<start) }
            if end < r.upperBound { pieces.append(end..<r.upperBound) }
            free.replaceSubrange(k...k, with: pieces)
            return PhysicalAddress(start)
        }
        return nil
    }

    /// Gives back the block of `bytes` at `start` (merged with the free ranges beside it).
    public mutating func release(start: PhysicalAddress, bytes: UInt64) {
        let block = start.rawValue..<(start.rawValue &+ Self.blockBytes(bytes))
        var k = 0
        while k < free.count && free[k].upperBound <= block.lowerBound { k += 1 }
        var merged = block
        if k > 0 && free[k - 1].upperBound == merged.lowerBound { k -= 1; merged = free[k].lowerBound..<merged.upperBound; free.remove(at: k) }
        if k < free.count && free[k].lowerBound == merged.upperBound { merged = merged.lowerBound..<free[k].upperBound; free.remove(at: k) }
        free.insert(merged, at: k)
    }
}
