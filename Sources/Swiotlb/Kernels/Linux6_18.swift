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
    public static let name = "v6.18"
    public static let title = "Linux 6.18.2"

    /// `<nslabs>[,<nareas>][,force|noforce]`: read as 6.1 reads it (`setup_io_tlb_npages`,
    /// 185-203, unchanged; `noforce` sets up no pool).
    public static func readCommandLine(_ text: String) -> SwiotlbCommandLine { Linux6_1.readCommandLine(text) }

    /// The default pool has no name.
    public static func poolName(index: Int, of count: Int, declared: String?) -> String? { nil }

    /// Modelled for a PV dom0 only (and in trace replay).
    public static let isModelledOnlyInPVDom0 = true

    /// Not modelled (``isModelledOnlyInPVDom0``).
    public static func nativePools(lowSlots: UInt64, commandLine: SwiotlbCommandLine) -> [PoolRequest]? { nil }

    /// `pci_xen_swiotlb_init` → `swiotlb_init_remap(true, SWIOTLB_ANY, xen_swiotlb_fixup)`
    /// (pci-dma.c:80-90), with 6.18's `limit_nareas` at each size tried (``RemapPoolSetup``);
    /// a remap callback leaves `can_grow` false (373): the PV dom0's pool never grows.
    public static func setUpXenPools<Platform: XenPoolPlatform>(commandLine: SwiotlbCommandLine, cpus: Int, early: Bool,
                                                                platform: inout Platform) -> XenPoolSetup {
        RemapPoolSetup.run(commandLine: commandLine, cpus: cpus, limitsAreas: true, platform: &platform)
    }

    /// `swiotlb_adjust_size` (207-220): while `default_nslabs` is 32768, as 6.1.
    public static let encryptedGuestSizing = EncryptedGuestSizing.whileDefaultSize

    /// `range_requires_alignment` in alloc and free (swiotlb-xen.c:77-83, 162, 189); a free
    /// that WARNs returns, keeping the pages — as 6.1.192.
    public static let xenCoherentRules = Linux6_1.xenCoherentRules

    /// No `Invalid sizes`; without a pool, `Can not allocate SWIOTLB buffer earlier…`.
    static let frame = MapFrame(checksSizes: false, noPool: .cannotAllocate)

    /// `swiotlb_tbl_map_single` of 6.18 (1369-1439): the offset under `min_align_mask` and
    /// `alloc_align_mask | 2047`, the padded size, ``findSlots(_:_:size:padSlots:)``, the padding
    /// slots recorded, the returned address `slot_addr(start, index + pad_slots) + (offset &
    /// 2047)`, and the bounce buffer always filled with `mapping_size` bytes (1437).
    @inline(__always)
    public static func mapSingle(_ tlb: inout SoftwareIOTLB, _ r: MapRequest) throws(SwiotlbBug) -> Result<BounceMapping, SwiotlbMapError> {
        let alignMask = r.alignMask & 0xffff_ffff
        let offset = alignOffset(r.original, minAlignMask: r.device.minAlignMask, allocAlignMask: alignMask)
        let size = paddedSize(mappingSize: r.mappingSize, offset: offset, allocAlignMask: alignMask)
        let nslots = (size &+ IOTLB.slotSize &- 1) >> IOTLB.shift
        return try tlb.runMap(r, frame, nslots: nslots, fullSize: size) { tlb throws(SwiotlbBug) in
            if alignMask > 4095 {
                tlb.warnOnce(site: #function, device: r.device.name, driver: r.device.driver,
                             "Alloc alignment may prevent fulfilling requests with max mapping_size")
            }
            let padSlots = offset >> IOTLB.shift
            guard let (p, slot) = try findSlots(&tlb, r, size: size, lowOffset: offset & (IOTLB.slotSize - 1)) else { return nil }
            tlb.pools[p].recordMapping(at: slot, padSlots: padSlots, nslots: nslots, original: r.original)
            let address = tlb.pools[p].start &+ UInt64((slot &+ padSlots) << IOTLB.shift) &+ UInt64(offset & (IOTLB.slotSize - 1))
            bounce(&tlb, address, size: r.mappingSize, pool: p, toDevice: true, minAlignMask: r.device.minAlignMask)
            return BounceMapping(address: address, pool: p, slot: slot, nslots: nslots)
        }
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

    /// `swiotlb_find_slots` without `CONFIG_SWIOTLB_DYNAMIC` (1257-1275): the default pool's
    /// areas from `cpu & (nareas - 1)` round the ring, each by
    /// ``SlotPool/allocate(inArea:_:allocSize:)``. The pool and first slot (padding included),
    /// or nil. Every slot found counts in the high-water mark (`inc_used_and_hiwater`).
    static func findSlots(_ tlb: inout SoftwareIOTLB, _ r: MapRequest, size: Int, lowOffset: Int) throws(SwiotlbBug) -> (pool: Int, slot: Int)? {
        let w = try tlb.window(pool: 0, for: r)
        let search = PoolAreaSearch(size: size, original: r.original, minAlignMask: r.device.minAlignMask,
                                    allocAlignMask: r.alignMask, window: w)
        let nareas = tlb.pools[0].areas.count
        let first = r.cpu & (nareas &- 1)
        var a = first
        repeat {
            if let slot = tlb.pools[0].allocate(inArea: a, search, allocSize: size &- lowOffset) {
                tlb.noteUsed()
                return (0, slot)
            }
            a = a &+ 1 >= nareas ? 0 : a &+ 1
        } while a != first
        return nil
    }

    /// The copy back for FROM_DEVICE/BIDIRECTIONAL unless SKIP_CPU_SYNC, then
    /// `swiotlb_release_slots` (1443-1492): the offset from the address under
    /// `min_align_mask & 2047`, back over the padding slots, the slot count from that slot's
    /// `alloc_size` (1535-1550).
    @inline(__always)
    public static func unmapSingle(_ tlb: inout SoftwareIOTLB, _ address: UInt64, pool p: Int, _ r: UnmapRequest) throws(SwiotlbBug) {
        if !r.attributes.contains(.skipCPUSync) && (r.direction == .fromDevice || r.direction == .bidirectional) {
            bounce(&tlb, address, size: r.mappingSize, pool: p, toDevice: false, minAlignMask: r.minAlignMask)
        }
        let offset = alignOffset(address, minAlignMask: r.minAlignMask, allocAlignMask: 0)
        let slot = Int((address &- UInt64(offset) &- tlb.pools[p].start) >> UInt64(IOTLB.shift))
        tlb.pools[p].release(paddedAt: slot, offset: offset)
    }

    /// `__swiotlb_sync_single_for_device` / `_for_cpu` (1552-1570): by target and direction,
    /// through ``bounce(_:_:size:pool:toDevice:minAlignMask:)``.
    public static func syncSingle(_ tlb: inout SoftwareIOTLB, _ address: UInt64, pool p: Int, size: Int, direction: DMADirection,
                                  target: SyncTarget, minAlignMask: UInt64) throws(SwiotlbBug) {
        try Linux6_1.syncDirections(target: target, direction: direction) { toDevice in
            bounce(&tlb, address, size: size, pool: p, toDevice: toDevice, minAlignMask: minAlignMask)
        }
    }

    /// `swiotlb_bounce` (859-927): the slot's original address moved by the address's offset
    /// in the slot less the original's (which may be negative), the copy cut to the bytes left
    /// in the allocation with the kernel's once-only WARN.
    static func bounce(_ tlb: inout SoftwareIOTLB, _ address: UInt64, size: Int, pool p: Int, toDevice: Bool, minAlignMask: UInt64) {
        let index = Int((address &- tlb.pools[p].start) >> UInt64(IOTLB.shift))
        let orig = tlb.pools[p].originalAddress(ofSlot: index)
        guard orig != IOTLB.invalidAddress else { return }
        let tlbOffset = Int(address & UInt64(IOTLB.slotSize - 1)) &- alignOffset(orig, minAlignMask: minAlignMask, allocAlignMask: 0)
        let source = orig &+ UInt64(bitPattern: Int64(tlbOffset))
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
    public static func slotsNeeded(allocSize: Int, original: UInt64, minAlignMask: UInt64) -> Int {
        let offset = alignOffset(original, minAlignMask: minAlignMask, allocAlignMask: 0)
        return (allocSize + offset + IOTLB.slotSize - 1) >> IOTLB.shift
    }

    /// `IO_TLB_SIZE * IO_TLB_SEGSIZE - roundup(min_align_mask, IO_TLB_SIZE)` (1605-1619), as 6.1.
    public static func maxMappingSize(minAlignMask: UInt64) -> Int { Linux6_1.maxMappingSize(minAlignMask: minAlignMask) }

    /// `io_tlb_nslabs` (the pools' total, transient pools not counted), `io_tlb_used` (every
    /// pool's slots, transient ones too), `io_tlb_used_hiwater` (1680-1726); no files without a
    /// pool (1716-1717).
    public static func debugfs(_ tlb: SoftwareIOTLB) -> [(file: String, value: Int)] {
        guard !tlb.pools.isEmpty else { return [] }
        return [("io_tlb_nslabs", tlb.totalSlots(reportedFor: 0)), ("io_tlb_used", tlb.usedSlots(reportedFor: 0)),
                ("io_tlb_used_hiwater", tlb.usedHighWater)]
    }

    /// `areas=`, `min_align=` and `align=`.
    public static let traceFields: TraceFields = [.areas, .minAlign, .align]
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
    /// default pool, as 6.1.
    public static func closingLines(_ tlb: SoftwareIOTLB) -> [String] {
        let p = tlb.pools[0]
        return ["final used=\(tlb.usedSlots(reportedFor: 0))"]
            + p.areas.enumerated().map { "area \($0.offset) used=\($0.element.used) index=\($0.element.index)" }
    }
}

extension SwiotlbKernel {
    /// Linux 6.18.2.
    public static let v6_18 = SwiotlbKernel(Linux6_18.self)
}
