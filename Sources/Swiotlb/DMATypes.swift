import XenMemory

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
    /// `dev->coherent_dma_mask` (0 = not set: xen-swiotlb then uses 32 bits).
    public var coherentDMAMask: UInt64
    /// `dma_get_max_seg_size(dev)` (65536 for PCI devices).
    public var maxSegmentSize: UInt64
    /// `dev_is_dma_coherent(dev)` (always true on x86).
    public var isCoherent: Bool
    /// `dma_get_min_align_mask(dev)` (v5.12+; NVMe sets 4095).
    public var minAlignMask: UInt64 = 0
    /// `dev_driver_string(dev)`: the bound driver's name (else the bus's), which the kernel's
    /// `dev_*` messages print before ``name``; nil when not known (the name alone is printed).
    public var driver: String?

    /// A device; the defaults are a 64-bit device without DMA parameters.
    public init(
        name: String? = nil, dmaMask: UInt64 = ~0, busDMALimit: UInt64 = 0, segmentBoundaryMask: UInt64 = ~0,
        coherentDMAMask: UInt64 = 0, maxSegmentSize: UInt64 = 65536, isCoherent: Bool = true, minAlignMask: UInt64 = 0,
        driver: String? = nil
    ) {
        self.name = name; self.dmaMask = dmaMask; self.busDMALimit = busDMALimit; self.segmentBoundaryMask = segmentBoundaryMask
        self.coherentDMAMask = coherentDMAMask; self.maxSegmentSize = maxSegmentSize; self.isCoherent = isCoherent
        self.minAlignMask = minAlignMask; self.driver = driver
    }

    /// A PCI device with a `bits`-bit streaming and coherent mask (`dma_set_mask_and_coherent`),
    /// the PCI core's 4 GiB segment boundary and 64 KiB segments.
    public static func pci(_ name: String, bits: Int) -> DMADevice {
        let mask: UInt64 = bits >= 64 ? ~0 : (1 << UInt64(bits)) - 1
        return DMADevice(name: name, dmaMask: mask, segmentBoundaryMask: 0xffff_ffff, coherentDMAMask: mask)
    }

    /// `dma_capable(dev, addr, size, true)`: the last byte is within the effective limit.
    public func isCapable(_ address: DMAAddress, size: UInt64) -> Bool {
        let (last, o) = address.rawValue.addingReportingOverflow(size &- 1)
        return (size == 0 || !o) && last <= effectiveLimit
    }

    /// `min_not_zero(dev->coherent_dma_mask, dev->bus_dma_limit)` (`dma_coherent_ok`).
    public var coherentLimit: UInt64 {
        if coherentDMAMask == 0 { return busDMALimit }
        if busDMALimit == 0 { return coherentDMAMask }
        return min(coherentDMAMask, busDMALimit)
    }

    /// `min_not_zero(*dev->dma_mask, dev->bus_dma_limit)`.
    public var effectiveLimit: UInt64 {
        if dmaMask == 0 { return busDMALimit }
        if busDMALimit == 0 { return dmaMask }
        return min(dmaMask, busDMALimit)
    }
}
