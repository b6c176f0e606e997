import XenMemory

/// Linux v5.11's swiotlb (kernel/dma/swiotlb.c and drivers/xen/swiotlb-xen.c of v5.11): one
/// pool, searched next-fit from one cursor in `stride` steps, the slot's original address per
/// slot, the bounce copies by direction.
public enum Linux5_11: SwiotlbKernelModel {
    /// The short name `--kernel` and a trace header use.
    public static let name = "v5.11"
    /// The name reports print.
    public static let title = "Linux v5.11"

    /// `<nslabs>[,force|,noforce]`, `force`, `noforce` (which keeps a 1-slot pool).
    public static func readCommandLine(_ text: String) -> SwiotlbCommandLine {
        var c = SwiotlbCommandLine()
        var rest = Substring(text)
        c.readSize(&rest)
        c.readForce(rest, noForceSlots: 1)
        return c
    }

    /// Nothing: v5.11 prints only the `mapped` line, once the pool is placed.
    public static func setUpLines(commandLine: SwiotlbCommandLine, cpus: Int) -> [String] { [] }

    /// No names; a trace's second pool makes the run the RFC's, whose names it takes.
    public static func poolName(index: Int, of count: Int, declared: String?) -> String? {
        count > 1 ? RFCv1.poolName(index: index, of: count, declared: declared) : nil
    }

    /// `sev_setup_arch` → `swiotlb_adjust_size`: only when `swiotlb=` gave no size.
    public static let encryptedGuestSizing = EncryptedGuestSizing.unlessSizeGiven

    /// x86 v5.11: the one low pool (``setUpNativePools(commandLine:guest:names:highSlots:platform:)``).
    public static func setUpNativePools<Platform: NativePoolPlatform>(
        commandLine: SwiotlbCommandLine, guest: NativeGuestFacts, platform: inout Platform
    ) -> NativePoolSetup? {
        setUpNativePools(commandLine: commandLine, guest: guest, names: (nil, nil), highSlots: nil, platform: &platform)
    }

    /// x86 v5.11's set-up, and the RFC's with its high pool of `highSlots`: none unless bouncing
    /// is forced, memory is encrypted, `iommu=soft` is given or RAM reaches above 4 GiB; the
    /// low pool's size from `swiotlb=` or, with memory encryption, `swiotlb_adjust_size`
    /// (``encryptedGuestSizing``), from `memblock_alloc_low` (nil when it does not fit: the
    /// kernel panics); the high pool from `memblock_alloc` anywhere, skipped when it does not
    /// fit; then `AMD Memory Encryption Features active: SEV` (`mem_encrypt_init`), `PCI-DMA:
    /// Using software bounce buffering for IO (SWIOTLB)` and the `mapped` lines.
    static func setUpNativePools<Platform: NativePoolPlatform>(
        commandLine c: SwiotlbCommandLine, guest g: NativeGuestFacts, names: (low: String?, high: String?), highSlots: UInt64?,
        platform: inout Platform
    ) -> NativePoolSetup? {
        var log: [String] = []
        guard g.swiotlbEnabled || c.force == .force else { return NativePoolSetup(pools: [], log: log, force: c.force) }
        var low = c.effectiveNslabs
        if g.encryption != nil, let adjusted = encryptedGuestSizing.adjust(ramBytes: g.ramBytes, commandLine: c) {
            low = adjusted.nslabs
            log.append(SwiotlbKernelText.messagePrefix + adjusted.line)
        }
        guard let start = platform.allocateEarly(bytes: low << UInt64(IOTLB.shift), belowFourGiB: true) else { return nil }
        var pools = [SlotPool(name: names.low, start: start, nslabs: Int(low))]
        if let highSlots, let high = platform.allocateEarly(bytes: highSlots << UInt64(IOTLB.shift), belowFourGiB: false) {
            pools.append(SlotPool(name: names.high, start: high, nslabs: Int(highSlots)))
        }
        if g.encryption != nil { log.append("AMD Memory Encryption Features active: SEV") }
        log.append(SwiotlbKernelText.softwareBounceBuffering)
        log += pools.map(SoftwareIOTLB.mappedLine)
        return NativePoolSetup(pools: pools, log: log, force: g.encryption != nil ? .force : c.force)
    }

    /// `xen_swiotlb_init` for the one pool (``setUpXenPools(_:early:platform:)``).
    public static func setUpXenPools<Platform: XenPoolPlatform>(
        commandLine: SwiotlbCommandLine, cpus: Int, early: Bool,
        platform: inout Platform
    ) -> XenPoolSetup {
        setUpXenPools(
            [XenPoolType(name: nil, nslabs: commandLine.nslabs, firstBits: 18, maxBits: XenPoolType.maxDMABits)],
            early: early, platform: &platform)
    }

    /// Neither the alignment test nor the early return on a WARN; `MAX_CONTIG_ORDER` 9 (2 MiB).
    public static let xenCoherentRules = XenCoherentRules(checksAlignment: false, keepsPagesOnWarning: false, maxContiguousOrder: 9)

    /// `swiotlb_tbl_map_single` of v5.11: slots for `alloc_size` in stride 2 from a page on, the
    /// search of ``SlotPool/allocate(nslots:stride:offsetSlots:maxSlots:original:)``, the copy to
    /// the bounce buffer for TO_DEVICE and BIDIRECTIONAL unless SKIP_CPU_SYNC.
    @inline(__always)
    public static func mapSingle(_ tlb: inout SoftwareIOTLB, _ r: MapRequest) throws(SwiotlbBug) -> Result<BounceMapping, SwiotlbMapError> {
        let nslots = (r.allocSize + IOTLB.slotSize - 1) >> IOTLB.shift
        return try tlb.runMap(r, frame, nslots: nslots, fullSize: r.allocSize) { tlb throws(SwiotlbBug) in
            let w = try tlb.window(pool: tlb.poolIndex(for: r.device), for: r)
            let p = w.pool
            let stride = r.allocSize >= 4096 ? 2 : 1
            guard
                let slot = tlb.pools[p].allocate(
                    nslots: nslots, stride: stride, offsetSlots: w.offsetSlots, maxSlots: w.maxSlots,
                    original: r.original)
            else { return nil }
            let address = tlb.pools[p].start.advanced(by: UInt64(slot << IOTLB.shift))
            if !r.attributes.contains(.skipCPUSync) && (r.direction == .toDevice || r.direction == .bidirectional) {
                tlb.bounce(from: r.original, to: address, count: r.mappingSize)
            }
            return BounceMapping(address: address, pool: p, slot: slot, nslots: nslots)
        }
    }

    /// `Invalid sizes` for `mapping_size > alloc_size`; without a pool the "full" line.
    static let frame = MapFrame(checksSizes: true, noPool: .fullMessage)

    /// Copy back for FROM_DEVICE/BIDIRECTIONAL unless SKIP_CPU_SYNC, then free `alloc_size`'s
    /// slots with merging.
    @inline(__always)
    public static func unmapSingle(_ tlb: inout SoftwareIOTLB, _ address: PhysicalAddress, pool p: Int, _ r: UnmapRequest) throws(SwiotlbBug) {
        let nslots = (r.allocSize + IOTLB.slotSize - 1) >> IOTLB.shift
        guard nslots > 0 else { throw .zeroSize }
        let slot = Int((address.rawValue - tlb.pools[p].start.rawValue) >> UInt64(IOTLB.shift))
        let orig = tlb.pools[p].originalAddress(ofSlot: slot)
        if orig != IOTLB.invalidAddress && !r.attributes.contains(.skipCPUSync)
            && (r.direction == .fromDevice || r.direction == .bidirectional)
        {
            tlb.bounce(from: address, to: orig, count: r.mappingSize)
        }
        tlb.pools[p].release(slot: slot, nslots: min(nslots, tlb.pools[p].nslabs - slot))
    }

    /// The slot's original address plus the offset inside the slot; the copy by target and direction.
    public static func syncSingle(
        _ tlb: inout SoftwareIOTLB, _ address: PhysicalAddress, pool p: Int, size: Int, direction: DMADirection,
        target: SyncTarget, minAlignMask: UInt64
    ) throws(SwiotlbBug) {
        let slot = Int((address.rawValue - tlb.pools[p].start.rawValue) >> UInt64(IOTLB.shift))
        var orig = tlb.pools[p].originalAddress(ofSlot: slot)
        if orig == IOTLB.invalidAddress { return }
        orig.rawValue &+= address.rawValue & UInt64(IOTLB.slotSize - 1)
        switch (target, direction) {
        case (.cpu, .fromDevice), (.cpu, .bidirectional): tlb.bounce(from: address, to: orig, count: size)
        case (.cpu, .toDevice), (.device, .fromDevice): break
        case (.device, .toDevice), (.device, .bidirectional): tlb.bounce(from: orig, to: address, count: size)
        default: throw .syncDirection(direction, target)
        }
    }

    /// `nr_slots(alloc_size)`.
    public static func slotsNeeded(allocSize: Int, original: PhysicalAddress, minAlignMask: UInt64) -> Int {
        (allocSize + IOTLB.slotSize - 1) >> IOTLB.shift
    }

    /// `IO_TLB_SIZE * IO_TLB_SEGSIZE` (256 KiB), whatever the device.
    public static func maxMappingSize(minAlignMask: UInt64) -> Int { IOTLB.maxMappingSize }

    /// `io_tlb_nslabs` and `io_tlb_used` of the pool.
    public static func debugfs(_ tlb: SoftwareIOTLB) -> [(file: String, value: Int)] {
        tlb.pools.first.map { [(SwiotlbKernelText.nslabsFile, $0.nslabs), (SwiotlbKernelText.usedFile, $0.used)] } ?? []
    }

    /// None of format v2's allocation fields.
    public static let traceFields: TraceFields = []
    /// Two: a second pool is the RFC's high pool.
    public static let maxTracePools = 2
    /// A third pool.
    public static let extraTracePoolRefusal = "a third pool (a trace has at most two: the RFC's low and high pool)"

    /// `nslabs` as given: 1 (the `noforce` pool) or a multiple of 128.
    public static func tracePool(nslabs: UInt64, areas: UInt64?, line: Int) throws(TraceError) -> TracePoolShape {
        guard nslabs == 1 || (nslabs > 0 && nslabs % UInt64(IOTLB.segmentSlots) == 0), nslabs <= UInt64(IOTLB.maxModelSlots) else {
            throw TraceError(line: line, token: "nslabs=\(nslabs)", message: "nslabs must be 1 or a multiple of 128 up to \(IOTLB.maxModelSlots)")
        }
        return TracePoolShape(nslabs: Int(nslabs), areas: 1)
    }

    /// Refused: a failed map's id is not mapped.
    public static let skipsOpsOfFailedMaps = false

    /// The replay engine compiled for this kernel.
    public static func traceReplayEngine(movesBytes: Bool) -> TraceReplayEngine { .make(Linux5_11.self, movesBytes: movesBytes) }

    /// `final used=<N> index=<I>` for the first pool, `final pool=<name> used=… index=…` for a second.
    public static func closingLines(_ tlb: SoftwareIOTLB) -> [String] {
        var out = ["final used=\(tlb.pools[0].used) index=\(tlb.pools[0].index)"]
        for (i, p) in tlb.pools.enumerated().dropFirst() {
            out.append("final pool=\(p.name ?? String(i)) used=\(p.used) index=\(p.index)")
        }
        return out
    }
}

extension SwiotlbKernel {
    // swift-format-ignore: AlwaysUseLowerCamelCase
    // (named after the kernel release, as the trace header and --kernel spell it: v5.11)
    /// Linux v5.11.
    public static let v5_11 = SwiotlbKernel(Linux5_11.self)
}

/// One pool xen-swiotlb of v5.11 sets up (the RFC runs the set-up once per type).
struct XenPoolType {
    /// `MAX_DMA_BITS` of the low (and v5.11's only) pool.
    static let maxDMABits = 32
    /// The pool's name (nil: none).
    var name: String?
    /// Slots from `swiotlb=` (0: the default 64 MiB).
    var nslabs: UInt64
    /// The first `dma_bits` the fixup tries.
    var firstBits: Int
    /// The widest it tries.
    var maxBits: Int
}

extension Linux5_11 {
    /// `xen:swiotlb_xen: ` — the driver's `pr_fmt`.
    static let xenPrefix = "xen:swiotlb_xen: "
    static let enomemText = "Cannot allocate Xen-SWIOTLB buffer\n"
    static let efixupText =
        "Failed to get contiguous memory for DMA from Xen!\nYou either: don't have the permissions, do not have enough free memory under 4GB, or the hypervisor memory is too fragmented!"

    /// `xen_swiotlb_init` (v5.11; rfc-v1 runs it once per pool type): size the pool from
    /// `swiotlb=` (0 → 64 MiB), allocate it anywhere in dom0's pseudo-physical memory (early:
    /// memblock, which panics on failure; late: `__get_free_pages` from the order needed down to
    /// 512 slots), make it machine-contiguous (`xen_swiotlb_fixup`), and on failure free it and
    /// retry up to 3 times at half the size (at least 1024 slots).
    static func setUpXenPools<Platform: XenPoolPlatform>(_ types: [XenPoolType], early: Bool, platform: inout Platform) -> XenPoolSetup {
        var log: [String] = []
        var pools: [SlotPool] = []
        for (index, type) in types.enumerated() {
            var repeatCount = 3
            var nslabs = type.nslabs
            while true {
                if nslabs == 0 { nslabs = UInt64(IOTLB.defaultSlots) }
                let bytes = nslabs << UInt64(IOTLB.shift)
                let rc = XenErrno.enomem.rc
                var failure: String
                var start: PhysicalAddress?
                var allocated = bytes
                if early {
                    start = platform.allocateEarly(bytes: bytes)
                    guard start != nil else {
                        log.append("Kernel panic - not syncing: xen_swiotlb_init: Failed to allocate \(bytes) bytes align=0x1000")
                        return XenPoolSetup(pools: pools, log: log, failure: (rc, true))
                    }
                } else if let late = allocateLate(nslabs: &nslabs, platform: &platform, log: &log) {
                    (start, allocated) = late
                }
                if let s = start {
                    if platform.remap(start: s, nslabs: Int(nslabs), pool: index, firstBits: type.firstBits, maxBits: type.maxBits) {
                        let pool = SlotPool(name: type.name, start: s, nslabs: Int(nslabs))
                        pools.append(pool)
                        log.append(SoftwareIOTLB.mappedLine(pool))
                        break
                    }
                    platform.free(start: s, bytes: allocated)
                    failure = efixupText
                } else {
                    failure = enomemText
                }
                if repeatCount > 0 {
                    repeatCount -= 1
                    nslabs = max(1024, nslabs >> 1)
                    log.append(xenPrefix + "Lowering to \((nslabs << UInt64(IOTLB.shift)) >> 20)MB")
                    continue
                }
                let lines = (failure + " (rc:\(rc))").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                log.append(xenPrefix + lines[0])
                log.append(contentsOf: lines.dropFirst())
                if early {
                    log += ("Kernel panic - not syncing: " + failure + " (rc:\(rc))").split(separator: "\n").map(String.init)
                }
                return XenPoolSetup(pools: pools, log: log, failure: (rc, early))
            }
        }
        return XenPoolSetup(pools: pools, log: log)
    }

    /// The late path's `__get_free_pages`, from the order `nslabs` needs down to 512 slots
    /// (orders above MAX_ORDER - 1, 10, always fail): the start and bytes allocated, `nslabs`
    /// lowered to what a smaller order holds (with the kernel's warning); nil when none was free.
    private static func allocateLate<Platform: XenPoolPlatform>(
        nslabs: inout UInt64, platform: inout Platform, log: inout [String]
    ) -> (start: PhysicalAddress, bytes: UInt64)? {
        let wanted = BitMath.pageOrder(bytes: nslabs << UInt64(IOTLB.shift))
        var order = wanted
        while (2 << UInt64(order)) > 512 {
            if order <= 10, let s = platform.allocatePages(order: order) {
                if order != wanted {
                    log.append(xenPrefix + "Warning: only able to allocate \((Page.size << UInt64(order)) >> 20) MB for software IO TLB")
                    nslabs = 2 << UInt64(order)
                }
                return (s, Page.size << UInt64(order))
            }
            order -= 1
        }
        return nil
    }
}
