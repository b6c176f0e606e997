import Swiotlb
import XenMemory

/// dma-direct with swiotlb on a guest without Xen (x86, v5.11 and the RFC): the case of an AMD
/// SEV guest, where `sme_early_init` sets `SWIOTLB_FORCE` and every streaming map bounces.
public struct DirectDMA: Sendable {
    /// The generic swiotlb.
    public var tlb: SoftwareIOTLB
    /// The kernel lines printed by the set-up and the maps.
    public private(set) var log: [String]
    private var warnedOverflow = Set<String>()

    /// Boots the native swiotlb (x86, v5.11): it exists when bouncing is forced, memory is
    /// encrypted, `iommu=soft` is given or RAM reaches above 4 GiB; sizes come from `swiotlb=`
    /// (or, with memory encryption, the kernel's `swiotlb_adjust_size`:
    /// ``SwiotlbKernelModel/encryptedGuestSizing``); the low pool from
    /// `memblock_alloc_low` (below 4 GiB), any further pool the kernel has
    /// (``SwiotlbKernelModel/nativePools(lowSlots:commandLine:)``: the RFC's high pool) from
    /// `memblock_alloc` anywhere, skipped when it does not fit; memory encryption forces
    /// bouncing. Without a pool, bounce attempts report "full" with 0 slots, as v5.11 does.
    /// Nil when the low pool does not fit, or the kernel is not modelled in a native guest.
    public static func boot(
        e820: E820Map, commandLine: SwiotlbCommandLine, kernel: SwiotlbKernel = .default,
        memoryEncryption: Bool, iommuSoft: Bool = false, memory: inout PseudoPhysicalAllocator
    ) -> DirectDMA? {
        var log: [String] = []
        let enabled = memoryEncryption || iommuSoft || commandLine.force == .force || e820.maxRAMFrame > (1 << 32) >> Page.shift
        guard enabled else {
            return DirectDMA(tlb: SoftwareIOTLB(kernel: kernel, pools: [], force: commandLine.force), log: log)
        }
        var lo = commandLine.effectiveNslabs
        if memoryEncryption, let adjusted = kernel.model.encryptedGuestSizing.adjust(ramBytes: e820.ramPages << Page.shift, commandLine: commandLine) {
            lo = adjusted.nslabs
            log.append(SwiotlbKernelText.messagePrefix + adjusted.line)
        }
        guard let requests = kernel.model.nativePools(lowSlots: lo, commandLine: commandLine) else { return nil }
        var pools: [SlotPool] = []
        for (i, r) in requests.enumerated() {
            let limit: UInt64 = r.belowFourGiB ? (1 << 32) >> Page.shift : .max
            guard let range = memory.allocate(pages: (r.nslabs << 11) >> Page.shift, limit: limit) else {
                if i == 0 { return nil }
                continue
            }
            pools.append(SlotPool(name: r.name, start: range.lowerBound << Page.shift, nslabs: Int(r.nslabs)))
        }
        let force: SwiotlbForce = memoryEncryption ? .force : commandLine.force
        let tlb = SoftwareIOTLB(kernel: kernel, pools: pools, force: force)
        log.append("PCI-DMA: Using software bounce buffering for IO (SWIOTLB)")
        log += tlb.infoLines
        return DirectDMA(tlb: tlb, log: log)
    }

    /// `dma_direct_map_page` (v5.11): FORCE always bounces; otherwise bounce only when the
    /// address is beyond the device's limit (NORMAL) or fail (NO_FORCE). A bounce buffer that
    /// is itself beyond the limit is unmapped and reported once per device. `cpu` is the
    /// processor the map runs on; `alignMask` the `alloc_align_mask` the allocator is given (0
    /// from `dma_direct_map_page` itself; a trace's `align=` records another caller's).
    public mutating func mapPage(
        _ device: DMADevice, _ phys: UInt64, size: Int, direction: DMADirection,
        attributes: DMAAttributes = [], cpu: Int = 0, alignMask: UInt64 = 0
    ) throws(SwiotlbBug) -> Result<(address: UInt64, bounced: Bool), XenMapError> {
        let capable = device.isCapable(phys, size: UInt64(size))
        if tlb.force != .force {
            if capable { return .success((phys, false)) }
            if tlb.force == .noForce {
                warnOnce(
                    device,
                    "DMA addr 0x\(Hex.padded(phys, 16))+\(size) overflow (mask \(Hex.digits(device.dmaMask)), bus limit \(Hex.digits(device.busDMALimit))).")
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
            guard device.isCapable(m.address, size: UInt64(size)) else {
                try tlb.unmap(
                    m.address, mappingSize: size, allocSize: size, direction: direction, attributes: attributes.union(.skipCPUSync),
                    minAlignMask: device.minAlignMask)
                warnOnce(
                    device,
                    "swiotlb addr 0x\(Hex.padded(m.address, 16))+\(size) overflow (mask \(Hex.digits(device.dmaMask)), bus limit \(Hex.digits(device.busDMALimit)))."
                )
                return .failure(.bounceBufferNotCapable)
            }
            return .success((m.address, true))
        }
    }

    /// `dma_direct_unmap_page`: bounce buffers are copied back and freed.
    public mutating func unmapPage(
        _ device: DMADevice, _ address: UInt64, size: Int, direction: DMADirection,
        attributes: DMAAttributes = []
    ) throws(SwiotlbBug) {
        guard tlb.isBounceBuffer(address) else { return }
        try tlb.unmap(
            address, mappingSize: size, allocSize: size, direction: direction, attributes: attributes,
            minAlignMask: device.minAlignMask)
    }

    private mutating func warnOnce(_ device: DMADevice, _ text: String) {
        let key = device.name ?? ""
        guard warnedOverflow.insert(key).inserted else { return }
        log.append(device.name.map { "\($0): \(text)" } ?? text)
    }
}
