import XenMemory

/// One Linux kernel's software IO TLB, as a type: every way the kernels differ is one of these
/// operations, and code outside the kernel types never asks which kernel it runs.
///
/// The operations follow the kernel's own layering: reading `swiotlb=` (`setup_io_tlb_npages`),
/// setting the pools up (`swiotlb_init*`, xen-swiotlb's init), `swiotlb_tbl_map_single` with its
/// slot search (`swiotlb_find_slots` → pool → area), the release, the bounce copies and the
/// kernel's messages, then what the model prints of a pool (trace replay, debugfs). A kernel is
/// added by writing one type that conforms and naming it in ``SwiotlbKernel/allCases``
/// (docs/kernels.md).
///
/// Everything is static: a kernel has no state of its own (the state is the ``SoftwareIOTLB``
/// it is given), so code that knows the kernel type calls it directly and is specialised for it
/// (the replay loop), and code that holds a ``SwiotlbKernel`` calls through its ``SwiotlbKernel/model``.
public protocol SwiotlbKernelModel: Sendable {
    /// The name a command line (`--kernel`) or a scenario (`guest.kernel`) gives, e.g. `v6.1`.
    static var name: String { get }
    /// The kernel in words for messages, e.g. `Linux 6.1.192`.
    static var title: String { get }

    // MARK: Command line

    /// `swiotlb=<text>` as this kernel's `setup_io_tlb_npages` reads it.
    static func readCommandLine(_ text: String) -> SwiotlbCommandLine

    /// What the set-up does with `swiotlb=` alone on a guest with `cpus` possible CPUs
    /// (`xenpv swiotlb cmdline`): the lines it prints before it allocates and the pool sizes its
    /// allocation loop tries; empty for a kernel that prints nothing before placing the pool.
    static func setUpLines(commandLine: SwiotlbCommandLine, cpus: Int) -> [String]

    // MARK: Pools

    /// The name of pool `index` of `count` (the RFC's `Low Mem` / `High Mem`, which its messages
    /// put first), given the name a trace's `name=` declared; nil: the kernel names no pool.
    static func poolName(index: Int, of count: Int, declared: String?) -> String?

    /// A native (dma-direct) guest's swiotlb set-up (x86 `pci_iommu_alloc` → `swiotlb_init`, with
    /// `mem_encrypt_setup_arch`'s `swiotlb_adjust_size` before it and `pci_iommu_init`'s lines
    /// after it): the pools, the lines, the force mode and whether the pools may grow; nil when
    /// the kernel stops the boot (v5.11: no low pool).
    static func setUpNativePools<Platform: NativePoolPlatform>(
        commandLine: SwiotlbCommandLine, guest: NativeGuestFacts, platform: inout Platform
    ) -> NativePoolSetup?

    /// xen-swiotlb's set-up in a PV dom0 (`xen_swiotlb_init`, or 6.1's `swiotlb_init_remap`
    /// with `xen_swiotlb_fixup`): sizes, retries and messages, the memory and the exchanges
    /// asked of `platform`.
    static func setUpXenPools<Platform: XenPoolPlatform>(
        commandLine: SwiotlbCommandLine, cpus: Int, early: Bool,
        platform: inout Platform
    ) -> XenPoolSetup

    /// What xen-swiotlb's coherent allocations check (`xen_swiotlb_alloc_coherent` / `_free_coherent`).
    static var xenCoherentRules: XenCoherentRules { get }

    /// How `swiotlb_adjust_size` sizes an encrypted guest's (SEV, TDX) default pool.
    static var encryptedGuestSizing: EncryptedGuestSizing { get }

    // MARK: Mapping

    /// `swiotlb_tbl_map_single`: the slots found by this kernel's search in `tlb`, their
    /// bookkeeping and the bounce copy. Throws where the kernel would BUG or never return.
    static func mapSingle(_ tlb: inout SoftwareIOTLB, _ request: MapRequest) throws(SwiotlbBug) -> Result<BounceMapping, SwiotlbMapError>

    /// `swiotlb_tbl_unmap_single` of the mapping at `address` in pool `pool`: the copy back, then
    /// the release of its slots.
    static func unmapSingle(_ tlb: inout SoftwareIOTLB, _ address: PhysicalAddress, pool: Int, _ request: UnmapRequest) throws(SwiotlbBug)

    /// `swiotlb_tbl_sync_single` / `swiotlb_sync_single_for_*` of `size` bytes at `address` in
    /// pool `pool`.
    static func syncSingle(
        _ tlb: inout SoftwareIOTLB, _ address: PhysicalAddress, pool: Int, size: Int, direction: DMADirection,
        target: SyncTarget, minAlignMask: UInt64) throws(SwiotlbBug)

    /// The slots a map of `allocSize` bytes from `original` takes on a device whose
    /// `dma_get_min_align_mask()` is `minAlignMask` (`nr_slots` of what the kernel allocates).
    static func slotsNeeded(allocSize: Int, original: PhysicalAddress, minAlignMask: UInt64) -> Int

    /// `swiotlb_max_mapping_size(dev)` for a device whose `dma_get_min_align_mask()` is `minAlignMask`.
    static func maxMappingSize(minAlignMask: UInt64) -> Int

    /// The debugfs files (`/sys/kernel/debug/swiotlb/…`) and their values.
    static func debugfs(_ tlb: SoftwareIOTLB) -> [(file: String, value: Int)]

    // MARK: Traces (docs/trace-format.md)

    /// The allocation fields of format v2 this kernel honours (the others are refused).
    static var traceFields: TraceFields { get }
    /// The most `pool` lines a trace has.
    static var maxTracePools: Int { get }
    /// Why a trace's pool line beyond ``maxTracePools`` is refused.
    static var extraTracePoolRefusal: String { get }
    /// The pool a trace's `pool nslabs=<nslabs> [areas=<areas>]` line at `line` sets up (this
    /// kernel's rounding), or its refusal (`token` is the line's `nslabs=` token).
    static func tracePool(nslabs: UInt64, areas: UInt64?, line: Int) throws(TraceError) -> TracePoolShape
    /// Whether an unmap or sync of an id whose map failed in this replay is skipped (a captured
    /// trace replayed on a smaller pool) rather than refused.
    static var skipsOpsOfFailedMaps: Bool { get }
    /// The replay's closing lines before the checksum (`final …`, areas).
    static func closingLines(_ tlb: SoftwareIOTLB) -> [String]
    /// A fresh trace replay under this kernel: `TraceReplayEngine.make(<this type>.self,
    /// movesBytes:)`, written in the kernel's own type so it is compiled for it.
    static func traceReplayEngine(movesBytes: Bool) -> TraceReplayEngine
}

/// The size and areas of a trace's pool after the kernel's rounding.
public struct TracePoolShape: Sendable, Hashable {
    /// Slots.
    public var nslabs: Int
    /// Areas (1 for kernels without areas).
    public var areas: Int
}

/// Format v2's allocation fields, which a kernel honours or refuses.
public struct TraceFields: OptionSet, Sendable, Hashable {
    /// The bits.
    public let rawValue: UInt8
    /// Wraps bits.
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// `pool … areas=`.
    public static let areas = TraceFields(rawValue: 1 << 0)
    /// `map … min_align=`.
    public static let minAlign = TraceFields(rawValue: 1 << 1)
    /// `map … align=`.
    public static let align = TraceFields(rawValue: 1 << 2)
    /// Dynamic pools (6.18's `CONFIG_SWIOTLB_DYNAMIC`) with the memory they come from
    /// (``TraceReplayer/growPools(from:limit:)``, `swiotlb replay --grow-memory`).
    public static let dynamicPools = TraceFields(rawValue: 1 << 3)
}

/// What xen-swiotlb's coherent allocations check beyond the device's mask and machine contiguity.
public struct XenCoherentRules: Sendable, Hashable {
    /// `range_requires_alignment`: a size-aligned pseudo-physical buffer whose machine address
    /// is not size-aligned is exchanged (alloc) and is a WARN (free).
    public var checksAlignment: Bool
    /// Whether a free that WARNs returns without freeing the pages (6.1.192) instead of freeing
    /// them without giving the exchanged region back (v5.11).
    public var keepsPagesOnWarning: Bool
    /// The largest order `xen_create_contiguous_region` exchanges (`MAX_CONTIG_ORDER`, 9 in
    /// v5.11); nil: no limit (the frame list grows on demand, `alloc_discontig_frames`: 6.18, and
    /// Debian's 6.1.192 as a backport of the Feb 2025 change).
    public var maxContiguousOrder: Int?
    /// The rules.
    public init(checksAlignment: Bool, keepsPagesOnWarning: Bool, maxContiguousOrder: Int?) {
        self.checksAlignment = checksAlignment; self.keepsPagesOnWarning = keepsPagesOnWarning; self.maxContiguousOrder = maxContiguousOrder
    }
}
