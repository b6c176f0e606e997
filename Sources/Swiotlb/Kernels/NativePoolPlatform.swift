import XenMemory

/// The memory encryption of a confidential guest: every streaming DMA bounces (`SWIOTLB_FORCE`)
/// and the architecture may size the default pool (``SwiotlbKernelModel/encryptedGuestSizing``).
public enum MemoryEncryption: String, Sendable, Hashable, CaseIterable {
    /// AMD SEV (`CC_VENDOR_AMD` with `CC_ATTR_GUEST_MEM_ENCRYPT`).
    case sev
    /// Intel TDX (`CC_VENDOR_INTEL`).
    case tdx
}

/// What a native (dma-direct) guest's kernel knows when it sets up swiotlb (x86
/// `pci_iommu_alloc`, `mem_encrypt_setup_arch`).
public struct NativeGuestFacts: Sendable, Hashable {
    /// `memblock_phys_mem_size()`: the guest's RAM in bytes.
    public var ramBytes: UInt64
    /// `max_possible_pfn > MAX_DMA32_PFN`: RAM reaches above 4 GiB.
    public var ramAbove4GiB: Bool
    /// The guest's memory encryption, if any.
    public var encryption: MemoryEncryption?
    /// `iommu=soft`.
    public var iommuSoft: Bool
    /// `num_possible_cpus()` (the default areas of kernels with areas).
    public var cpus: Int
    /// `coherent_pool=` in bytes (the DMA atomic pools' size), if given.
    public var coherentPool: UInt64?

    /// The facts.
    public init(ramBytes: UInt64, ramAbove4GiB: Bool, encryption: MemoryEncryption?, iommuSoft: Bool, cpus: Int) {
        self.ramBytes = ramBytes; self.ramAbove4GiB = ramAbove4GiB; self.encryption = encryption
        self.iommuSoft = iommuSoft; self.cpus = cpus
    }

    /// x86's `x86_swiotlb_enable` (`pci_swiotlb_detect`, `iommu=soft`): RAM above 4 GiB,
    /// encrypted memory or `iommu=soft`.
    public var swiotlbEnabled: Bool { ramAbove4GiB || encryption != nil || iommuSoft }
}

/// What a kernel's native swiotlb set-up asks of the guest it runs in: early memory for the
/// default pool, and (`CONFIG_SWIOTLB_DYNAMIC`) the memory later pools come from. XenSwiotlb's
/// `DirectDMA` provides it over the guest's free memory; the kernel type decides sizes, retries
/// and messages.
public protocol NativePoolPlatform {
    /// `memblock_alloc_low` (`belowFourGiB`) or `memblock_alloc`: `bytes` (a whole number of
    /// pages) top-down; the first byte, or nil when none fits.
    mutating func allocateEarly(bytes: UInt64, belowFourGiB: Bool) -> PhysicalAddress?
    /// The memory the page allocator gives new pools (``DynamicPoolMemory``); nil when the
    /// guest's kernel is built without `CONFIG_SWIOTLB_DYNAMIC`.
    mutating func dynamicPoolMemory() -> DynamicPoolMemory?
    /// `alloc_pages(gfp, order)` at boot (the DMA atomic pools): a block of 2^order pages aligned
    /// to its size whose last byte is at most `limit`; its first byte, or nil.
    mutating func allocatePages(order: Int, limit: PhysicalAddress) -> PhysicalAddress?
    /// `totalram_pages()`: the pages the page allocator manages after the early set-up.
    func managedPages() -> UInt64
}

/// The outcome of a kernel's native swiotlb set-up.
public struct NativePoolSetup: Sendable {
    /// The pools, the low (or only) one first; none: maps that need a bounce buffer fail.
    public var pools: [SlotPool]
    /// Every line the kernel printed, in its order.
    public var log: [String]
    /// `swiotlb_force_bounce` / `SWIOTLB_FORCE` (encrypted memory), or `noforce`.
    public var force: SwiotlbForce
    /// 6.18's `CONFIG_SWIOTLB_DYNAMIC` state (nil: the pools never grow).
    public var growth: PoolGrowth?

    /// An outcome.
    public init(pools: [SlotPool], log: [String], force: SwiotlbForce, growth: PoolGrowth? = nil) {
        self.pools = pools; self.log = log; self.force = force; self.growth = growth
    }
}
