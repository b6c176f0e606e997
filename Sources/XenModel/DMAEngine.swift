import Swiotlb
import XenMemory
import XenSwiotlb

/// A mapped streaming buffer as the workload sees it.
public struct MappedBuffer: Sendable {
    /// The address the device uses.
    public var dma: UInt64
    /// Bytes.
    public var size: Int
    /// The boot pool of its bounce buffer (a pool added at run time counts as the first,
    /// ``SoftwareIOTLB/homePool(of:)``), nil when it went direct.
    public var pool: Int?
    /// The transfer direction.
    public var direction: DMADirection
    /// Bounce slots it holds (0 when it went direct).
    public var slots: Int
    /// Creates a record of a mapping.
    public init(dma: UInt64, size: Int, pool: Int?, direction: DMADirection, slots: Int = 0) {
        self.dma = dma; self.size = size; self.pool = pool; self.direction = direction; self.slots = slots
    }
}

/// The DMA API of the booted guest: xen-swiotlb in a PV guest, dma-direct elsewhere.
///
/// Exactly one of the two is set; both are mutated in place (an enum payload would be copied,
/// and with it the multi-megabyte slot arrays, on every operation).
public struct DMAEngine: Sendable {
    /// A PV guest's xen-swiotlb.
    public private(set) var xen: XenSwiotlb?
    /// A native guest's dma-direct.
    public private(set) var native: DirectDMA?

    /// A PV guest's engine.
    public init(xen: XenSwiotlb) { self.xen = xen }
    /// A native guest's engine.
    public init(native: DirectDMA) { self.native = native }

    /// The generic swiotlb underneath.
    public var tlb: SoftwareIOTLB { xen?.tlb ?? native!.tlb }

    /// Maps one buffer of `size` bytes at pseudo-physical `phys` (`dma_map_page`): the address
    /// the device uses, the pool of its bounce buffer and the slots it took, or why it could not
    /// be mapped; throws where the kernel would BUG. `cpu` is the processor the map runs on,
    /// `alignMask` the allocator's `alloc_align_mask` (a trace's `align=`; 0 from the DMA API).
    public mutating func map(
        _ device: DMADevice, _ phys: UInt64, size: Int, direction: DMADirection, cpu: Int = 0,
        alignMask: UInt64 = 0
    ) throws(SwiotlbBug) -> Result<MappedBuffer, XenMapError> {
        let before = slotsInUse
        if xen != nil {
            let r = try xen!.mapPage(device, PhysicalAddress(phys), size: size, direction: direction, cpu: cpu, alignMask: alignMask)
            let taken = slotsInUse - before
            return r.map { MappedBuffer(dma: $0.address.rawValue, size: size, pool: $0.pool, direction: direction, slots: taken) }
        }
        let r = try native!.mapPage(device, phys, size: size, direction: direction, cpu: cpu, alignMask: alignMask)
        let taken = slotsInUse - before
        return r.map { m in
            MappedBuffer(
                dma: m.address, size: size,
                pool: m.bounced ? native!.tlb.pools.firstIndex { $0.contains(m.address) }.map(native!.tlb.homePool(of:)) : nil,
                direction: direction, slots: taken)
        }
    }

    /// `io_tlb_used` summed over the pools.
    private var slotsInUse: Int {
        var n = 0
        if xen != nil {
            for p in xen!.tlb.pools { n += p.used }
        } else {
            for p in native!.tlb.pools { n += p.used }
        }
        return n
    }

    /// Unmaps one buffer ``map(_:_:size:direction:cpu:alignMask:)`` gave (`dma_unmap_page`); throws where
    /// the kernel would BUG.
    public mutating func unmap(_ device: DMADevice, _ b: MappedBuffer) throws(SwiotlbBug) {
        if xen != nil {
            try xen!.unmapPage(device, MachineAddress(b.dma), size: b.size, direction: b.direction)
        } else {
            try native!.unmapPage(device, b.dma, size: b.size, direction: b.direction)
        }
    }

    /// Syncs one mapped buffer for the CPU or the device (`dma_sync_single_for_*`).
    public mutating func sync(_ device: DMADevice, _ b: MappedBuffer, target: SyncTarget) throws(SwiotlbBug) {
        if xen != nil {
            try xen!.sync(device, MachineAddress(b.dma), size: b.size, direction: b.direction, target: target)
        } else if native!.tlb.isBounceBuffer(b.dma) {
            try native!.tlb.sync(b.dma, size: b.size, direction: b.direction, target: target)
        }
    }

    /// `dma_alloc_coherent`; nil when it fails. Native guests get plain pages (no bounce).
    public mutating func allocCoherent(_ device: DMADevice, size: Int, memory: inout PseudoPhysicalAllocator) -> (phys: UInt64, dma: UInt64, exchanged: Bool)? {
        if xen != nil {
            guard let r = xen!.allocCoherent(device, size: size) else { return nil }
            return (r.0.rawValue, r.1.rawValue, xen!.coherent[r.0.pfn.rawValue]?.remapped ?? false)
        }
        let order = BitMath.pageOrder(bytes: UInt64(max(size, 1)))
        guard let pages = memory.allocate(pages: 1 << UInt64(order), alignPages: 1 << UInt64(order)) else { return nil }
        return (pages.lowerBound << Page.shift, pages.lowerBound << Page.shift, false)
    }

    /// `dma_free_coherent` of what ``allocCoherent(_:size:memory:)`` gave.
    public mutating func freeCoherent(_ device: DMADevice, size: Int, dma: UInt64, memory: inout PseudoPhysicalAllocator) {
        if xen != nil {
            xen!.freeCoherent(device, size: size, dma: MachineAddress(dma))
        } else {
            let order = BitMath.pageOrder(bytes: UInt64(max(size, 1)))
            memory.release((dma >> Page.shift)..<((dma >> Page.shift) + (1 << UInt64(order))))
        }
    }

    /// Kernel messages since the last call.
    public mutating func takeMessages() -> [KernelMessage] {
        xen != nil ? xen!.tlb.takeMessages() : native!.tlb.takeMessages()
    }
}
