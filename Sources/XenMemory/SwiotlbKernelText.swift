/// The swiotlb kernel's own strings that the model writes and the dump, capture and diagnosis
/// readers look for: written once here so the writer and every reader agree.
public enum SwiotlbKernelText {
    /// `pr_fmt` of kernel/dma/swiotlb.c: what the kernel's own lines start with.
    public static let messagePrefix = "software IO TLB: "
    /// What follows the prefix (and a pool's name) in the line that places a pool:
    /// `mapped [mem 0x<start>-0x<end>] (<n>MB)`.
    public static let mappedMemory = "mapped [mem "
    /// What follows the prefix in 6.1's `area num <n>.` line.
    public static let areaCount = "area num "
    /// The folder of swiotlb's debugfs values.
    public static let debugfsFolder = "/sys/kernel/debug/swiotlb/"
    /// The debugfs value of a pool's slot count (`io_tlb_nslabs`).
    public static let nslabsFile = "io_tlb_nslabs"
    /// The debugfs value of a pool's slots in use (`io_tlb_used`).
    public static let usedFile = "io_tlb_used"
    /// The debugfs high-water mark of slots in use (6.4 and later): `io_tlb_used_hiwater`.
    public static let highWaterFile = "io_tlb_used_hiwater"
    /// The debugfs value of the slots in transient pools (6.18 with `CONFIG_SWIOTLB_DYNAMIC`):
    /// `io_tlb_transient_nslabs`.
    public static let transientNslabsFile = "io_tlb_transient_nslabs"
    /// What the RFC's second (64-bit) pool appends to the two per-pool file names.
    public static let highPoolSuffix = "-highmem"
    /// x86's `pci_iommu_init` line before `swiotlb_print_info` (no prefix: it is not swiotlb.c's).
    public static let softwareBounceBuffering = "PCI-DMA: Using software bounce buffering for IO (SWIOTLB)"
    /// The name a report shows for a pool the kernel does not name (v5.11's and 6.1's only pool).
    public static let unnamedPool = "swiotlb"
}
