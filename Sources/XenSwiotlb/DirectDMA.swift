import Swiotlb
import XenMemory

/// dma-direct with swiotlb on a guest without Xen (x86: v5.11, the RFC, 6.18): the case of a
/// confidential (SEV, TDX) guest, where `SWIOTLB_FORCE` makes every streaming map bounce.
public struct DirectDMA: Sendable {
    /// The generic swiotlb.
    public var tlb: SoftwareIOTLB
    /// The kernel lines printed by the set-up and the maps.
    public private(set) var log: [String]
    private var warnedOverflow = Set<String>()

    /// Boots the native swiotlb of `kernel` (``SwiotlbKernelModel/setUpNativePools(commandLine:guest:platform:)``:
    /// when a pool exists, its size — from `swiotlb=`, or with memory encryption the kernel's
    /// `swiotlb_adjust_size` — and its lines) from the guest's free `memory`: `memblock_alloc_low`
    /// below 4 GiB, `memblock_alloc` anywhere, top-down. With `dynamicPools` (6.18's
    /// `CONFIG_SWIOTLB_DYNAMIC`, a byte range of guest RAM the caller has kept free) pools added
    /// at run time come from that range as ``DynamicPoolMemory`` hands it out; `coherentPool` is
    /// `coherent_pool=` (the DMA atomic pools' size). Without a pool,
    /// bounce attempts fail as the kernel's do. Nil when the kernel stops the boot (v5.11: the
    /// low pool does not fit) or is not modelled in a native guest.
    public static func boot(
        e820: GuestE820, commandLine: SwiotlbCommandLine, kernel: SwiotlbKernel = .default,
        encryption: MemoryEncryption? = nil, iommuSoft: Bool = false, cpus: Int = 1, dynamicPools: Range<PhysicalAddress>? = nil,
        coherentPool: UInt64? = nil, memory: inout PseudoPhysicalAllocator
    ) -> DirectDMA? {
        var facts = NativeGuestFacts(
            ramBytes: e820.ramPages << Page.shift, ramAbove4GiB: e820.maxRAMFrame > PhysicalAddress(1 << 32).pfn, encryption: encryption,
            iommuSoft: iommuSoft, cpus: cpus)
        facts.coherentPool = coherentPool
        var platform = GuestPoolMemory(memory: memory, dynamicPools: dynamicPools)
        guard let setup = kernel.model.setUpNativePools(commandLine: commandLine, guest: facts, platform: &platform) else { return nil }
        memory = platform.memory
        var tlb = SoftwareIOTLB(kernel: kernel, pools: setup.pools, force: setup.force)
        tlb.growth = setup.growth
        tlb.memoryEncrypted = encryption != nil
        return DirectDMA(tlb: tlb, log: setup.log)
    }

    /// `dma_direct_map_page` (v5.11): FORCE always bounces; otherwise bounce only when the
    /// address is beyond the device's limit (NORMAL) or fail (NO_FORCE). A bounce buffer that
    /// is itself beyond the limit is unmapped and reported once per device. `cpu` is the
    /// processor the map runs on; `alignMask` the `alloc_align_mask` the allocator is given (0
    /// from `dma_direct_map_page` itself; a trace's `align=` records another caller's).
    public mutating func mapPage(
        _ device: DMADevice, _ phys: PhysicalAddress, size: Int, direction: DMADirection,
        attributes: DMAAttributes = [], cpu: Int = 0, alignMask: UInt64 = 0
    ) throws(SwiotlbBug) -> Result<(address: DMAAddress, bounced: Bool), XenMapError> {
        let dma = phys.directDMA
        let capable = device.isCapable(dma, size: UInt64(size))
        if tlb.force != .force {
            if capable { return .success((dma, false)) }
            if tlb.force == .noForce {
                warnOnce(
                    device,
                    "DMA addr 0x\(Hex.padded(dma.rawValue, 16))+\(size) overflow (mask \(Hex.digits(device.dmaMask)), bus limit \(Hex.digits(device.busDMALimit)))."
                )
                return .failure(.bounceBufferNotCapable)
            }
        }
        switch try tlb.map(
            device: device, original: phys, mappingSize: size, allocSize: size, direction: direction, attributes: attributes,
            alignMask: alignMask, cpu: cpu)
        {
        case .failure(.full): return .failure(.full)
        case .failure(.invalidSize): return .failure(.invalidSize)
        case .success(let m):
            let bounce = m.address.directDMA
            guard device.isCapable(bounce, size: UInt64(size)) else {
                try tlb.unmap(
                    m.address, mappingSize: size, allocSize: size, direction: direction, attributes: attributes.union(.skipCPUSync),
                    minAlignMask: device.minAlignMask)
                warnOnce(
                    device,
                    "swiotlb addr 0x\(Hex.padded(m.address.rawValue, 16))+\(size) overflow (mask \(Hex.digits(device.dmaMask)), bus limit \(Hex.digits(device.busDMALimit)))."
                )
                return .failure(.bounceBufferNotCapable)
            }
            return .success((bounce, true))
        }
    }

    /// `dma_direct_unmap_page`: bounce buffers are copied back and freed.
    public mutating func unmapPage(
        _ device: DMADevice, _ dma: DMAAddress, size: Int, direction: DMADirection,
        attributes: DMAAttributes = []
    ) throws(SwiotlbBug) {
        guard tlb.isBounceBuffer(dma.directPhysical) else { return }
        try tlb.unmap(
            dma.directPhysical, mappingSize: size, allocSize: size, direction: direction, attributes: attributes,
            minAlignMask: device.minAlignMask)
    }

    private mutating func warnOnce(_ device: DMADevice, _ text: String) {
        let key = device.name ?? ""
        guard warnedOverflow.insert(key).inserted else { return }
        log.append(device.name.map { "\($0): \(text)" } ?? text)
    }
}

/// A native guest's free memory as its kernel's swiotlb set-up sees it (``NativePoolPlatform``):
/// early allocations top-down from the free pages, the memory of dynamic pools a range kept
/// for them.
struct GuestPoolMemory: NativePoolPlatform {
    var memory: PseudoPhysicalAllocator
    let dynamicPools: Range<PhysicalAddress>?

    mutating func allocateEarly(bytes: UInt64, belowFourGiB: Bool) -> PhysicalAddress? {
        let limit = belowFourGiB ? PhysicalAddress(1 << 32).pfn : PFN(.max)
        return memory.allocate(pages: (bytes + Page.offsetMask) >> Page.shift, limit: limit).map { $0.lowerBound.address }
    }

    func dynamicPoolMemory() -> DynamicPoolMemory? { dynamicPools.map(DynamicPoolMemory.init) }

    /// Top-down, as the model's early allocations (the model's rule for `alloc_pages` at boot).
    mutating func allocatePages(order: Int, limit: PhysicalAddress) -> PhysicalAddress? {
        let pages: UInt64 = 1 << UInt64(order)
        let top = limit.rawValue == .max ? PFN(.max) : PhysicalAddress(limit.rawValue &+ 1).pfn
        return memory.allocate(pages: pages, alignPages: pages, limit: top).map { $0.lowerBound.address }
    }

    /// The model's `totalram_pages()`: the free pages left by the early set-up, with the dynamic
    /// pools' range (free RAM the model only keeps for them).
    func managedPages() -> UInt64 { memory.freePages + (dynamicPools.map { $0.span >> Page.shift } ?? 0) }
}
