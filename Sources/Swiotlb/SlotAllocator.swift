import XenMemory

/// Slot geometry of the software IO TLB.
public enum IOTLB {
    /// `IO_TLB_SHIFT`.
    public static let shift = 11
    /// Slot ("slab") size in bytes.
    public static let slotSize = 1 << shift
    /// `IO_TLB_SEGSIZE`: slots per segment, the longest single mapping.
    public static let segmentSlots = 128
    /// log2 of ``segmentSlots``.
    public static let segmentShift = 7
    /// `IO_TLB_DEFAULT_SIZE` in slots (64 MiB).
    public static let defaultSlots = (64 << 20) >> shift
    /// The most slots a model holds in all its pools together: 2^25 (64 GiB of bounce buffer,
    /// about 650 MiB of the model's slot tables). A kernel's (low) pool lies below 4 GiB, so
    /// it has at most 2^21 slots; only the RFC's high pool can be larger, and a trace or a
    /// scenario asking for more than this in all is refused.
    public static let maxModelSlots = 1 << 25
    /// `IO_TLB_SIZE * IO_TLB_SEGSIZE`: the most one segment holds (v5.11's
    /// `swiotlb_max_mapping_size`; see ``SwiotlbKernelModel/maxMappingSize(minAlignMask:)``).
    public static let maxMappingSize = slotSize * segmentSlots
    /// `INVALID_PHYS_ADDR` (a `phys_addr_t` of all ones).
    public static let invalidAddress = PhysicalAddress(~0)
    /// `ALIGN(x, 128)`, wrapping as the kernel's unsigned arithmetic does.
    public static func alignToSegment(_ n: UInt64) -> UInt64 { (n &+ 127) & ~127 }
}

/// How a pool came to be (6.18's `CONFIG_SWIOTLB_DYNAMIC` adds pools after boot).
public enum PoolOrigin: Sendable, Hashable {
    /// Set up at boot (`swiotlb_init_remap`), or a trace's `pool` line.
    case boot
    /// Added by the background worker (`swiotlb_dyn_alloc`): searched before older pools, counted in the total.
    case grown
    /// Made for one map that found no slots (`pool->transient`): on the device's own list, not
    /// searched by other maps, not in the total, freed at that map's unmap.
    case transient
}

/// One area of a pool (Linux 6.0+): its own next-fit cursor and used count.
public struct SlotArea: Sendable, Hashable {
    /// `area->index`, relative to the area's first slot.
    public var index = 0
    /// `area->used`.
    public var used = 0
}

/// One pool of bounce slots with Linux v5.11's allocator state: `io_tlb_list` (free-run length
/// up to the end of the 128-slot segment, 0 = used), `io_tlb_orig_addr`, the next-fit cursor
/// `io_tlb_index` and `io_tlb_used`.
public struct SlotPool: Sendable {
    /// The RFC's buffer name (`Low Mem`, `High Mem`), nil for the single v5.11 pool.
    public var name: String?
    /// How the pool came to be: set up at boot, or (6.18's `CONFIG_SWIOTLB_DYNAMIC`) added later.
    public var origin = PoolOrigin.boot
    /// `io_tlb_start`: first byte (pseudo-physical).
    public let start: PhysicalAddress
    /// `io_tlb_nslabs`.
    public let nslabs: Int
    /// `io_tlb_index`: where the next search starts.
    public internal(set) var index = 0
    /// `io_tlb_used`: slots in use.
    public internal(set) var used = 0
    /// High-water mark of `used` (what v6.4's `io_tlb_used_hiwater` would show).
    public internal(set) var usedHighWater = 0
    /// v6.1 areas: each with its own next-fit cursor and used count (one area on v5.11).
    public internal(set) var areas: [SlotArea]
    /// Slots per area (`area_nslabs`), kept so that an op does not divide for it.
    public let areaSlots: Int
    /// The per-slot tables, shared between copies until one of them changes.
    private(set) var tables: SlotTables

    /// A fresh pool: each segment's list reads 128, 127, …, 1; `areas` > 1 only for v6.1.
    public init(name: String? = nil, start: PhysicalAddress, nslabs: Int, areas: Int = 1) {
        self.name = name
        self.start = start
        self.nslabs = nslabs
        self.areas = Array(repeating: SlotArea(), count: max(1, areas))
        areaSlots = nslabs / max(1, areas)
        tables = SlotTables(nslabs: nslabs)
    }

    /// `io_tlb_list`: per slot, the free run from it to the next used slot or the segment's
    /// end (0 = used).
    public var list: SlotList { SlotList(tables) }
    /// `io_tlb_orig_addr`: per slot, the original address it bounces (`~0` when free).
    public var origAddress: SlotColumn<UInt64> { SlotColumn(tables, tables.origAddress, count: nslabs) }
    /// v6.1 per-slot `alloc_size` (bytes left in the mapping from this slot on).
    public var allocSize: SlotColumn<UInt32> { SlotColumn(tables, tables.allocSize, count: nslabs) }
    /// Per segment, a number no smaller than its longest free run (its largest `list` entry):
    /// the search skips a segment whose bound is below the request. Not kernel state; while the
    /// list is a bitmap, each segment's longest run itself.
    public var longestRunBound: [UInt32] {
        let t = tables
        return (0..<t.segments).map { s in
            if t.listIsExact { return t.longestRunBound[s] }
            let first = s << IOTLB.segmentShift
            return (first..<min(first + IOTLB.segmentSlots, nslabs)).reduce(0) { max($0, t.bitmapFreeRun(at: $1)) }
        }
    }

    /// Whether the pool keeps `io_tlb_list` entry by entry (after a release across a segment
    /// boundary, or when the pool ends inside a segment) rather than as a bitmap of used slots.
    /// Not kernel state: both forms read the same.
    var listIsExact: Bool { tables.listIsExact }

    /// The tables, copied first if another pool value shares them.
    @inline(__always)
    mutating func uniqueTables() -> SlotTables {
        if !isKnownUniquelyReferenced(&tables) { tables = SlotTables(copying: tables) }
        return tables
    }

    /// `io_tlb_orig_addr[slot]` (`slot` must be in the pool).
    @inline(__always)
    public func originalAddress(ofSlot slot: Int) -> PhysicalAddress {
        precondition(slot >= 0 && slot < nslabs, "slot \(slot) out of 0..<\(nslabs)")
        return PhysicalAddress(tables.origAddress[slot])
    }

    /// `io_tlb_end`: one past the last byte.
    public var end: PhysicalAddress { start.advanced(by: UInt64(nslabs) << UInt64(IOTLB.shift)) }
    /// Whether a pseudo-physical address lies in the pool (`is_swiotlb_buffer`).
    public func contains(_ address: PhysicalAddress) -> Bool { address >= start && address < end }
    /// The pool size in bytes.
    public var bytes: UInt64 { UInt64(nslabs) << UInt64(IOTLB.shift) }

    /// Finds and takes `nslots` slots as v5.11's `swiotlb_tbl_map_single` does: quick fail when
    /// fewer are free, next-fit from the cursor aligned to `stride` with wrap-around, skipping
    /// runs that would cross a `maxSlots` boundary counted from `offsetSlots`, taking the first
    /// slot whose free run is long enough; then renumber the free run before it backwards, move
    /// the cursor past it and record `original + k * 2048` as slot k's original address.
    /// Returns the first slot, or nil ("buffer is full").
    ///
    /// The kernel visits every `stride`-aligned slot from the cursor round to it again and takes
    /// the first that fits. This search picks that same slot but skips what cannot fit: whole
    /// segments whose longest free run is too short (``longestRunBound``), and inside a free run
    /// too short for the request, the rest of that run (its later slots count down from its
    /// length, so none of them fits either).
    public mutating func allocate(nslots: Int, stride: Int, offsetSlots: UInt64, maxSlots: UInt64, original: PhysicalAddress) -> Int? {
        if nslots > nslabs &- used { return nil }
        let n = nslabs
        // ALIGN(io_tlb_index, stride) for stride 1 or 2 (a page holds two slots).
        var wrap = stride == 1 ? index : (index &+ 1) & ~1
        if wrap >= n { wrap = 0 }
        let fit = SlotSearch(nslots: nslots, stride: stride, offsetSlots: offsetSlots, maxSlots: maxSlots, nslabs: n)
        let t = uniqueTables()
        let found: Int?
        // Under next-fit the cursor usually sits on a free run that fits: the kernel's first look.
        if fit.fits(wrap, freeRun: t.freeRun(at: wrap)) {
            found = wrap
        } else if t.listIsExact {
            found =
                fit.first(in: wrap..<n, list: t.list, bound: t.longestRunBound)
                ?? fit.first(in: 0..<wrap, list: t.list, bound: t.longestRunBound)
        } else {
            found = t.bitmapFirst(in: wrap..<n, fit: fit) ?? t.bitmapFirst(in: 0..<wrap, fit: fit)
        }
        guard let slot = found else { return nil }
        t.take(slot: slot, nslots: nslots)
        Self.recordOriginal(original.rawValue, slot: slot, nslots: nslots, in: t.origAddress)
        index = slot &+ nslots < n ? slot &+ nslots : 0
        used &+= nslots
        if used > usedHighWater { usedHighWater = used }
        return slot
    }

    /// Records the original address of each slot of a mapping: `orig + k * 2048`.
    @inline(__always)
    static func recordOriginal(_ orig: UInt64, slot: Int, nslots: Int, in o: UnsafeMutablePointer<UInt64>) {
        var a = orig
        for k in slot..<(slot &+ nslots) {
            o[k] = a
            a &+= UInt64(IOTLB.slotSize)
        }
    }

    /// Gives `nslots` slots from `slot` back as v5.11 does: absorb the free run after them if it
    /// is in the same segment, number the freed slots backwards, clear their original addresses,
    /// then extend the free run before them up to a used slot or the segment start.
    public mutating func release(slot: Int, nslots: Int) {
        uniqueTables().release(slot: slot, nslots: nslots)
        used &-= nslots
    }

    /// `swiotlb_do_find_slots` of Linux 6.1.192 in area `a`: quick fail when the area has fewer
    /// than `nslots` free; from `wrap = ALIGN(cursor, stride)` (0 at the area's end), a slot that
    /// fails the alignment test steps by one, any other is taken if its free run fits inside the
    /// boundary, else steps by `stride`, until the index is back at `wrap`. The index takes at
    /// most `area_nslabs` values, so if it has not come back within that many steps it cycles
    /// without `wrap`: 6.1.192 would spin there (``AreaSearch/Outcome/neverEnds``). On success
    /// records the original addresses and per-slot `alloc_size` (`allocSize` less the slots
    /// before), moves the area cursor past the slots and counts them. Inlined into the map (as
    /// v5.11's search is): a call would retain and release the tables for `t`.
    @inline(always)
    mutating func allocate(inArea a: Int, _ s: AreaSearch, allocSize: Int) -> AreaSearch.Outcome {
        let an = areaSlots
        let nslots = s.nslots
        if nslots > an &- areas[a].used { return .none }
        let base = a &* an
        var index = AreaSearch.kernelAlign(areas[a].index, s.stride)
        if index >= an { index = 0 }
        let wrap = index
        // One reference to the tables for the search and the take (each further one is a check).
        let t = uniqueTables()
        if s.alignMask == 0 && s.stride <= 2 {
            // No alignment test, so no +1 steps: the kernel's walk is v5.11's next-fit over
            // [wrap, end) then [0, wrap) of the area, which ``SlotSearch`` does with its skips.
            guard let slot = firstFit(s, from: base &+ wrap, areaStart: base, areaEnd: base &+ an, in: t) else { return .none }
            index = slot &- base
        } else {
            let need = UInt32(truncatingIfNeeded: nslots)
            var steps = 0
            while true {
                let slot = base &+ index
                if s.misaligned(slot) {
                    index &+= 1
                } else {
                    if s.staysInsideBoundary(slot) && t.freeRun(at: slot) >= need && slot &+ nslots <= nslabs { break }
                    index &+= s.stride
                }
                if index >= an { index = 0 }
                if index == wrap { return .none }
                steps &+= 1
                if steps >= an { return .neverEnds }
            }
        }
        let slot = base &+ index
        t.take(slot: slot, nslots: nslots)
        Self.recordOriginal(s.original, slot: slot, nslots: nslots, in: t.origAddress)
        var left = allocSize
        for k in slot..<(slot &+ nslots) {
            t.allocSize[k] = UInt32(truncatingIfNeeded: left)
            left &-= IOTLB.slotSize
        }
        areas[a].index = index &+ nslots < an ? index &+ nslots : 0
        areas[a].used &+= nslots
        used &+= nslots
        if used > usedHighWater { usedHighWater = used }
        return .found(slot)
    }

    /// The slot 6.1's walk takes when it makes only `stride` steps (1 or 2): the first fit from
    /// `start` to the area's end, else from the area's start to `start`. `t` is the pool's
    /// tables, made unique (the search tightens their segment bounds).
    @inline(always)
    func firstFit(_ s: AreaSearch, from start: Int, areaStart: Int, areaEnd: Int, in t: SlotTables) -> Int? {
        let fit = SlotSearch(nslots: s.nslots, stride: s.stride, offsetSlots: s.offsetSlots, maxSlots: s.maxSlots, nslabs: nslabs)
        if fit.fits(start, freeRun: t.freeRun(at: start)) { return start }
        if t.listIsExact {
            return fit.first(in: start..<areaEnd, list: t.list, bound: t.longestRunBound)
                ?? fit.first(in: areaStart..<start, list: t.list, bound: t.longestRunBound)
        }
        return t.bitmapFirst(in: start..<areaEnd, fit: fit) ?? t.bitmapFirst(in: areaStart..<start, fit: fit)
    }

    /// `swiotlb_release_slots` of Linux 6.1: the mapping from `slot`, whose slot count comes from
    /// its first slot's recorded `alloc_size` plus the offset; merging as v5.11; the area's count drops.
    public mutating func release(recordedAt slot: Int, offset: Int) -> Int {
        // One reference to the tables: a second (a call that asks for them again) would copy them.
        let t = uniqueTables()
        let nslots = (Int(t.allocSize[slot]) &+ offset &+ IOTLB.slotSize &- 1) >> IOTLB.shift
        for k in slot..<min(slot &+ nslots, nslabs) { t.allocSize[k] = 0 }
        t.release(slot: slot, nslots: nslots)
        used &-= nslots
        areas[slot / areaSlots].used &-= nslots
        return nslots
    }

    /// Whether `list` holds the v5.11 invariant: each entry is the distance to the first used
    /// slot or the segment end, whichever comes first (checked over whole segments).
    public var freeRunInvariantHolds: Bool {
        var expected: UInt32 = 0
        let whole = nslabs / IOTLB.segmentSlots * IOTLB.segmentSlots
        for i in stride(from: whole - 1, through: 0, by: -1) {
            if (i + 1) % IOTLB.segmentSlots == 0 { expected = 0 }
            if list[i] == 0 { expected = 0; continue }
            expected += 1
            if list[i] != expected { return false }
        }
        return true
    }
}
