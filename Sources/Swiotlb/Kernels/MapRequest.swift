import XenMemory

/// What `swiotlb_tbl_map_single` is asked.
public struct MapRequest: Sendable {
    /// The device mapping.
    public var device: DMADevice
    /// `orig_addr`.
    public var original: PhysicalAddress
    /// `mapping_size`.
    public var mappingSize: Int
    /// `alloc_size`.
    public var allocSize: Int
    /// `dir`.
    public var direction: DMADirection
    /// `attrs`.
    public var attributes: DMAAttributes
    /// The pool's DMA address as the device sees it (`phys_to_dma_unencrypted(mem->start)`; nil:
    /// its pseudo-physical start, as natively on x86).
    public var tableDMAAddress: DMAAddress?
    /// 6.1's `alloc_align_mask` argument.
    public var alignMask: UInt64
    /// The processor the map runs on (6.1 starts its search in area `cpu & (nareas - 1)`).
    public var cpu: Int

    /// A request.
    public init(
        device: DMADevice, original: PhysicalAddress, mappingSize: Int, allocSize: Int, direction: DMADirection,
        attributes: DMAAttributes = [], tableDMAAddress: DMAAddress? = nil, alignMask: UInt64 = 0, cpu: Int = 0
    ) {
        self.device = device; self.original = original; self.mappingSize = mappingSize; self.allocSize = allocSize
        self.direction = direction; self.attributes = attributes; self.tableDMAAddress = tableDMAAddress
        self.alignMask = alignMask; self.cpu = cpu
    }
}

/// What `swiotlb_tbl_unmap_single` is told besides the address.
public struct UnmapRequest: Sendable {
    /// `mapping_size`.
    public var mappingSize: Int
    /// `alloc_size` (v5.11 frees this many bytes' slots; 6.1 reads it from the slot).
    public var allocSize: Int
    /// `dir`.
    public var direction: DMADirection
    /// `attrs`.
    public var attributes: DMAAttributes
    /// The device's `dma_get_min_align_mask()` (6.1 recomputes the offset from it).
    public var minAlignMask: UInt64

    /// A request.
    public init(mappingSize: Int, allocSize: Int, direction: DMADirection, attributes: DMAAttributes = [], minAlignMask: UInt64 = 0) {
        self.mappingSize = mappingSize; self.allocSize = allocSize; self.direction = direction
        self.attributes = attributes; self.minAlignMask = minAlignMask
    }
}

/// Where a map searches: the pool the device's mask picks and the device's segment boundary
/// counted from that pool's DMA address (`tbl_dma_addr`, `offset_slots`, `max_slots`).
struct MapWindow {
    /// The pool's index.
    let pool: Int
    /// `tbl_dma_addr` under the boundary mask.
    let tableDMAAddress: UInt64
    /// `nr_slots(tbl_dma_addr)`.
    let offsetSlots: UInt64
    /// `max_slots`, a power of two.
    let maxSlots: UInt64
}

/// What differs between the kernels in the frame of their map (``SoftwareIOTLB/runMap(_:_:nslots:fullSize:_:)``).
struct MapFrame {
    /// What a map prints when there is no pool at all.
    enum NoPool {
        /// v5.11 (and the RFC): the "buffer is full" line with total and used 0 (the kernel has
        /// no pool only with `noforce`, whose maps never reach it, or after a boot that panicked).
        case fullMessage
        /// 6.1 and 6.18: `Can not allocate SWIOTLB buffer earlier and can't now provide you with the DMA bounce buffer`.
        case cannotAllocate
    }
    /// Whether the map takes an `alloc_size` and refuses `mapping_size > alloc_size` with
    /// `Invalid sizes` (v5.11, 6.1; 6.18's map has no `alloc_size`).
    var checksSizes: Bool
    /// What a map without a pool prints.
    var noPool: NoPool
}
