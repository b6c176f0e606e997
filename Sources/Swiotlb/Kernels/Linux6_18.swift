import XenMemory

/// Linux 6.18's swiotlb (6.18.2: kernel/dma/swiotlb.c, include/linux/swiotlb.h,
/// drivers/xen/swiotlb-xen.c, arch/x86/kernel/pci-dma.c; line numbers below are of that
/// swiotlb.c). Against 6.1.192:
/// - the map takes no `alloc_size` (no `Invalid sizes`): the size is the mapping's plus the
///   offset `orig & min_align_mask & (alloc_align_mask | 2047)`, aligned to
///   `alloc_align_mask + 1` (1402-1403), and the whole offset's slots are padding slots before
///   the mapping, found again at unmap through the first slot's `pad_slots` (1423-1428, 1452);
/// - the search (`swiotlb_search_pool_area`, 1016) starts at the unaligned cursor, tests the
///   slot's DMA address against `alloc_align_mask` (a page for a streaming map of a page or
///   more on a device without `min_align_mask`) and stops after `area_nslabs` checked slots:
///   it always ends (``PoolAreaSearch``);
/// - the "full" message's `sz` is the padded size (1405-1408); a map with no pool prints
///   `Can not allocate SWIOTLB buffer earlier and can't now provide you with the DMA bounce
///   buffer` (1382-1385);
/// - debugfs adds `io_tlb_used_hiwater` (writable, only 0) and, with `CONFIG_SWIOTLB_DYNAMIC`,
///   `io_tlb_transient_nslabs`;
/// - the set-up's halving limits the areas to one per 128 slots (`limit_nareas`, 177, 384-390).
public enum Linux6_18: SwiotlbKernelModel {
    /// The short name `--kernel` and a trace header use.
    public static let name = "v6.18"
    /// The name reports print.
    public static let title = "Linux 6.18.2"

    /// `<nslabs>[,<nareas>][,force|noforce]`: read as 6.1 reads it (`setup_io_tlb_npages`,
    /// 185-203, unchanged; `noforce` sets up no pool).
    public static func readCommandLine(_ text: String) -> SwiotlbCommandLine { Linux6_1.readCommandLine(text) }

    /// `area num`, `roundup to` and the sizes `swiotlb_init_remap` tries with `limit_nareas`
    /// (swiotlb.c:152-166, 177-182, 386-396; ``AreaPoolPreview``).
    public static func setUpLines(commandLine: SwiotlbCommandLine, cpus: Int) -> [String] {
        AreaPoolPreview.lines(commandLine, cpus: cpus, limitsAreas: true)
    }

    /// The default pool has no name.
    public static func poolName(index: Int, of count: Int, declared: String?) -> String? { nil }

    /// `pci_xen_swiotlb_init` → `swiotlb_init_remap(true, SWIOTLB_ANY, xen_swiotlb_fixup)`
    /// (pci-dma.c:80-90), with 6.18's `limit_nareas` at each size tried (``RemapPoolSetup``);
    /// a remap callback leaves `can_grow` false (371-372): built with `CONFIG_SWIOTLB_DYNAMIC`
    /// (the platform gives ``XenPoolPlatform/dynamicPoolMemory()``) the PV dom0's maps take the
    /// dynamic search over its one pool, and a miss never adds a pool. `default_nareas` is taken
    /// as the pool's own (limited) area count: with one pool that never grows, the search's
    /// rounds beyond it test nothing (1197-1202).
    public static func setUpXenPools<Platform: XenPoolPlatform>(
        commandLine: SwiotlbCommandLine, cpus: Int, early: Bool,
        platform: inout Platform
    ) -> XenPoolSetup {
        var setup = RemapPoolSetup.run(commandLine: commandLine, cpus: cpus, limitsAreas: true, platform: &platform)
        if let memory = platform.dynamicPoolMemory() {
            let pool = setup.pools.first
            setup.growth = PoolGrowth(
                canGrow: false, physLimit: PhysicalAddress(.max), defaultNslabs: pool?.nslabs ?? 0, defaultAreas: max(pool?.areas.count ?? 1, 1), memory: memory
            )
        }
        return setup
    }

    /// `swiotlb_adjust_size` (212-227): while `default_nslabs` is 32768, as 6.1.
    public static let encryptedGuestSizing = EncryptedGuestSizing.whileDefaultSize

    /// `range_requires_alignment` in alloc and free (swiotlb-xen.c:77-83, 162, 189); a free
    /// that WARNs returns, keeping the pages — as 6.1.192.
    public static let xenCoherentRules = Linux6_1.xenCoherentRules

    /// No `Invalid sizes`; without a pool, `Can not allocate SWIOTLB buffer earlier…`.
    static let frame = MapFrame(checksSizes: false, noPool: .cannotAllocate)

    /// `swiotlb_tbl_map_single` of 6.18 (1369-1439): the offset under `min_align_mask` and
    /// `alloc_align_mask | 2047`, the padded size, ``findSlots(_:_:size:padSlots:)``, the padding
    /// slots recorded, the returned address `slot_addr(start, index + pad_slots) + (offset &
    /// 2047)`, and the bounce buffer always filled with `mapping_size` bytes (1437); then the
    /// pool-growth worker a miss scheduled (``growPools(_:)``), after the map's messages.
    @inline(__always)
    public static func mapSingle(_ tlb: inout SoftwareIOTLB, _ r: MapRequest) throws(SwiotlbBug) -> Result<BounceMapping, SwiotlbMapError> {
        let alignMask = r.alignMask & 0xffff_ffff
        let offset = alignOffset(r.original.rawValue, minAlignMask: r.device.minAlignMask, allocAlignMask: alignMask)
        let size = paddedSize(mappingSize: r.mappingSize, offset: offset, allocAlignMask: alignMask)
        let nslots = (size &+ IOTLB.slotSize &- 1) >> IOTLB.shift
        let result = try tlb.runMap(r, frame, nslots: nslots, fullSize: size) { tlb throws(SwiotlbBug) in
            if alignMask > 4095 {
                tlb.warnOnce(
                    site: #function, device: r.device.name, driver: r.device.driver,
                    "Alloc alignment may prevent fulfilling requests with max mapping_size")
            }
            let padSlots = offset >> IOTLB.shift
            guard let (p, slot) = try findSlots(&tlb, r, size: size, lowOffset: offset & (IOTLB.slotSize - 1)) else { return nil }
            tlb.pools[p].recordMapping(at: slot, padSlots: padSlots, nslots: nslots, original: r.original.rawValue)
            let address = PhysicalAddress(tlb.pools[p].start.rawValue &+ UInt64((slot &+ padSlots) << IOTLB.shift) &+ UInt64(offset & (IOTLB.slotSize - 1)))
            bounce(&tlb, address, size: r.mappingSize, pool: p, toDevice: true, minAlignMask: r.device.minAlignMask)
            return BounceMapping(address: address, pool: p, slot: slot, nslots: nslots)
        }
        growPools(&tlb)
        return result
    }

    /// `swiotlb_align_offset(dev, align_mask, addr)` (849-853): `addr & min_align_mask &
    /// (align_mask | 2047)`, the masks as the kernel's `unsigned int`.
    static func alignOffset(_ address: UInt64, minAlignMask: UInt64, allocAlignMask: UInt64) -> Int {
        Int(address & minAlignMask & 0xffff_ffff & ((allocAlignMask & 0xffff_ffff) | UInt64(IOTLB.slotSize - 1)))
    }

    /// `ALIGN(mapping_size + offset, alloc_align_mask + 1)` (1403), the `+ 1` in the kernel's
    /// `unsigned int` (a mask of all ones aligns to 0).
    static func paddedSize(mappingSize: Int, offset: Int, allocAlignMask: UInt64) -> Int {
        let alignment = UInt64(UInt32(truncatingIfNeeded: allocAlignMask) &+ 1)
        let mask = alignment &- 1
        return Int(truncatingIfNeeded: (UInt64(truncatingIfNeeded: mappingSize &+ offset) &+ mask) & ~mask)
    }

    /// `swiotlb_find_slots` (1181-1275): the pool and first slot (padding included), or nil.
    /// Every slot found counts in the high-water mark (`inc_used_and_hiwater`).
    /// - Without `CONFIG_SWIOTLB_DYNAMIC` (``SoftwareIOTLB/growth`` nil): the default pool's
    ///   areas from `cpu & (nareas - 1)` round the ring.
    /// - With it: nothing above 256 KiB (1193); for `i` in 0..<`default_nareas`, every pool
    ///   newest first with more than `i` areas, in its area `(cpu + i) & (nareas - 1)`
    ///   (1134-1163, 1197-1202); then, when the pools may grow, the worker is scheduled
    ///   (``growPools(_:)`` runs after the map) and a transient pool of the request's slots is
    ///   made under the device's `min_not_zero(dma_mask, bus_dma_limit)` and searched; a search
    ///   that fails there frees it (1204-1227).
    static func findSlots(_ tlb: inout SoftwareIOTLB, _ r: MapRequest, size: Int, lowOffset: Int) throws(SwiotlbBug) -> (pool: Int, slot: Int)? {
        guard let growth = tlb.growth else {
            let nareas = tlb.pools[0].areas.count
            let first = r.cpu & (nareas &- 1)
            var a = first
            repeat {
                if let slot = try search(&tlb, r, pool: 0, area: a, size: size, lowOffset: lowOffset) { return (0, slot) }
                a = a &+ 1 >= nareas ? 0 : a &+ 1
            } while a != first
            return nil
        }
        if size > IOTLB.maxMappingSize { return nil }
        for i in 0..<growth.defaultAreas {
            var p = tlb.pools.count &- 1
            while p >= 0 {
                let nareas = tlb.pools[p].areas.count
                if tlb.pools[p].origin != .transient && i < nareas,
                    let slot = try search(&tlb, r, pool: p, area: (r.cpu &+ i) & (nareas &- 1), size: size, lowOffset: lowOffset)
                {
                    return (p, slot)
                }
                p &-= 1
            }
        }
        guard growth.canGrow else { return nil }
        tlb.growth?.workScheduled = true
        let nslabs = (size &+ IOTLB.slotSize &- 1) >> IOTLB.shift
        let bytes = UInt64(nslabs) << UInt64(IOTLB.shift)
        guard let start = allocateTransient(&tlb, bytes: bytes, device: r.device) else { return nil }
        var pool = SlotPool(start: start, nslabs: nslabs, areas: 1)
        pool.origin = .transient
        tlb.pools.append(pool)
        let p = tlb.pools.count &- 1
        if let slot = try search(&tlb, r, pool: p, area: 0, size: size, lowOffset: lowOffset) { return (p, slot) }
        tlb.pools.removeLast()
        freeTransient(&tlb, start: start, bytes: bytes)
        return nil
    }

    /// `swiotlb_alloc_tlb(dev, bytes, phys_limit, GFP_NOWAIT)` of a transient pool (612-650): in
    /// a confidential guest `dma_alloc_from_pool` (``AtomicPools``, checked against the device's
    /// coherent limit; none: the pool's `WARN`), else the page allocator under the device's
    /// `min_not_zero(dma_mask, bus_dma_limit)` (``DynamicPoolMemory``).
    static func allocateTransient(_ tlb: inout SoftwareIOTLB, bytes: UInt64, device: DMADevice) -> PhysicalAddress? {
        guard tlb.growth?.atomicPools != nil else { return tlb.growth?.memory.allocate(bytes: bytes, limit: PhysicalAddress(device.effectiveLimit)) }
        if let start = tlb.growth?.atomicPools?.allocate(bytes: bytes, limit: device.coherentLimit) { return start }
        tlb.warn(KernelMessage(device: nil, text: "Failed to get suitable pool for \(device.name ?? "(null)")"))
        return nil
    }

    /// `swiotlb_free_tlb` (657-666): back to the atomic pool that holds it, else to the page allocator.
    static func freeTransient(_ tlb: inout SoftwareIOTLB, start: PhysicalAddress, bytes: UInt64) {
        if tlb.growth?.atomicPools?.free(start: start, bytes: bytes) == true { return }
        tlb.growth?.memory.release(start: start, bytes: bytes)
    }

    /// `swiotlb_search_pool_area` in area `a` of pool `p` (``SlotPool/allocate(inArea:_:allocSize:)``),
    /// the high-water mark raised on success.
    @inline(__always)
    static func search(_ tlb: inout SoftwareIOTLB, _ r: MapRequest, pool p: Int, area a: Int, size: Int, lowOffset: Int) throws(SwiotlbBug) -> Int? {
        let w = try tlb.window(pool: p, for: r)
        let s = PoolAreaSearch(size: size, original: r.original.rawValue, minAlignMask: r.device.minAlignMask, allocAlignMask: r.alignMask, window: w)
        guard let slot = tlb.pools[p].allocate(inArea: a, s, allocSize: size &- lowOffset) else { return nil }
        tlb.noteUsed()
        return slot
    }

    /// `swiotlb_dyn_alloc`, the worker a miss scheduled, run once the map is done (the model's
    /// moment for it: before the trace's next op): `swiotlb_alloc_pool(NULL, IO_TLB_MIN_SLABS,
    /// default_nslabs, default_nareas, phys_limit)` (683-731, 734-747) — at most 2048 slots
    /// with `limit_nareas`, halved down to 512 while ``DynamicPoolMemory`` has no block under
    /// the limit — added as the newest pool and counted in the total; else `Failed to allocate
    /// new pool` (`pr_warn_ratelimited`); then, in a confidential guest, `atomic_pool_work_fn`
    /// when an allocation scheduled it (``AtomicPools/grow(from:)``).
    static func growPools(_ tlb: inout SoftwareIOTLB) {
        guard var g = tlb.growth else { return }
        if g.workScheduled { addPool(&tlb, &g) }
        if g.atomicPools?.workScheduled == true { g.atomicPools?.grow(from: &g.memory) }
        tlb.growth = g
    }

    /// `swiotlb_dyn_alloc` itself (``growPools(_:)``).
    static func addPool(_ tlb: inout SoftwareIOTLB, _ g: inout PoolGrowth) {
        g.workScheduled = false
        var nslabs = UInt64(g.defaultNslabs)
        var nareas = UInt64(g.defaultAreas)
        if nslabs > UInt64(PoolGrowth.maxPoolSlots) {
            nslabs = UInt64(PoolGrowth.maxPoolSlots)
            nareas = RemapPoolSetup.limitAreas(nareas, slots: nslabs)
        }
        while true {
            if let start = g.memory.allocate(bytes: nslabs << UInt64(IOTLB.shift), limit: g.physLimit) {
                var pool = SlotPool(start: start, nslabs: Int(nslabs), areas: Int(nareas))
                pool.origin = .grown
                tlb.pools.append(pool)
                break
            }
            if nslabs <= UInt64(PoolGrowth.minPoolSlots) {
                tlb.warnRateLimited(.newPoolFailed, KernelMessage(device: nil, text: SwiotlbKernelText.messagePrefix + "Failed to allocate new pool"))
                break
            }
            nslabs = IOTLB.alignToSegment(nslabs >> 1)
            nareas = RemapPoolSetup.limitAreas(nareas, slots: nslabs)
        }
    }

    /// The copy back for FROM_DEVICE/BIDIRECTIONAL unless SKIP_CPU_SYNC, then
    /// `swiotlb_release_slots` (1443-1492): the offset from the address under
    /// `min_align_mask & 2047`, back over the padding slots, the slot count from that slot's
    /// `alloc_size` (1535-1550); a transient pool is freed whole instead (`swiotlb_del_transient`,
    /// 1510-1520: its slots leave `io_tlb_used` and `io_tlb_transient_nslabs`).
    @inline(__always)
    public static func unmapSingle(_ tlb: inout SoftwareIOTLB, _ address: PhysicalAddress, pool p: Int, _ r: UnmapRequest) throws(SwiotlbBug) {
        if !r.attributes.contains(.skipCPUSync) && (r.direction == .fromDevice || r.direction == .bidirectional) {
            bounce(&tlb, address, size: r.mappingSize, pool: p, toDevice: false, minAlignMask: r.minAlignMask)
        }
        if tlb.pools[p].origin == .transient {
            let pool = tlb.pools.remove(at: p)
            freeTransient(&tlb, start: pool.start, bytes: pool.bytes)
            return
        }
        let offset = alignOffset(address.rawValue, minAlignMask: r.minAlignMask, allocAlignMask: 0)
        let slot = Int((address.rawValue &- UInt64(offset) &- tlb.pools[p].start.rawValue) >> UInt64(IOTLB.shift))
        tlb.pools[p].release(paddedAt: slot, offset: offset)
    }

    /// `__swiotlb_sync_single_for_device` / `_for_cpu` (1552-1570): by target and direction,
    /// through ``bounce(_:_:size:pool:toDevice:minAlignMask:)``.
    public static func syncSingle(
        _ tlb: inout SoftwareIOTLB, _ address: PhysicalAddress, pool p: Int, size: Int, direction: DMADirection,
        target: SyncTarget, minAlignMask: UInt64
    ) throws(SwiotlbBug) {
        try Linux6_1.syncDirections(target: target, direction: direction) { toDevice in
            bounce(&tlb, address, size: size, pool: p, toDevice: toDevice, minAlignMask: minAlignMask)
        }
    }

    /// `swiotlb_bounce` (859-927): the slot's original address moved by the address's offset
    /// in the slot less the original's (which may be negative), the copy cut to the bytes left
    /// in the allocation with the kernel's once-only WARN.
    static func bounce(_ tlb: inout SoftwareIOTLB, _ address: PhysicalAddress, size: Int, pool p: Int, toDevice: Bool, minAlignMask: UInt64) {
        let index = Int((address.rawValue &- tlb.pools[p].start.rawValue) >> UInt64(IOTLB.shift))
        let orig = tlb.pools[p].originalAddress(ofSlot: index)
        guard orig != IOTLB.invalidAddress else { return }
        let tlbOffset = Int(address.rawValue & UInt64(IOTLB.slotSize - 1)) &- alignOffset(orig.rawValue, minAlignMask: minAlignMask, allocAlignMask: 0)
        let source = PhysicalAddress(orig.rawValue &+ UInt64(bitPattern: Int64(tlbOffset)))
        let left = Int(tlb.pools[p].allocSize[index]) &- tlbOffset
        var n = size
        if n > left {
            tlb.warnOnce(site: #function, device: nil, "Buffer overflow detected. Allocation size: \(left). Mapping size: \(size).")
            n = left
        }
        if toDevice { tlb.bounce(from: source, to: address, count: n) } else { tlb.bounce(from: address, to: source, count: n) }
    }

    /// `nr_slots` of the padded size of a streaming map (`alloc_align_mask` 0): the mapping
    /// plus `orig & min_align_mask & 2047`.
    public static func slotsNeeded(allocSize: Int, original: PhysicalAddress, minAlignMask: UInt64) -> Int {
        let offset = alignOffset(original.rawValue, minAlignMask: minAlignMask, allocAlignMask: 0)
        return (allocSize + offset + IOTLB.slotSize - 1) >> IOTLB.shift
    }

    /// `IO_TLB_SIZE * IO_TLB_SEGSIZE - roundup(min_align_mask, IO_TLB_SIZE)` (1605-1619), as 6.1.
    public static func maxMappingSize(minAlignMask: UInt64) -> Int { Linux6_1.maxMappingSize(minAlignMask: minAlignMask) }

    /// `io_tlb_nslabs` (the pools' total, transient pools not counted), `io_tlb_used` (every
    /// pool's slots, transient ones too), `io_tlb_used_hiwater`, and with `CONFIG_SWIOTLB_DYNAMIC`
    /// `io_tlb_transient_nslabs` (1680-1726); no files without a pool (1716-1717).
    public static func debugfs(_ tlb: SoftwareIOTLB) -> [(file: String, value: Int)] {
        guard !tlb.pools.isEmpty else { return [] }
        let files = [
            (SwiotlbKernelText.nslabsFile, tlb.totalSlots(reportedFor: 0)), (SwiotlbKernelText.usedFile, tlb.usedSlots(reportedFor: 0)),
            (SwiotlbKernelText.highWaterFile, tlb.usedHighWater),
        ]
        guard tlb.growth != nil else { return files }
        return files + [(SwiotlbKernelText.transientNslabsFile, tlb.transientSlots)]
    }

    /// `areas=`, `min_align=` and `align=`, and dynamic pools.
    public static let traceFields: TraceFields = [.areas, .minAlign, .align, .dynamicPools]
    /// The one default pool.
    public static let maxTracePools = 1
    /// A second pool.
    public static let extraTracePoolRefusal = "a second pool (Linux 6.18 sets up one default pool)"

    /// Set up as for `swiotlb=<nslabs>,<areas>` (``Linux61PoolSetup``, unchanged in 6.18).
    public static func tracePool(nslabs: UInt64, areas: UInt64?, line: Int) throws(TraceError) -> TracePoolShape {
        try Linux61PoolSetup.tracePool(nslabs: nslabs, areas: areas, line: line, kernel: "Linux 6.18")
    }

    /// Skipped: a captured trace replayed on a smaller pool.
    public static let skipsOpsOfFailedMaps = true

    /// The replay engine compiled for this kernel.
    public static func traceReplayEngine(movesBytes: Bool) -> TraceReplayEngine { .make(Linux6_18.self, movesBytes: movesBytes) }

    /// `final used=<N>` (`io_tlb_used`), then `area <i> used=<U> index=<I>` per area of the
    /// default pool, as 6.1; with dynamic pools (a `memory` line), one line per grown pool,
    /// oldest first, `grown start=<0xHEX> nslabs=<N> areas=<A> used=<U>`, then
    /// `transient nslabs=<N>` (debugfs `io_tlb_transient_nslabs`).
    public static func closingLines(_ tlb: SoftwareIOTLB) -> [String] {
        let p = tlb.pools[0]
        var lines =
            ["final used=\(tlb.usedSlots(reportedFor: 0))"]
            + p.areas.enumerated().map { "area \($0.offset) used=\($0.element.used) index=\($0.element.index)" }
        guard tlb.growth != nil else { return lines }
        for g in tlb.pools where g.origin == .grown {
            lines.append("grown start=\(g.start) nslabs=\(g.nslabs) areas=\(g.areas.count) used=\(g.used)")
        }
        lines.append("transient nslabs=\(tlb.transientSlots)")
        return lines
    }
}

extension SwiotlbKernel {
    // swift-format-ignore: AlwaysUseLowerCamelCase
    // (named after the kernel release, as the trace header and --kernel spell it: v6.18)
    /// Linux 6.18.2.
    public static let v6_18 = SwiotlbKernel(Linux6_18.self)
}
