import XenMemory

/// Linux 6.1.192's swiotlb (Debian 12's kernel: kernel/dma/swiotlb.c, drivers/xen/swiotlb-xen.c):
/// one default pool split into areas with their own cursors and counts, the device's
/// `min_align_mask` kept in the bounce address, a per-slot `alloc_size`, the map always filling
/// the bounce buffer — and a slot search that can loop forever (``SwiotlbBug/searchNeverEnds(area:device:)``).
/// The loop was bounded in Linux 6.6 (commit 7c3940bf81e5, "swiotlb: fix the deadlock in
/// swiotlb_do_find_slots").
public enum Linux6_1: SwiotlbKernelModel {
    /// The short name `--kernel` and a trace header use.
    public static let name = "v6.1"
    /// The name reports print.
    public static let title = "Linux 6.1.192"

    /// `<nslabs>[,<nareas>][,force|noforce]`: the areas are `swiotlb_adjust_nareas`'s `unsigned
    /// int`; `noforce` (`swiotlb_force_disable`) allocates no pool at all.
    public static func readCommandLine(_ text: String) -> SwiotlbCommandLine {
        var c = SwiotlbCommandLine()
        var rest = Substring(text)
        c.readSize(&rest)
        c.readAreas(&rest)
        c.readForce(rest, noForceSlots: 0)
        return c
    }

    /// `area num`, `roundup to` and the sizes `swiotlb_init_remap` tries, its areas kept
    /// (``AreaPoolPreview``).
    public static func setUpLines(commandLine: SwiotlbCommandLine, cpus: Int) -> [String] {
        AreaPoolPreview.lines(commandLine, cpus: cpus, limitsAreas: false)
    }

    /// The default pool has no name.
    public static func poolName(index: Int, of count: Int, declared: String?) -> String? { nil }

    /// x86 6.1.192 without Xen, the steps and lines of 6.18's native set-up
    /// (``NativeAreaPoolSetup``: `swiotlb_adjust_nareas` while parsing, `sev_setup_arch`'s
    /// `swiotlb_adjust_size` for SEV and TDX alike — `CC_ATTR_GUEST_MEM_ENCRYPT`,
    /// mem_encrypt_amd.c:219-247 —, `swiotlb_init` halving to 512 slots then no pool,
    /// `Memory Encryption Features active:` (mem_encrypt.c:44), `pci_iommu_init`'s lines), with
    /// 6.1.192's own two differences: a halved pool keeps `default_nareas` (swiotlb.c:411-412)
    /// and there are no dynamic pools. Never nil: 6.1 boots without a pool.
    public static func setUpNativePools<Platform: NativePoolPlatform>(
        commandLine: SwiotlbCommandLine, guest: NativeGuestFacts, platform: inout Platform
    ) -> NativePoolSetup? {
        NativeAreaPoolSetup.run(
            commandLine: commandLine, guest: guest, sizing: encryptedGuestSizing, limitsAreas: false, growsPools: false, platform: &platform)
    }

    /// `mem_encrypt_setup_arch` (`mem_encrypt_amd.c` in 6.1) → `swiotlb_adjust_size`: while
    /// `default_nslabs` is 32768.
    public static let encryptedGuestSizing = EncryptedGuestSizing.whileDefaultSize

    /// `range_requires_alignment` in alloc and free only (the Feb 2025 "relax alignment
    /// requirements" backport: streaming maps do not check it); a free that WARNs returns, keeping
    /// the pages; no contiguous-region order limit (the Feb 2025 `alloc_discontig_frames` backport).
    public static let xenCoherentRules = XenCoherentRules(checksAlignment: true, keepsPagesOnWarning: true, maxContiguousOrder: nil)

    /// `Invalid sizes` for `mapping_size > alloc_size`; without a pool (`!mem->nslabs`, the
    /// halving ended with none), `Can not allocate SWIOTLB buffer earlier and can't now provide
    /// you with the DMA bounce buffer` (swiotlb.c:801-804, `dev_warn_ratelimited`).
    static let frame = MapFrame(checksSizes: true, noPool: .cannotAllocate)

    /// `swiotlb_tbl_map_single` of 6.1.192: the offset `orig & min_align & 2047` kept in the
    /// bounce address and counted in the slots and the page-stride test; the stride from
    /// `min_align` above the bits `alloc_align_mask | 2047` covers, doubled from 4096 bytes, at
    /// least the alignment's; ``findSlots(_:pool:_:allocSize:cpu:device:)``; the bounce buffer
    /// always filled with `mapping_size` bytes from the original, whatever the direction (since
    /// the CVE-2022-0854 fix).
    @inline(__always)
    public static func mapSingle(_ tlb: inout SoftwareIOTLB, _ r: MapRequest) throws(SwiotlbBug) -> Result<BounceMapping, SwiotlbMapError> {
        let minAlign = r.device.minAlignMask & 0xffff_ffff
        let offset = Int(r.original.rawValue & minAlign & UInt64(IOTLB.slotSize - 1))
        let allocWithOffset = r.allocSize &+ offset
        let nslots = (allocWithOffset &+ IOTLB.slotSize &- 1) >> IOTLB.shift
        return try tlb.runMap(r, frame, nslots: nslots, fullSize: r.allocSize) { tlb throws(SwiotlbBug) in
            let w = try tlb.window(pool: tlb.poolIndex(for: r.device), for: r)
            let p = w.pool
            let allocAlign = (r.alignMask & 0xffff_ffff) | UInt64(IOTLB.slotSize - 1)
            let iotlbAlign = minAlign & ~allocAlign
            var stride = Int(iotlbAlign >> UInt64(IOTLB.shift)) &+ 1
            if allocWithOffset >= 4096 { stride = max(stride, stride << 1) }
            stride = max(stride, Int(allocAlign >> UInt64(IOTLB.shift)) &+ 1)
            let search = AreaSearch(
                nslots: nslots, stride: stride, alignMask: iotlbAlign, original: r.original.rawValue,
                offsetSlots: w.offsetSlots, maxSlots: w.maxSlots, tableDMAAddress: w.tableDMAAddress)
            guard let index = try findSlots(&tlb.pools[p], search, allocSize: r.allocSize, cpu: r.cpu, device: r.device.name) else {
                return nil
            }
            let address = tlb.pools[p].start.advanced(by: UInt64(index << IOTLB.shift) + UInt64(offset))
            tlb.bounce(from: r.original, to: address, count: r.mappingSize)
            return BounceMapping(address: address, pool: p, slot: index, nslots: nslots)
        }
    }

    /// `swiotlb_find_slots`: the areas tried from `cpu & (nareas - 1)` round the ring, each by
    /// ``SlotPool/allocate(inArea:_:allocSize:)`` (`swiotlb_do_find_slots`). The first slot, or
    /// nil when every area failed.
    @inline(__always)
    static func findSlots(_ pool: inout SlotPool, _ search: AreaSearch, allocSize: Int, cpu: Int, device: String?) throws(SwiotlbBug) -> Int? {
        // Every area fails fast when nslots > area_nslabs (`nslots > area_nslabs - used`, before
        // the area's search): a pool halved under many areas (1,048,576 of 0 slots) fails at once.
        guard search.nslots <= pool.areaSlots else { return nil }
        let nareas = pool.areas.count
        let first = cpu & (nareas &- 1)
        var a = first
        repeat {
            switch pool.allocate(inArea: a, search, allocSize: allocSize) {
            case .found(let s): return s
            case .none: break
            case .neverEnds: throw .searchNeverEnds(area: a, device: device)
            }
            a = a &+ 1 >= nareas ? 0 : a &+ 1
        } while a != first
        return nil
    }

    /// The copy back for FROM_DEVICE/BIDIRECTIONAL unless SKIP_CPU_SYNC (``bounce(_:_:size:pool:toDevice:minAlignMask:)``),
    /// then `swiotlb_release_slots`: the offset recomputed from the address, the slot count
    /// from the first slot's `alloc_size`.
    @inline(__always)
    public static func unmapSingle(_ tlb: inout SoftwareIOTLB, _ address: PhysicalAddress, pool p: Int, _ r: UnmapRequest) throws(SwiotlbBug) {
        let offset = Int(address.rawValue & r.minAlignMask & UInt64(IOTLB.slotSize - 1))
        let slot = Int((address.rawValue - UInt64(offset) - tlb.pools[p].start.rawValue) >> UInt64(IOTLB.shift))
        if !r.attributes.contains(.skipCPUSync) && (r.direction == .fromDevice || r.direction == .bidirectional) {
            bounce(&tlb, address, size: r.mappingSize, pool: p, toDevice: false, minAlignMask: r.minAlignMask)
        }
        _ = tlb.pools[p].release(recordedAt: slot, offset: offset)
    }

    /// By target and direction, through ``bounce(_:_:size:pool:toDevice:minAlignMask:)`` (the copy cut to the allocation).
    public static func syncSingle(
        _ tlb: inout SoftwareIOTLB, _ address: PhysicalAddress, pool p: Int, size: Int, direction: DMADirection,
        target: SyncTarget, minAlignMask: UInt64
    ) throws(SwiotlbBug) {
        try syncDirections(target: target, direction: direction) { toDevice in
            bounce(&tlb, address, size: size, pool: p, toDevice: toDevice, minAlignMask: minAlignMask)
        }
    }

    /// `swiotlb_sync_single_for_cpu` / `_for_device` (6.1 and later): for the CPU `copy(false)`
    /// (back from the bounce buffer) for FROM_DEVICE/BIDIRECTIONAL, for the device `copy(true)`
    /// for TO_DEVICE/BIDIRECTIONAL; nothing for the other valid pair; any other combination is
    /// the kernel's `BUG_ON`.
    @inline(__always)
    static func syncDirections(target: SyncTarget, direction: DMADirection, _ copy: (_ toDevice: Bool) -> Void) throws(SwiotlbBug) {
        switch (target, direction) {
        case (.cpu, .fromDevice), (.cpu, .bidirectional): copy(false)
        case (.cpu, .toDevice), (.device, .fromDevice): break
        case (.device, .toDevice), (.device, .bidirectional): copy(true)
        default: throw .syncDirection(direction, target)
        }
    }

    /// `swiotlb_bounce`: the slot's original address moved by the offset inside the mapping,
    /// the copy cut to the bytes left in the allocation (with the kernel's three `dev_WARN_ONCE`:
    /// each printed once per boot).
    static func bounce(_ tlb: inout SoftwareIOTLB, _ address: PhysicalAddress, size: Int, pool p: Int, toDevice: Bool, minAlignMask: UInt64) {
        let index = Int((address.rawValue - tlb.pools[p].start.rawValue) >> UInt64(IOTLB.shift))
        var orig = tlb.pools[p].originalAddress(ofSlot: index)
        var alloc = Int(tlb.pools[p].allocSize[index])
        guard orig != IOTLB.invalidAddress else { return }
        let origOffset = Int(orig.rawValue & minAlignMask & UInt64(IOTLB.slotSize - 1))
        var tlbOffset = Int(address.rawValue & UInt64(IOTLB.slotSize - 1))
        if tlbOffset < origOffset {
            tlb.warnOnce(
                site: "swiotlb_bounce:before-start", device: nil,
                "Access before mapping start detected. orig offset \(origOffset), requested offset \(tlbOffset).")
            return
        }
        tlbOffset -= origOffset
        if tlbOffset > alloc {
            tlb.warnOnce(
                site: "swiotlb_bounce:offset-overflow", device: nil, "Buffer overflow detected. Allocation size: \(alloc). Mapping size: \(size)+\(tlbOffset).")
            return
        }
        orig.rawValue &+= UInt64(tlbOffset)
        alloc -= tlbOffset
        var n = size
        if n > alloc {
            tlb.warnOnce(site: "swiotlb_bounce:size-overflow", device: nil, "Buffer overflow detected. Allocation size: \(alloc). Mapping size: \(size).")
            n = alloc
        }
        if toDevice { tlb.bounce(from: orig, to: address, count: n) } else { tlb.bounce(from: address, to: orig, count: n) }
    }

    /// `nr_slots(alloc_size + offset)`, the offset `orig & min_align_mask & (IO_TLB_SIZE - 1)`.
    public static func slotsNeeded(allocSize: Int, original: PhysicalAddress, minAlignMask: UInt64) -> Int {
        let offset = Int(original.rawValue & minAlignMask & 0xffff_ffff & UInt64(IOTLB.slotSize - 1))
        return (allocSize + offset + IOTLB.slotSize - 1) >> IOTLB.shift
    }

    /// `IO_TLB_SIZE * IO_TLB_SEGSIZE - roundup(min_align_mask, IO_TLB_SIZE)` (the mask as the
    /// kernel's `int`); 0 when the mask's round-up reaches 256 KiB (the kernel's `size_t`
    /// subtraction would wrap: no mapping fits anyway).
    public static func maxMappingSize(minAlignMask: UInt64) -> Int {
        let mask = Int(Int32(truncatingIfNeeded: minAlignMask))
        let minAlign = mask != 0 ? (mask + IOTLB.slotSize - 1) / IOTLB.slotSize * IOTLB.slotSize : 0
        return max(0, IOTLB.maxMappingSize - minAlign)
    }

    /// `io_tlb_nslabs` and `io_tlb_used` (`mem_used`: every area's count).
    public static func debugfs(_ tlb: SoftwareIOTLB) -> [(file: String, value: Int)] { Linux5_11.debugfs(tlb) }

    /// `areas=`, `min_align=` and `align=`.
    public static let traceFields: TraceFields = [.areas, .minAlign, .align]
    /// The one default pool.
    public static let maxTracePools = 1
    /// A second pool.
    public static let extraTracePoolRefusal = "a second pool (Linux 6.1 has one default pool)"

    /// Set up as 6.1 does for `swiotlb=<nslabs>,<areas>` (``Linux61PoolSetup``): any size from 1.
    public static func tracePool(nslabs: UInt64, areas: UInt64?, line: Int) throws(TraceError) -> TracePoolShape {
        try Linux61PoolSetup.tracePool(nslabs: nslabs, areas: areas, line: line, kernel: "Linux 6.1")
    }

    /// Skipped: a captured trace replayed on a smaller pool.
    public static let skipsOpsOfFailedMaps = true

    /// The replay engine compiled for this kernel.
    public static func traceReplayEngine(movesBytes: Bool) -> TraceReplayEngine { .make(Linux6_1.self, movesBytes: movesBytes) }

    /// `final used=<N>` (every area), then `area <i> used=<U> index=<I>` per area.
    public static func closingLines(_ tlb: SoftwareIOTLB) -> [String] {
        let p = tlb.pools[0]
        return ["final used=\(p.used)"] + p.areas.enumerated().map { "area \($0.offset) used=\($0.element.used) index=\($0.element.index)" }
    }
}

extension SwiotlbKernel {
    // swift-format-ignore: AlwaysUseLowerCamelCase
    // (named after the kernel release, as the trace header and --kernel spell it: v6.1)
    /// Linux 6.1.192.
    public static let v6_1 = SwiotlbKernel(Linux6_1.self)
}

extension Linux6_1 {
    /// `pci_xen_swiotlb_init` → `swiotlb_init_remap(true, SWIOTLB_ANY, xen_swiotlb_fixup)` for a
    /// PV dom0, then `pci_iommu_init`'s lines (``RemapPoolSetup``); the pool keeps
    /// `default_nareas` areas, even when halving left fewer than 128 slots per area.
    public static func setUpXenPools<Platform: XenPoolPlatform>(
        commandLine: SwiotlbCommandLine, cpus: Int, early: Bool,
        platform: inout Platform
    ) -> XenPoolSetup {
        RemapPoolSetup.run(commandLine: commandLine, cpus: cpus, limitsAreas: false, platform: &platform)
    }
}
