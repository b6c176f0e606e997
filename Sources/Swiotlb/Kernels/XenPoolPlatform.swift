import XenMemory

/// What a kernel's xen-swiotlb set-up asks of the PV dom0 it runs in: memory, and making a
/// stretch of it machine-contiguous (`xen_swiotlb_fixup`). XenSwiotlb provides it over the
/// modelled host; the kernel type decides sizes, retries and messages.
public protocol XenPoolPlatform {
    /// `memblock_alloc(bytes, PAGE_SIZE)`: the highest page-aligned block anywhere; its first
    /// byte, or nil when none fits.
    mutating func allocateEarly(bytes: UInt64) -> PhysicalAddress?
    /// `__get_free_pages(order)` (the late set-up): an order-aligned block; its first byte, or nil.
    mutating func allocatePages(order: Int) -> PhysicalAddress?
    /// Gives `bytes` (page-rounded) from `start` back.
    mutating func free(start: PhysicalAddress, bytes: UInt64)
    /// `xen_swiotlb_fixup` over `nslabs` slots from `start` for pool `pool`: each 128-slot
    /// segment exchanged for machine-contiguous memory, `dma_bits` from `firstBits` widening
    /// up to `maxBits` on failure; false when a segment could not be exchanged.
    mutating func remap(start: PhysicalAddress, nslabs: Int, pool: Int, firstBits: Int, maxBits: Int) -> Bool
    /// The memory the page allocator would give new pools when the kernel is built with
    /// `CONFIG_SWIOTLB_DYNAMIC` (a scenario's `swiotlb_dynamic`); nil: built without it.
    mutating func dynamicPoolMemory() -> DynamicPoolMemory?
}

extension XenPoolPlatform {
    /// Built without `CONFIG_SWIOTLB_DYNAMIC`, unless the platform says otherwise.
    public mutating func dynamicPoolMemory() -> DynamicPoolMemory? { nil }
}

/// The outcome of a kernel's xen-swiotlb set-up.
public struct XenPoolSetup: Sendable {
    /// The pools set up (none: maps that need a bounce buffer fail).
    public var pools: [SlotPool]
    /// Every line the kernel printed.
    public var log: [String]
    /// The error the set-up returned (-ENOMEM) and whether the kernel panicked; nil on success.
    public var failure: (rc: Int32, panicked: Bool)?
    /// 6.18's `CONFIG_SWIOTLB_DYNAMIC` state: `can_grow` false (a remap callback was passed), so
    /// the pool never grows; nil for a kernel built without it.
    public var growth: PoolGrowth?

    /// An outcome.
    public init(pools: [SlotPool], log: [String], failure: (rc: Int32, panicked: Bool)? = nil) {
        self.pools = pools; self.log = log; self.failure = failure
    }
}
