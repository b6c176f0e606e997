import Swiotlb
import XenMemory
import XenSwiotlb

/// A native (bare-metal or HVM) x86 guest booted as far as its DMA API: its E820 and free
/// memory, the first MiB reserved (``EarlyReservedFrames/native``); dma-direct and swiotlb come
/// next.
///
/// ```swift
/// var guest = NativeGuestBoot(e820: .qemuPC(ramBytes: 20 << 30))
/// let dma = guest.swiotlb(commandLine: SwiotlbCommandLine(parsing: "65536,1048576", kernel: .rfcV1),
///                         kernel: .rfcV1, encryption: .sev)   // a SEV guest: two pools
/// ```
public struct NativeGuestBoot: Sendable {
    /// The firmware's memory map, in the guest's physical addresses.
    public let e820: GuestE820
    /// Free pseudo-physical memory; reserve more before ``swiotlb(commandLine:kernel:encryption:iommuSoft:cpus:dynamicPools:coherentPool:)``
    /// to model what else the kernel took.
    public var memory: PseudoPhysicalAllocator

    /// Boots on `e820`.
    public init(e820: GuestE820) {
        self.e820 = e820
        memory = PseudoPhysicalAllocator(e820: e820)
        memory.reserve(EarlyReservedFrames.native)
    }

    /// Linux's `BIOS-e820: [mem …] <type>` lines.
    public var e820Lines: [String] { e820.linuxLines.map { "BIOS-e820: " + $0.dropFirst("Xen: ".count) } }

    /// The guest's RAM pfns that buffers may use (the pools not taken out).
    public var usableFrames: [Range<PFN>] { e820.ramFrames }

    /// Sets up dma-direct and swiotlb from the guest's free memory
    /// (``DirectDMA/boot(e820:commandLine:kernel:encryption:iommuSoft:cpus:dynamicPools:coherentPool:memory:)``);
    /// nil when the kernel stops the boot (v5.11: no memory below 4 GiB for the pool).
    public mutating func swiotlb(
        commandLine: SwiotlbCommandLine, kernel: SwiotlbKernel = .v5_11,
        encryption: MemoryEncryption? = nil, iommuSoft: Bool = false, cpus: Int = 1, dynamicPools: Range<PhysicalAddress>? = nil,
        coherentPool: UInt64? = nil
    ) -> DirectDMA? {
        DirectDMA.boot(
            e820: e820, commandLine: commandLine, kernel: kernel, encryption: encryption,
            iommuSoft: iommuSoft, cpus: cpus, dynamicPools: dynamicPools, coherentPool: coherentPool, memory: &memory)
    }
}
