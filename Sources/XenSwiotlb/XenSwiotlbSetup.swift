import Swiotlb
import XenMemory

/// How xen-swiotlb is set up: the kernel whose rules apply, `swiotlb=`, early or late.
public struct XenSwiotlbConfig: Sendable {
    /// The kernel, whose type sets the pools up (``SwiotlbKernelModel/setUpXenPools(commandLine:cpus:early:platform:)``).
    public var kernel: SwiotlbKernel
    /// The `swiotlb=` parameter.
    public var commandLine: SwiotlbCommandLine
    /// `xen_swiotlb_init(verbose, early)`: early (memblock, panics) or late (page allocator,
    /// returns the error).
    public var early: Bool
    /// `num_possible_cpus()` (v6.1 splits the pool into that many areas, rounded up to a power of two).
    public var cpus: Int
    /// With `CONFIG_SWIOTLB_DYNAMIC` (6.18), the guest memory new pools would come from; nil:
    /// built without it.
    public var dynamicPools: Range<PhysicalAddress>?
    /// Creates a configuration.
    public init(
        kernel: SwiotlbKernel = .default, commandLine: SwiotlbCommandLine = SwiotlbCommandLine(), early: Bool = true, cpus: Int = 1,
        dynamicPools: Range<PhysicalAddress>? = nil
    ) {
        self.kernel = kernel; self.commandLine = commandLine; self.early = early; self.cpus = max(1, cpus)
        self.dynamicPools = dynamicPools
    }
}

/// One `xen_create_contiguous_region` call made by `xen_swiotlb_fixup`.
public struct FixupExchange: Sendable, Hashable {
    /// The pool (0 = low / only, 1 = high).
    public var pool: Int
    /// First slot of the segment.
    public var slot: Int
    /// First pfn of the segment.
    public var pfn: PFN
    /// `address_bits` (`dma_bits`) of the attempt.
    public var addressBits: Int
    /// The new machine frame, or nil when the exchange failed.
    public var mfn: MFN?
}

/// Why xen-swiotlb could not be set up.
public struct XenSwiotlbInitError: Error, Sendable, CustomStringConvertible {
    /// The kernel's lines, one per line.
    public var description: String { log.joined(separator: "\n") }
    /// The kernel's return value (-ENOMEM).
    public var rc: Int32
    /// True for early init, where the kernel panics.
    public var panicked: Bool
    /// Every line printed, the final error lines included.
    public var log: [String]
    /// The fixup attempts made.
    public var exchanges: [FixupExchange]
}

extension XenSwiotlb {
    /// `xen_swiotlb_init` of the configured kernel: its type decides sizes, retries and
    /// messages (``SwiotlbKernelModel/setUpXenPools(commandLine:cpus:early:platform:)``); the
    /// memory comes from dom0's pseudo-physical allocator and each 128-slot segment is made
    /// machine-contiguous by ``fixup(host:dom0:start:nslabs:pool:firstBits:maxBits:)``.
    public static func initialize(
        host: XenHost, dom0: PVDomain, memory: PseudoPhysicalAllocator,
        config: XenSwiotlbConfig
    ) -> Result<XenSwiotlb, XenSwiotlbInitError> {
        var platform = Dom0PoolPlatform(host: host, dom0: dom0, memory: memory)
        platform.dynamicPools = config.dynamicPools
        let setup = config.kernel.model.setUpXenPools(
            commandLine: config.commandLine, cpus: config.cpus, early: config.early,
            platform: &platform)
        if let failure = setup.failure {
            return .failure(XenSwiotlbInitError(rc: failure.rc, panicked: failure.panicked, log: setup.log, exchanges: platform.exchanges))
        }
        var tlb = SoftwareIOTLB(kernel: config.kernel, pools: setup.pools, force: config.commandLine.force)
        tlb.maxSegment = Page.size
        tlb.growth = setup.growth
        return .success(
            XenSwiotlb(
                host: platform.host, dom0: platform.dom0, memory: platform.memory, tlb: tlb,
                log: setup.log, exchanges: platform.exchanges))
    }

    /// `xen_swiotlb_fixup`: one exchange per 128-slot segment, widening `dma_bits` on failure.
    static func fixup(
        host: inout XenHost, dom0: inout PVDomain, start: PFN, nslabs: Int, pool: Int,
        firstBits: Int, maxBits: Int
    ) -> (ok: Bool, exchanges: [FixupExchange]) {
        var bits = firstBits
        var done: [FixupExchange] = []
        var i = 0
        while i < nslabs {
            let slabs = min(nslabs - i, IOTLB.segmentSlots)
            let pfn = start.advanced(by: UInt64(i * IOTLB.slotSize) >> Page.shift)
            let order = BitMath.pageOrder(bytes: UInt64(slabs * IOTLB.slotSize))
            while true {
                // Order 6: within every kernel's limit.
                let r = host.createContiguousRegion(&dom0, start: pfn, order: order, addressBits: bits, maxOrder: XenHost.maxContiguousOrder)
                if case .success(let m) = r {
                    done.append(FixupExchange(pool: pool, slot: i, pfn: pfn, addressBits: bits, mfn: m.mfn))
                    break
                }
                done.append(FixupExchange(pool: pool, slot: i, pfn: pfn, addressBits: bits, mfn: nil))
                let tried = bits
                bits += 1
                if tried >= maxBits { return (false, done) }
            }
            i += slabs
        }
        return (true, done)
    }
}

/// A PV dom0 as the kernel's set-up sees it: its free pseudo-physical memory, and the host that
/// exchanges its frames; every exchange is recorded.
struct Dom0PoolPlatform: XenPoolPlatform {
    var host: XenHost
    var dom0: PVDomain
    var memory: PseudoPhysicalAllocator
    var exchanges: [FixupExchange] = []
    var dynamicPools: Range<PhysicalAddress>?

    init(host: XenHost, dom0: PVDomain, memory: PseudoPhysicalAllocator) {
        self.host = host; self.dom0 = dom0; self.memory = memory
    }

    mutating func allocateEarly(bytes: UInt64) -> PhysicalAddress? {
        memory.allocate(pages: (bytes + Page.offsetMask) >> Page.shift).map { $0.lowerBound.address }
    }

    func dynamicPoolMemory() -> DynamicPoolMemory? { dynamicPools.map(DynamicPoolMemory.init) }

    mutating func allocatePages(order: Int) -> PhysicalAddress? {
        memory.allocate(pages: 1 << UInt64(order), alignPages: 1 << UInt64(order)).map { $0.lowerBound.address }
    }

    mutating func free(start: PhysicalAddress, bytes: UInt64) {
        let first = start.pfn
        memory.release(first..<first.advanced(by: (bytes + Page.offsetMask) >> Page.shift))
    }

    mutating func remap(start: PhysicalAddress, nslabs: Int, pool: Int, firstBits: Int, maxBits: Int) -> Bool {
        let fix = XenSwiotlb.fixup(
            host: &host, dom0: &dom0, start: start.pfn, nslabs: nslabs, pool: pool,
            firstBits: firstBits, maxBits: maxBits)
        exchanges += fix.exchanges
        return fix.ok
    }
}
