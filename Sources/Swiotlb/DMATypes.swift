/// `enum dma_data_direction`.
public enum DMADirection: String, Sendable, CaseIterable {
    /// `DMA_BIDIRECTIONAL`.
    case bidirectional
    /// `DMA_TO_DEVICE`.
    case toDevice = "to_device"
    /// `DMA_FROM_DEVICE`.
    case fromDevice = "from_device"
    /// `DMA_NONE`.
    case none
}

/// `DMA_ATTR_*` flags swiotlb looks at.
public struct DMAAttributes: OptionSet, Sendable, Hashable {
    /// The bits.
    public let rawValue: UInt32
    /// Wraps bits.
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// `DMA_ATTR_SKIP_CPU_SYNC`.
    public static let skipCPUSync = DMAAttributes(rawValue: 1 << 5)
    /// `DMA_ATTR_NO_WARN`.
    public static let noWarn = DMAAttributes(rawValue: 1 << 8)
}

/// `enum dma_sync_target`.
public enum SyncTarget: String, Sendable {
    /// `SYNC_FOR_CPU`.
    case cpu
    /// `SYNC_FOR_DEVICE`.
    case device
}

/// `enum swiotlb_force` (v5.11).
public enum SwiotlbForce: Sendable, Hashable {
    /// `SWIOTLB_NORMAL`: bounce only when needed.
    case normal
    /// `SWIOTLB_FORCE`: bounce every mapping.
    case force
    /// `SWIOTLB_NO_FORCE`: never bounce (v5.11 still allocates a 1-slot pool).
    case noForce
}

/// What swiotlb reads from a device: its DMA parameters.
public struct DMADevice: Sendable, Hashable {
    /// `dev_name(dev)` (prefixes `dev_warn` lines); nil prints no prefix.
    public var name: String?
    /// `*dev->dma_mask`.
    public var dmaMask: UInt64
    /// `dev->bus_dma_limit` (0 = none).
    public var busDMALimit: UInt64
    /// `dma_get_seg_boundary(dev)`: `~0` without DMA parameters, `0xffffffff` for PCI.
    public var segmentBoundaryMask: UInt64

    /// A device; the defaults are a 64-bit device without DMA parameters.
    public init(name: String? = nil, dmaMask: UInt64 = ~0, busDMALimit: UInt64 = 0, segmentBoundaryMask: UInt64 = ~0) {
        self.name = name; self.dmaMask = dmaMask; self.busDMALimit = busDMALimit; self.segmentBoundaryMask = segmentBoundaryMask
    }

    /// `min_not_zero(*dev->dma_mask, dev->bus_dma_limit)`.
    public var effectiveLimit: UInt64 {
        if dmaMask == 0 { return busDMALimit }
        if busDMALimit == 0 { return dmaMask }
        return min(dmaMask, busDMALimit)
    }
}
