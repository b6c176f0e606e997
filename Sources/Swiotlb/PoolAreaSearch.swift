/// What Linux 6.18's `swiotlb_search_pool_area` (kernel/dma/swiotlb.c:1016) looks for in one
/// area of one pool: `nslots` slots (the padding slots included) whose first slot's DMA address
/// has the `allocAlignMask` bits clear and agrees with `original` on the `alignMask` bits
/// (unless `original` is 0), not crossing a `maxSlots` boundary counted from `offsetSlots`.
///
/// The walk starts at the area's cursor as it is (not aligned), steps by one past a slot that
/// fails the address test and by `stride` past any other that does not fit, and stops after
/// `area_nslabs` slots were counted as checked (the loop bound that 6.1.192 lacked: it always ends).
struct PoolAreaSearch {
    /// Slots wanted: `nr_slots(size)` of the padded size.
    let nslots: Int
    /// `alloc_align_mask | 2047` (with `PAGE_SIZE - 1` for a streaming map of a page or more
    /// when the device has no `min_align_mask`).
    let allocAlignMask: UInt64
    /// `iotlb_align_mask`: the device's `min_align_mask` without the `allocAlignMask` bits.
    let alignMask: UInt64
    /// `get_max_slots(max(alloc_align_mask, iotlb_align_mask))`.
    let stride: Int
    /// The original (pseudo-physical) address.
    let original: UInt64
    /// `nr_slots(tbl_dma_addr)`.
    let offsetSlots: UInt64
    /// `max_slots`, a power of two.
    let maxSlots: UInt64
    /// `tbl_dma_addr`: the pool's DMA address under the segment boundary mask.
    let tableDMAAddress: UInt64

    /// The search for a map of the padded `size` bytes from `original` with the device's
    /// `minAlignMask` and the caller's `allocAlignMask` (both the kernel's `unsigned int`), in
    /// `window` (swiotlb.c:1035-1059).
    init(size: Int, original: UInt64, minAlignMask: UInt64, allocAlignMask: UInt64, window: MapWindow) {
        nslots = (size &+ IOTLB.slotSize &- 1) >> IOTLB.shift
        var allocMask = allocAlignMask & 0xffff_ffff
        var iotlbMask = minAlignMask & 0xffff_ffff
        if allocMask == 0 && iotlbMask == 0 && size >= 4096 { allocMask = 4095 }
        allocMask |= UInt64(IOTLB.slotSize - 1)
        iotlbMask &= ~allocMask
        self.allocAlignMask = allocMask
        self.alignMask = iotlbMask
        self.stride = Int(max(allocMask, iotlbMask) >> UInt64(IOTLB.shift)) &+ 1
        self.original = original
        self.offsetSlots = window.offsetSlots
        self.maxSlots = window.maxSlots
        self.tableDMAAddress = window.tableDMAAddress
    }

    /// Whether the slot at pool index `slot` fails the address test (the walk then steps by one).
    @inline(__always)
    func misaligned(_ slot: Int) -> Bool {
        let address = tableDMAAddress &+ (UInt64(truncatingIfNeeded: slot) << UInt64(IOTLB.shift))
        return address & allocAlignMask != 0 || (original != 0 && address & alignMask != original & alignMask)
    }

    /// Whether `nslots` from pool index `slot` stay inside one `maxSlots` window (`iommu_is_span_boundary`).
    @inline(__always)
    func staysInsideBoundary(_ slot: Int) -> Bool {
        ((offsetSlots &+ UInt64(truncatingIfNeeded: slot)) & (maxSlots &- 1)) &+ UInt64(truncatingIfNeeded: nslots) <= maxSlots
    }

    /// The slots that pass the address test, when they are every `period`-th slot of an area
    /// of `areaSlots` slots from `areaStart`, from the area-relative `phase` on: the bits tested
    /// are a contiguous low mask of whole slots (`allocAlignMask`, with `alignMask` unless
    /// `original` is 0), the table's address has no bits inside a slot, and `period` (their
    /// span in slots) divides the area and is at least the stride (always, unless `original`
    /// is 0 and `alignMask` is above `allocAlignMask`). Then the walk's candidates are those slots
    /// (``AreaProgression``); nil otherwise.
    func progression(areaStart: Int, areaSlots: Int) -> AreaProgression? {
        let tested = original != 0 ? allocAlignMask | alignMask : allocAlignMask
        let shift = UInt64(IOTLB.shift)
        guard tested & (tested &+ 1) == 0, tableDMAAddress & UInt64(IOTLB.slotSize &- 1) == 0 else { return nil }
        // `tested` is below 2^32 and holds the 11 bits of a slot: 1 to 2^21 slots.
        let period = Int(truncatingIfNeeded: (tested &+ 1) >> shift)
        guard stride <= period, areaSlots % period == 0 else { return nil }
        let target = original != 0 ? (original & alignMask) >> shift : 0
        let phase = (target &- (tableDMAAddress >> shift) &- UInt64(truncatingIfNeeded: areaStart)) & UInt64(period &- 1)
        return AreaProgression(period: period, phase: Int(truncatingIfNeeded: phase))
    }
}

extension SlotPool {
    /// `swiotlb_search_pool_area` of Linux 6.18 in area `a` (swiotlb.c:1016-1122): quick fail
    /// when the area has fewer than `nslots` free; the walk of ``PoolAreaSearch`` from the
    /// area's cursor, bounded by `area_nslabs` checked slots. On success every slot of the
    /// mapping gets `alloc_size` = `allocSize` less 2048 per slot before it (`allocSize`: the
    /// padded size less the offset inside a slot), the cursor moves past the slots (0 at the
    /// area's end) and the slots are counted. The first slot (pool-relative, padding included), or nil.
    mutating func allocate(inArea a: Int, _ s: PoolAreaSearch, allocSize: Int) -> Int? {
        let an = areaSlots
        let nslots = s.nslots
        if nslots > an &- areas[a].used { return nil }
        let base = a &* an
        // One reference to the tables for the search and the take (each further one is a check).
        let t = uniqueTables()
        let found: Int?
        if let walk = s.progression(areaStart: base, areaSlots: an) {
            let (first, second) = walk.stretches(cursor: areas[a].index, areaSlots: an, stride: s.stride)
            found =
                firstFit(s, every: walk.period, in: (base &+ first.lowerBound)..<(base &+ first.upperBound), in: t)
                ?? firstFit(s, every: walk.period, in: (base &+ second.lowerBound)..<(base &+ second.upperBound), in: t)
        } else {
            found = walk(s, inArea: a, in: t)
        }
        guard let slot = found else { return nil }
        let index = slot &- base
        t.take(slot: slot, nslots: nslots)
        var left = allocSize
        for k in slot..<(slot &+ nslots) {
            t.allocSize[k] = UInt32(truncatingIfNeeded: left)
            left &-= IOTLB.slotSize
        }
        areas[a].index = index &+ nslots >= an ? 0 : index &+ nslots
        areas[a].used &+= nslots
        used &+= nslots
        if used > usedHighWater { usedHighWater = used }
        return slot
    }

    /// The walk of ``PoolAreaSearch`` in area `a` slot by slot, as the kernel writes it: the
    /// first slot that fits, or nil once `area_nslabs` slots were counted as checked.
    func walk(_ s: PoolAreaSearch, inArea a: Int, in t: SlotTables) -> Int? {
        let an = areaSlots, base = a &* an
        let need = UInt32(truncatingIfNeeded: s.nslots)
        var index = areas[a].index
        var checked = 0
        while checked < an {
            let candidate = base &+ index
            if s.misaligned(candidate) {
                index = index &+ 1 >= an ? 0 : index &+ 1
                checked &+= 1
                continue
            }
            if s.staysInsideBoundary(candidate) && candidate &+ s.nslots <= nslabs && t.freeRun(at: candidate) >= need { return candidate }
            index = index &+ s.stride >= an ? 0 : index &+ s.stride
            checked &+= s.stride
        }
        return nil
    }

    /// The first slot of `range` (pool slots; its lower bound a candidate), in steps of
    /// `period`, that fits: inside the boundary and the pool, its free run long enough. On the
    /// bitmap a segment's candidates are tested at once (a period of at most a segment);
    /// otherwise one by one.
    func firstFit(_ s: PoolAreaSearch, every period: Int, in range: Range<Int>, in t: SlotTables) -> Int? {
        if !t.listIsExact && period <= IOTLB.segmentSlots {
            let phase = range.lowerBound & (period &- 1)
            let every = AreaProgression.everyNth(period) &<< UInt128(truncatingIfNeeded: phase)
            return t.bitmapFirst(in: range, nslots: s.nslots, candidates: every, offsetSlots: s.offsetSlots, maxSlots: s.maxSlots)
        }
        let need = UInt32(truncatingIfNeeded: s.nslots)
        var slot = range.lowerBound
        while slot < range.upperBound {
            if s.staysInsideBoundary(slot) && slot &+ s.nslots <= nslabs && t.freeRun(at: slot) >= need { return slot }
            slot &+= period
        }
        return nil
    }

    /// Records 6.18's map in its slots (swiotlb.c:1423-1427): `padSlots` in the first slot after
    /// the padding, and the original address `original + k * 2048` in that slot and the ones
    /// after it (the padding slots keep none).
    mutating func recordMapping(at slot: Int, padSlots: Int, nslots: Int, original: UInt64) {
        let t = uniqueTables()
        t.padSlots[slot &+ padSlots] = UInt16(truncatingIfNeeded: padSlots)
        Self.recordOriginal(original, slot: slot &+ padSlots, nslots: nslots &- padSlots, in: t.origAddress)
    }

    /// `swiotlb_release_slots` of Linux 6.18 (swiotlb.c:1443-1492) for the mapping whose slot
    /// `slot` holds its address (`offset`: the address's offset inside the slot under the
    /// device's `min_align_mask`): back over its padding slots, the slot count from the first
    /// slot's `alloc_size` plus the offset, merged as v5.11 does; the area's count drops.
    /// Returns the slots freed.
    @discardableResult
    mutating func release(paddedAt slot: Int, offset: Int) -> Int {
        let t = uniqueTables()
        let first = slot &- Int(t.padSlots[slot])
        let nslots = (Int(t.allocSize[first]) &+ offset &+ IOTLB.slotSize &- 1) >> IOTLB.shift
        let end = min(first &+ nslots, nslabs)
        for k in first..<end {
            t.allocSize[k] = 0
            t.padSlots[k] = 0
        }
        t.release(slot: first, nslots: end &- first)
        used &-= end &- first
        areas[first / areaSlots].used &-= end &- first
        return end &- first
    }
}
