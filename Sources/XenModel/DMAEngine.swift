import Swiotlb
import XenMemory
import XenSwiotlb

/// A mapped streaming buffer as the workload sees it.
public struct MappedBuffer: Sendable {
    /// The bus address the device uses.
    public var dma: DMAAddress
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
    public init(dma: DMAAddress, size: Int, pool: Int?, direction: DMADirection, slots: Int = 0) {
        self.dma = dma; self.size = size; self.pool = pool; self.direction = direction; self.slots = slots
    }
}

/// The DMA API of the booted guest: xen-swiotlb in a PV guest, dma-direct elsewhere. A driver
/// maps a buffer at a guest ``PhysicalAddress`` and gives the device the ``DMAAddress`` it gets
/// back (the machine address in a PV guest, the same number natively):
///
/// ```swift
/// let nic = DMADevice.pci("0000:00:03.0", bits: 32)
/// switch try engine.map(nic, PhysicalAddress(0x1_2345_6000), size: 1500, direction: .toDevice) {
/// case .success(let buffer):  // buffer.dma is what the device is programmed with
///     try engine.unmap(nic, buffer)
/// case .failure(let why): print(why)  // .full: "swiotlb buffer is full"
/// }
/// ```
///
/// An operation takes its engine out of the enum (`consume self`) and puts it back when done,
/// so the engine it mutates is the only reference to its slot tables: a payload bound by a
/// plain `switch` would share them with `self`, and its first write would copy them.
public enum DMAEngine: Sendable {
    /// A PV guest's xen-swiotlb.
    case xen(XenSwiotlb)
    /// A native guest's dma-direct.
    case native(DirectDMA)

    /// The generic swiotlb underneath.
    public var tlb: SoftwareIOTLB {
        switch self {
        case .xen(let x): return x.tlb
        case .native(let n): return n.tlb
        }
    }

    /// Runs `xen` or `native` on the engine in place, whichever the guest has.
    @inline(__always)
    private mutating func update<R, E: Error>(
        xen: (inout XenSwiotlb) throws(E) -> R, native: (inout DirectDMA) throws(E) -> R
    ) throws(E) -> R {
        switch consume self {
        case .xen(var x):
            defer { self = .xen(x) }
            return try xen(&x)
        case .native(var n):
            defer { self = .native(n) }
            return try native(&n)
        }
    }

    /// Maps one buffer of `size` bytes at pseudo-physical `phys` (`dma_map_page`): the address
    /// the device uses, the pool of its bounce buffer and the slots it took, or why it could not
    /// be mapped; throws where the kernel would BUG. `cpu` is the processor the map runs on,
    /// `alignMask` the allocator's `alloc_align_mask` (a trace's `align=`; 0 from the DMA API).
    public mutating func map(
        _ device: DMADevice, _ phys: PhysicalAddress, size: Int, direction: DMADirection, cpu: Int = 0,
        alignMask: UInt64 = 0
    ) throws(SwiotlbBug) -> Result<MappedBuffer, XenMapError> {
        try update(
            xen: { x throws(SwiotlbBug) in
                let before = Self.slotsInUse(x.tlb)
                let r = try x.mapPage(device, phys, size: size, direction: direction, cpu: cpu, alignMask: alignMask)
                let taken = Self.slotsInUse(x.tlb) - before
                return r.map { MappedBuffer(dma: $0.address, size: size, pool: $0.pool, direction: direction, slots: taken) }
            },
            native: { n throws(SwiotlbBug) in
                let before = Self.slotsInUse(n.tlb)
                let r = try n.mapPage(device, phys, size: size, direction: direction, cpu: cpu, alignMask: alignMask)
                let taken = Self.slotsInUse(n.tlb) - before
                let tlb = n.tlb
                return r.map { m in
                    MappedBuffer(
                        dma: m.address, size: size,
                        pool: m.bounced ? tlb.pools.firstIndex { $0.contains(m.address.directPhysical) }.map(tlb.homePool(of:)) : nil,
                        direction: direction, slots: taken)
                }
            })
    }

    /// `io_tlb_used` summed over `tlb`'s pools.
    @inline(__always)
    private static func slotsInUse(_ tlb: SoftwareIOTLB) -> Int {
        var n = 0
        for p in tlb.pools { n += p.used }
        return n
    }

    /// Unmaps one buffer ``map(_:_:size:direction:cpu:alignMask:)`` gave (`dma_unmap_page`); throws where
    /// the kernel would BUG.
    public mutating func unmap(_ device: DMADevice, _ b: MappedBuffer) throws(SwiotlbBug) {
        try update(
            xen: { x throws(SwiotlbBug) in try x.unmapPage(device, b.dma, size: b.size, direction: b.direction) },
            native: { n throws(SwiotlbBug) in try n.unmapPage(device, b.dma, size: b.size, direction: b.direction) })
    }

    /// Syncs one mapped buffer for the CPU or the device (`dma_sync_single_for_*`).
    public mutating func sync(_ device: DMADevice, _ b: MappedBuffer, target: SyncTarget) throws(SwiotlbBug) {
        try update(
            xen: { x throws(SwiotlbBug) in try x.sync(device, b.dma, size: b.size, direction: b.direction, target: target) },
            native: { n throws(SwiotlbBug) in
                let tlb = b.dma.directPhysical
                if n.tlb.isBounceBuffer(tlb) { try n.tlb.sync(tlb, size: b.size, direction: b.direction, target: target) }
            })
    }

    /// `dma_alloc_coherent`; nil when it fails. Native guests get plain pages (no bounce).
    public mutating func allocCoherent(
        _ device: DMADevice, size: Int, memory: inout PseudoPhysicalAllocator
    ) -> (phys: PhysicalAddress, dma: DMAAddress, exchanged: Bool)? {
        update(
            xen: { x in
                guard let r = x.allocCoherent(device, size: size) else { return nil }
                return (r.0, r.1, x.coherent[r.0.pfn]?.remapped ?? false)
            },
            native: { _ in
                let order = BitMath.pageOrder(bytes: UInt64(max(size, 1)))
                guard let pages = memory.allocate(pages: 1 << UInt64(order), alignPages: 1 << UInt64(order)) else { return nil }
                let phys = pages.lowerBound.address
                return (phys, phys.directDMA, false)
            })
    }

    /// `dma_free_coherent` of what ``allocCoherent(_:size:memory:)`` gave.
    public mutating func freeCoherent(_ device: DMADevice, size: Int, dma: DMAAddress, memory: inout PseudoPhysicalAllocator) {
        update(
            xen: { x in x.freeCoherent(device, size: size, dma: dma) },
            native: { _ in
                let order = BitMath.pageOrder(bytes: UInt64(max(size, 1)))
                let first = dma.directPhysical.pfn
                memory.release(first..<first.advanced(by: 1 << UInt64(order)))
            })
    }

    /// Sets the model's clock the kernel's rate-limited messages are checked against
    /// (``SoftwareIOTLB/jiffies``).
    public mutating func setJiffies(_ jiffies: UInt64) {
        update(xen: { x in x.tlb.jiffies = jiffies }, native: { n in n.tlb.jiffies = jiffies })
    }

    /// Kernel messages since the last call.
    public mutating func takeMessages() -> [KernelMessage] {
        update(xen: { x in x.tlb.takeMessages() }, native: { n in n.tlb.takeMessages() })
    }
}
