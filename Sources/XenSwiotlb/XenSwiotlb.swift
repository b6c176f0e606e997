import Swiotlb
import XenMemory

/// A DMA address handed to a device, and how it was obtained.
public struct DMAHandle: Sendable, Hashable {
    /// The bus address the device uses (x86 PV: the machine address, ``MachineAddress/bus``).
    public var address: DMAAddress
    /// Whether the data goes through a bounce buffer.
    public var bounced: Bool
    /// The pool of the bounce buffer (0 = low / only, 1 = high).
    public var pool: Int?
}

/// Why a streaming map failed (`DMA_MAPPING_ERROR`).
public enum XenMapError: Error, Sendable, Hashable {
    /// `mapping_size > alloc_size`.
    case invalidSize
    /// No free run of slots: "swiotlb buffer is full".
    case full
    /// The bounce buffer itself is beyond the device's mask (it was unmapped again).
    case bounceBufferNotCapable
}

/// xen-swiotlb in a PV dom0 (drivers/xen/swiotlb-xen.c, v5.11 and the RFC): the swiotlb pools
/// set up over dom0's P2M, and the DMA API decisions made on machine addresses.
public struct XenSwiotlb: Sendable {
    /// The host (heap, M2P).
    public var host: XenHost
    /// Dom0 and its P2M.
    public var dom0: PVDomain
    /// Dom0's free pseudo-physical memory (coherent allocations come from here).
    public var memory: PseudoPhysicalAllocator
    /// The generic swiotlb holding the pools (pseudo-physical addresses).
    public var tlb: SoftwareIOTLB
    /// The kernel lines printed by the set-up.
    public private(set) var log: [String]
    /// Every `xen_create_contiguous_region` the fixup made.
    public private(set) var exchanges: [FixupExchange]
    /// Coherent allocations by first frame: their order and whether they were exchanged
    /// (`PageXenRemapped`).
    public private(set) var coherent: [PFN: (order: Int, remapped: Bool)] = [:]

    init(host: XenHost, dom0: PVDomain, memory: PseudoPhysicalAllocator, tlb: SoftwareIOTLB, log: [String], exchanges: [FixupExchange]) {
        self.host = host; self.dom0 = dom0; self.memory = memory; self.tlb = tlb; self.log = log; self.exchanges = exchanges
    }

    // MARK: Translation

    /// `xen_phys_to_dma`: a pseudo-physical address to its bus address, the machine address
    /// dom0's P2M gives (`pfn_to_bfn`).
    public func physToDMA(_ p: PhysicalAddress) -> DMAAddress { dom0.p2m.physToMachine(p).bus }

    /// `xen_dma_to_phys` (via `bfn_to_pfn`, i.e. `mfn_to_pfn`).
    public func dmaToPhys(_ d: DMAAddress) -> PhysicalAddress { dom0.p2m.machineToPhys(d.machine, m2p: host.m2p) }

    /// `is_xen_swiotlb_buffer(dev, dma)`: the frame is a local pfn (M2P + P2M round trip, so
    /// foreign frames are ignored) inside one of the pools.
    public func isXenBounceBuffer(_ d: DMAAddress) -> Bool {
        guard let pfn = dom0.p2m.localPFN(ofBusFrame: d.machine.mfn, m2p: host.m2p) else { return false }
        return tlb.isBounceBuffer(pfn.address)
    }

    /// `xen_swiotlb_dma_supported(dev, mask)`: the machine address of a pool's last byte fits
    /// (the RFC: any pool's).
    public func dmaSupported(_ mask: UInt64) -> Bool {
        tlb.pools.contains { physToDMA(PhysicalAddress($0.end.rawValue - 1)).rawValue <= mask }
    }

    // MARK: Streaming DMA

    /// `xen_swiotlb_map_page`: direct when the machine range is within the device's limit,
    /// machine-contiguous and not forced; otherwise bounce through the pool the RFC rule picks
    /// and check the bounce buffer's machine address again. `cpu` is the processor the map runs
    /// on; `alignMask` the `alloc_align_mask` the allocator is given (0 from
    /// `xen_swiotlb_map_page` itself; a trace's `align=` records another caller's).
    public mutating func mapPage(
        _ device: DMADevice, _ phys: PhysicalAddress, size: Int, direction: DMADirection,
        attributes: DMAAttributes = [], cpu: Int = 0, alignMask: UInt64 = 0
    ) throws(SwiotlbBug) -> Result<DMAHandle, XenMapError> {
        let dev = physToDMA(phys)
        if device.isCapable(dev, size: UInt64(size))
            && dom0.p2m.isMachineContiguous(phys, size: UInt64(size))
            && tlb.force != .force
        {
            return .success(DMAHandle(address: dev, bounced: false, pool: nil))
        }
        switch try tlb.map(
            device: device, original: phys, mappingSize: size, allocSize: size,
            direction: direction, attributes: attributes, alignMask: alignMask, cpu: cpu)
        {
        case .failure(.full): return .failure(.full)
        case .failure(.invalidSize): return .failure(.invalidSize)
        case .success(let m):
            let bus = physToDMA(m.address)
            guard device.isCapable(bus, size: UInt64(size)) else {
                try tlb.unmap(
                    m.address, mappingSize: size, allocSize: size, direction: direction,
                    attributes: attributes.union(.skipCPUSync), minAlignMask: device.minAlignMask)
                return .failure(.bounceBufferNotCapable)
            }
            return .success(DMAHandle(address: bus, bounced: true, pool: m.pool))
        }
    }

    /// `xen_swiotlb_unmap_page`: back to the pseudo-physical address through the M2P; a bounce
    /// buffer is copied back (FROM_DEVICE/BIDIRECTIONAL) and freed.
    public mutating func unmapPage(
        _ device: DMADevice, _ dma: DMAAddress, size: Int, direction: DMADirection,
        attributes: DMAAttributes = []
    ) throws(SwiotlbBug) {
        guard isXenBounceBuffer(dma) else { return }
        try tlb.unmap(
            dmaToPhys(dma), mappingSize: size, allocSize: size, direction: direction, attributes: attributes,
            minAlignMask: device.minAlignMask)
    }

    /// `xen_swiotlb_sync_single_for_cpu` / `_for_device`.
    public mutating func sync(
        _ device: DMADevice, _ dma: DMAAddress, size: Int, direction: DMADirection,
        target: SyncTarget
    ) throws(SwiotlbBug) {
        guard isXenBounceBuffer(dma) else { return }
        try tlb.sync(dmaToPhys(dma), size: size, direction: direction, target: target, minAlignMask: device.minAlignMask)
    }

    /// `xen_swiotlb_map_sg`: each element mapped in turn; on a failure the elements done so far
    /// are unmapped with SKIP_CPU_SYNC and nil is returned (the kernel returns 0 and sets the
    /// first element's length to 0).
    public mutating func mapSG(
        _ device: DMADevice, _ list: [(PhysicalAddress, Int)], direction: DMADirection,
        attributes: DMAAttributes = []
    ) throws(SwiotlbBug) -> [DMAHandle]? {
        var done: [(DMAHandle, Int)] = []
        for (p, len) in list {
            switch try mapPage(device, p, size: len, direction: direction, attributes: attributes) {
            case .success(let h): done.append((h, len))
            case .failure:
                for (h, l) in done {
                    try unmapPage(device, h.address, size: l, direction: direction, attributes: attributes.union(.skipCPUSync))
                }
                return nil
            }
        }
        return done.map(\.0)
    }

    /// `xen_swiotlb_unmap_sg`.
    public mutating func unmapSG(
        _ device: DMADevice, _ handles: [(DMAHandle, Int)], direction: DMADirection,
        attributes: DMAAttributes = []
    ) throws(SwiotlbBug) {
        for (h, len) in handles { try unmapPage(device, h.address, size: len, direction: direction, attributes: attributes) }
    }

    // MARK: Coherent DMA

    /// `xen_swiotlb_alloc_coherent`: `2^order` pages of dom0; when their machine range is beyond
    /// the coherent mask (default 32 bits) or not contiguous — or, on Linux 6.1.192, size-aligned
    /// in pseudo-physical but not in machine address (``requiresAlignment(_:bytes:)``) —
    /// exchange them with `address_bits = fls64(mask)` and mark them remapped. Returns the
    /// pages and the DMA handle. The pages are dom0's highest free block, or those from `pfn`
    /// when given (where the real kernel's page allocator put them): nil when they are not free.
    public mutating func allocCoherent(_ device: DMADevice, size: Int, at pfn: PFN? = nil) -> (PhysicalAddress, DMAAddress)? {
        let order = BitMath.pageOrder(bytes: UInt64(max(size, 1)))
        let mask = device.coherentDMAMask != 0 ? device.coherentDMAMask : BitMath.dmaBitMask(32)
        let bytes = Page.size << UInt64(order)
        let count: UInt64 = 1 << UInt64(order)
        let pages: Range<PFN>
        if let pfn {
            guard pfn.rawValue % count == 0, pfn.rawValue <= UInt64.max - count, memory.isFree(pfn..<pfn.advanced(by: count)) else { return nil }
            pages = pfn..<pfn.advanced(by: count)
            memory.reserve(pages)
        } else {
            guard let got = memory.allocate(pages: count, alignPages: count) else { return nil }
            pages = got
        }
        let phys = pages.lowerBound.address
        let dev = physToDMA(phys)
        if dev.rawValue &+ bytes &- 1 <= mask && dom0.p2m.isMachineContiguous(phys, size: bytes)
            && !requiresAlignment(phys, bytes: bytes)
        {
            coherent[pages.lowerBound] = (order, false)
            tlb.memory.write([UInt8](repeating: 0, count: Int(bytes)), at: phys)
            return (phys, dev)
        }
        switch host.createContiguousRegion(
            &dom0, start: phys.pfn, order: order, addressBits: BitMath.fls64(mask),
            maxOrder: tlb.kernel.model.xenCoherentRules.maxContiguousOrder)
        {
        case .success(let m):
            coherent[pages.lowerBound] = (order, true)
            tlb.memory.write([UInt8](repeating: 0, count: Int(bytes)), at: phys)
            return (phys, m.bus)
        case .failure:
            memory.release(pages)
            return nil
        }
    }

    /// `range_requires_alignment(p, size)`, where the kernel has it (``XenCoherentRules/checksAlignment``):
    /// `p` is aligned to the allocation's power-of-two size but its machine address is not.
    func requiresAlignment(_ p: PhysicalAddress, bytes: UInt64) -> Bool {
        guard tlb.kernel.model.xenCoherentRules.checksAlignment else { return false }
        return p.rawValue & (bytes &- 1) == 0 && physToDMA(PhysicalAddress(p.rawValue & ~Page.offsetMask)).rawValue & (bytes &- 1) != 0
    }

    /// `xen_swiotlb_free_coherent`: give an exchanged region back (`xen_destroy_contiguous_region`)
    /// unless its handle is out of mask or not contiguous (the kernel WARNs and keeps it), then
    /// free the pages — or, where the kernel returns on the WARN
    /// (``XenCoherentRules/keepsPagesOnWarning``, 6.1.192, which also WARNs on
    /// ``requiresAlignment(_:bytes:)``), keep them.
    public mutating func freeCoherent(_ device: DMADevice, size: Int, dma: DMAAddress) {
        let order = BitMath.pageOrder(bytes: UInt64(max(size, 1)))
        let mask = device.coherentDMAMask != 0 ? device.coherentDMAMask : BitMath.dmaBitMask(32)
        let bytes = Page.size << UInt64(order)
        let phys = dmaToPhys(dma)
        guard let info = coherent[phys.pfn] else { return }
        let wellFormed =
            dma.rawValue &+ bytes &- 1 <= mask && dom0.p2m.isMachineContiguous(phys, size: bytes)
            && !requiresAlignment(phys, bytes: bytes)
        if !wellFormed && tlb.kernel.model.xenCoherentRules.keepsPagesOnWarning { return }
        if wellFormed && info.remapped {
            host.destroyContiguousRegion(&dom0, start: phys.pfn, order: order, maxOrder: tlb.kernel.model.xenCoherentRules.maxContiguousOrder)
        }
        coherent[phys.pfn] = nil
        memory.release(phys.pfn..<phys.pfn.advanced(by: 1 << UInt64(order)))
    }
}
