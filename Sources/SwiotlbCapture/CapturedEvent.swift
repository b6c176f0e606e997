import XenMemory

/// One hit of a capture probe, as read back from tracefs.
public struct CapturedEvent: Sendable, Equatable {
    /// Which probe fired (the event names of ``KprobePlan/definitions``).
    public enum Kind: UInt8, Sendable {
        /// `swiotlb_tbl_map_single` entered.
        case map
        /// An area lock of a map's slot search about to be released (found or not).
        case mapUnlock
        /// The map's bounce into the slots it got: its result is known.
        case mapDone
        /// `swiotlb_tbl_unmap_single` entered.
        case unmap
        /// The unmap's area lock about to be released: its slots are free.
        case unmapUnlock
        /// `swiotlb_sync_single_for_device` entered.
        case syncDevice
        /// `swiotlb_sync_single_for_cpu` entered.
        case syncCPU
    }

    /// The `counter` trace clock's value: one global order over all CPUs.
    public var counter: UInt64
    /// The processor the probe fired on.
    public var cpu: Int
    /// The probe.
    public var kind: Kind
    /// `struct device *` (map, unmap, syncs).
    public var device: UInt64 = 0
    /// Map: `orig_addr`.
    public var original = PhysicalAddress(0)
    /// Map: `mapping_size`; unmap and syncs: `size`.
    public var size: UInt64 = 0
    /// Map: `alloc_size`.
    public var alloc: UInt64 = 0
    /// Map: `alloc_align_mask`.
    public var align: UInt64 = 0
    /// `enum dma_data_direction` (map, unmap, syncs).
    public var direction: UInt64 = 0
    /// Map and unmap: `attrs`.
    public var attributes: UInt64 = 0
    /// Map: `dev->dma_parms` (0: none, and the two values below were not read).
    public var dmaParms: UInt64 = 0
    /// Map: `dev->dma_parms->min_align_mask`.
    public var minAlign: UInt64 = 0
    /// Map: `dev->dma_parms->segment_boundary_mask`.
    public var segmentBoundary: UInt64 = 0
    /// Map: `dev->dma_io_tlb_mem` (a kernel pointer) and its `start`, `nslabs`, `nareas`.
    public var pool: UInt64 = 0, poolStart = PhysicalAddress(0), poolNslabs: UInt64 = 0, poolAreas: UInt64 = 0
    /// Unlocks: the area lock's address and the area's `used` (after the op, under the lock).
    public var lock: UInt64 = 0, areaUsed: UInt64 = 0
    /// Map done, unmap, syncs: the bounce buffer address (`tlb_addr`).
    public var tlb = PhysicalAddress(0)
    /// Map and unmap: the device's name (nil when the kernel could not read it).
    public var deviceName: String? = nil

    /// An event with every field zero.
    public init(counter: UInt64, cpu: Int, kind: Kind) { self.counter = counter; self.cpu = cpu; self.kind = kind }
}
