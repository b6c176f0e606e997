import XenMemory

/// Dongli Zhang's RFC v1 on v5.11-rc6 ("swiotlb: 64-bit DMA buffer"): v5.11's allocator with a
/// second, 64-bit pool. `swiotlb=<lo>,<hi>` sizes both; a device whose
/// `min_not_zero(dma_mask, bus_dma_limit)` is all ones maps from the high pool; every message
/// and the `mapped` line name the pool (`Low Mem`, `High Mem`). Search, release and copies are
/// v5.11's.
public enum RFCv1: SwiotlbKernelModel {
    /// The short name `--kernel` and a trace header use.
    public static let name = "rfc-v1"
    /// The name reports print.
    public static let title = "the RFC v1 (64-bit swiotlb) on Linux v5.11"

    /// `<lo>,<hi>[,force|noforce]` and `,<hi>,force`; `noforce` leaves each pool 1 slot.
    public static func readCommandLine(_ text: String) -> SwiotlbCommandLine {
        var c = SwiotlbCommandLine()
        var rest = Substring(text)
        c.readSize(&rest)
        c.readHighSize(&rest)
        c.readForce(rest, noForceSlots: 1)
        return c
    }

    /// `Low Mem` then `High Mem`, unless a trace named them.
    public static func poolName(index: Int, of count: Int, declared: String?) -> String? {
        declared ?? (index == 0 ? "Low Mem" : "High Mem")
    }

    /// v5.11's (none).
    public static func setUpLines(commandLine: SwiotlbCommandLine, cpus: Int) -> [String] { [] }

    /// v5.11's set-up with the `Low Mem` pool below 4 GiB and, with `swiotlb=<lo>,<hi>`, the
    /// `High Mem` pool anywhere.
    public static func setUpNativePools<Platform: NativePoolPlatform>(
        commandLine: SwiotlbCommandLine, guest: NativeGuestFacts, platform: inout Platform
    ) -> NativePoolSetup? {
        Linux5_11.setUpNativePools(
            commandLine: commandLine, guest: guest,
            names: (poolName(index: 0, of: 2, declared: nil), poolName(index: 1, of: 2, declared: nil)),
            highSlots: commandLine.highNslabs, platform: &platform)
    }

    /// v5.11's `xen_swiotlb_init` once for the low pool and, with `swiotlb=<lo>,<hi>`, once for
    /// the high pool, whose fixup asks for 64-bit memory only.
    public static func setUpXenPools<Platform: XenPoolPlatform>(
        commandLine: SwiotlbCommandLine, cpus: Int, early: Bool,
        platform: inout Platform
    ) -> XenPoolSetup {
        var types = [
            XenPoolType(
                name: poolName(index: 0, of: 2, declared: nil), nslabs: commandLine.nslabs,
                firstBits: 18, maxBits: XenPoolType.maxDMABits)
        ]
        if let hi = commandLine.highNslabs {
            types.append(XenPoolType(name: poolName(index: 1, of: 2, declared: nil), nslabs: hi, firstBits: 64, maxBits: 64))
        }
        return Linux5_11.setUpXenPools(types, early: early, platform: &platform)
    }

    /// v5.11's.
    public static var encryptedGuestSizing: EncryptedGuestSizing { Linux5_11.encryptedGuestSizing }

    /// v5.11's.
    public static var xenCoherentRules: XenCoherentRules { Linux5_11.xenCoherentRules }

    /// v5.11's, in the pool the device's mask picks.
    @inline(__always)
    public static func mapSingle(_ tlb: inout SoftwareIOTLB, _ r: MapRequest) throws(SwiotlbBug) -> Result<BounceMapping, SwiotlbMapError> {
        try Linux5_11.mapSingle(&tlb, r)
    }

    /// v5.11's.
    @inline(__always)
    public static func unmapSingle(_ tlb: inout SoftwareIOTLB, _ address: PhysicalAddress, pool: Int, _ r: UnmapRequest) throws(SwiotlbBug) {
        try Linux5_11.unmapSingle(&tlb, address, pool: pool, r)
    }

    /// v5.11's.
    public static func syncSingle(
        _ tlb: inout SoftwareIOTLB, _ address: PhysicalAddress, pool: Int, size: Int, direction: DMADirection,
        target: SyncTarget, minAlignMask: UInt64
    ) throws(SwiotlbBug) {
        try Linux5_11.syncSingle(&tlb, address, pool: pool, size: size, direction: direction, target: target, minAlignMask: minAlignMask)
    }

    /// v5.11's.
    public static func slotsNeeded(allocSize: Int, original: PhysicalAddress, minAlignMask: UInt64) -> Int {
        Linux5_11.slotsNeeded(allocSize: allocSize, original: original, minAlignMask: minAlignMask)
    }

    /// v5.11's.
    public static func maxMappingSize(minAlignMask: UInt64) -> Int { Linux5_11.maxMappingSize(minAlignMask: minAlignMask) }

    /// v5.11's files, and `io_tlb_nslabs-highmem`, `io_tlb_used-highmem` for the high pool.
    public static func debugfs(_ tlb: SoftwareIOTLB) -> [(file: String, value: Int)] {
        var out = Linux5_11.debugfs(tlb)
        if tlb.pools.count > 1 {
            out += [
                (SwiotlbKernelText.nslabsFile + SwiotlbKernelText.highPoolSuffix, tlb.pools[1].nslabs),
                (SwiotlbKernelText.usedFile + SwiotlbKernelText.highPoolSuffix, tlb.pools[1].used),
            ]
        }
        return out
    }

    /// v5.11's trace rules.
    public static var traceFields: TraceFields { Linux5_11.traceFields }
    /// The low and the high pool.
    public static var maxTracePools: Int { Linux5_11.maxTracePools }
    /// A third pool.
    public static var extraTracePoolRefusal: String { Linux5_11.extraTracePoolRefusal }
    /// v5.11's.
    public static func tracePool(nslabs: UInt64, areas: UInt64?, line: Int) throws(TraceError) -> TracePoolShape {
        try Linux5_11.tracePool(nslabs: nslabs, areas: areas, line: line)
    }
    /// v5.11's.
    public static var skipsOpsOfFailedMaps: Bool { Linux5_11.skipsOpsOfFailedMaps }
    /// The replay engine compiled for this kernel.
    public static func traceReplayEngine(movesBytes: Bool) -> TraceReplayEngine { .make(RFCv1.self, movesBytes: movesBytes) }

    /// v5.11's, the high pool by name.
    public static func closingLines(_ tlb: SoftwareIOTLB) -> [String] { Linux5_11.closingLines(tlb) }
}

extension SwiotlbKernel {
    /// The RFC v1 on v5.11.
    public static let rfcV1 = SwiotlbKernel(RFCv1.self)
}
