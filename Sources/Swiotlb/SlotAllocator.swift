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
    /// `swiotlb_max_mapping_size` in v5.11.
    public static let maxMappingSize = slotSize * segmentSlots
    /// `INVALID_PHYS_ADDR`.
    public static let invalidAddress: UInt64 = ~0
    /// `ALIGN(x, 128)`, wrapping as the kernel's unsigned arithmetic does.
    public static func alignToSegment(_ n: UInt64) -> UInt64 { (n &+ 127) & ~127 }
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
    /// `io_tlb_start`: first byte (pseudo-physical).
    public let start: UInt64
    /// `io_tlb_nslabs`.
    public let nslabs: Int
    /// `io_tlb_list`.
    public private(set) var list: [UInt32]
    /// `io_tlb_orig_addr`.
    public private(set) var origAddress: [UInt64]
    /// `io_tlb_index`: where the next search starts.
    public private(set) var index = 0
    /// `io_tlb_used`: slots in use.
    public private(set) var used = 0
    /// High-water mark of `used` (what v6.4's `io_tlb_used_hiwater` would show).
    public private(set) var usedHighWater = 0
    /// v6.1 areas: each with its own next-fit cursor and used count (one area on v5.11).
    public private(set) var areas: [SlotArea]
    /// v6.1 per-slot `alloc_size` (bytes left in the mapping from this slot on).
    public private(set) var allocSize: [UInt32]
    /// Per segment, a number no smaller than its longest free run (its largest `list` entry):
    /// the search skips a segment whose bound is below the request. Not kernel state.
    public private(set) var longestRunBound: [UInt32]

    /// A fresh pool: each segment's list reads 128, 127, …, 1; `areas` > 1 only for v6.1.
    public init(name: String? = nil, start: UInt64, nslabs: Int, areas: Int = 1) {
        self.name = name
        self.start = start
        self.nslabs = nslabs
        list = (0..<nslabs).map { UInt32(IOTLB.segmentSlots - $0 % IOTLB.segmentSlots) }
        origAddress = Array(repeating: IOTLB.invalidAddress, count: nslabs)
        self.areas = Array(repeating: SlotArea(), count: max(1, areas))
        allocSize = Array(repeating: 0, count: nslabs)
        longestRunBound = Array(repeating: UInt32(IOTLB.segmentSlots), count: (nslabs + IOTLB.segmentSlots - 1) / IOTLB.segmentSlots)
    }

    /// Slots per area (`area_nslabs`).
    public var areaSlots: Int { nslabs / areas.count }

    /// `io_tlb_end`: one past the last byte.
    public var end: UInt64 { start + UInt64(nslabs) << UInt64(IOTLB.shift) }
    /// Whether a pseudo-physical address lies in the pool (`is_swiotlb_buffer`).
    public func contains(_ address: UInt64) -> Bool { address >= start && address < end }
    /// The pool size in bytes.
    public var bytes: UInt64 { UInt64(nslabs) << UInt64(IOTLB.shift) }

    /// Finds and takes `nslots` slots as v5.11's `swiotlb_tbl_map_single` does: quick fail when
    /// fewer are free, next-fit from the cursor aligned to `stride` with wrap-around, skipping
    /// runs that would cross a `maxSlots` boundary counted from `offsetSlots`, taking the first
    /// slot whose free run is long enough; then renumber the free run before it backwards and
    /// move the cursor past it. Returns the first slot, or nil ("buffer is full").
    ///
    /// The kernel visits every `stride`-aligned slot from the cursor round to it again and takes
    /// the first that fits. This search picks that same slot but skips what cannot fit: whole
    /// segments whose longest free run is too short (``longestRunBound``), and inside a free run
    /// too short for the request, the rest of that run (its later slots count down from its
    /// length, so none of them fits either).
    public mutating func allocate(nslots: Int, stride: Int, offsetSlots: UInt64, maxSlots: UInt64) -> Int? {
        if nslots > nslabs &- used { return nil }
        let n = nslabs
        // ALIGN(io_tlb_index, stride) for stride 1 or 2 (a page holds two slots).
        var wrap = stride == 1 ? index : (index &+ 1) & ~1
        if wrap >= n { wrap = 0 }
        let fit = SlotSearch(nslots: nslots, stride: stride, offsetSlots: offsetSlots, maxSlots: maxSlots, nslabs: n)
        let found: Int? = list.withUnsafeMutableBufferPointer { l -> Int? in
            longestRunBound.withUnsafeMutableBufferPointer { bound -> Int? in
                guard let slot = fit.first(in: wrap..<n, list: l, bound: bound)
                        ?? fit.first(in: 0..<wrap, list: l, bound: bound) else { return nil }
                Self.renumberFreeRun(before: slot, in: l)
                for k in slot..<(slot &+ nslots) { l[k] = 0 }
                // The segment's bound may now be loose; a search that scans the segment in vain
                // tightens it (SlotSearch), which costs less than rescanning on every take.
                return slot
            }
        }
        guard let slot = found else { return nil }
        index = slot &+ nslots < n ? slot &+ nslots : 0
        used &+= nslots
        if used > usedHighWater { usedHighWater = used }
        return slot
    }

    /// After taking slots from `slot` on: the free run just before it now ends there, so number
    /// it 1, 2, 3, … backwards, stopping at a used slot or the segment's first slot.
    @inline(__always)
    static func renumberFreeRun(before slot: Int, in l: UnsafeMutableBufferPointer<UInt32>) {
        var count: UInt32 = 0
        var k = slot &- 1
        while k >= 0 && k & (IOTLB.segmentSlots &- 1) != IOTLB.segmentSlots &- 1 && l[k] != 0 {
            count &+= 1
            l[k] = count
            k &-= 1
        }
    }

    /// Records the original address of each slot of a mapping: `orig + k * 2048`.
    public mutating func setOriginal(_ orig: UInt64, slot: Int, nslots: Int) {
        origAddress.withUnsafeMutableBufferPointer { o in
            var a = orig
            for k in slot..<(slot &+ nslots) {
                o[k] = a
                a &+= UInt64(IOTLB.slotSize)
            }
        }
    }

    /// Gives `nslots` slots from `slot` back as v5.11 does: absorb the free run after them if it
    /// is in the same segment, number the freed slots backwards, clear their original addresses,
    /// then extend the free run before them up to a used slot or the segment start.
    public mutating func release(slot: Int, nslots: Int) {
        let n = nslabs
        let seg = IOTLB.segmentSlots
        let segmentEnd = (slot &+ seg) & ~(seg &- 1)        // ALIGN(index + 1, 128)
        list.withUnsafeMutableBufferPointer { l in
            origAddress.withUnsafeMutableBufferPointer { o in
                // Past the pool's last slot the kernel reads the zeroed rest of the list's page: 0.
                var count: UInt32 = slot &+ nslots < segmentEnd && slot &+ nslots < n ? l[slot &+ nslots] : 0
                var i = slot &+ nslots &- 1
                while i >= slot {
                    count &+= 1
                    l[i] = count
                    o[i] = IOTLB.invalidAddress
                    i &-= 1
                }
                i = slot &- 1
                while i >= 0 && i & (seg &- 1) != seg &- 1 && l[i] != 0 {
                    count &+= 1
                    l[i] = count
                    i &-= 1
                }
                // The merged run is the longest written; it may now be its segment's longest.
                longestRunBound.withUnsafeMutableBufferPointer { bound in
                    let last = Swift.min(slot &+ nslots, n) &- 1
                    var s = (i &+ 1) &>> IOTLB.segmentShift
                    while s <= last &>> IOTLB.segmentShift {
                        if count > bound[s] { bound[s] = count }
                        s &+= 1
                    }
                }
            }
        }
        used &-= nslots
    }

    /// `swiotlb_do_find_slots` of Linux 6.1 in area `a`: quick fail on the area's free count;
    /// from the area cursor aligned up to `stride` (wrapping inside the area), skip slots whose
    /// address bits under `alignMask` differ from `orig`'s (stepping by one), else take the
    /// first whose free run fits without crossing the boundary (stepping by `stride`), until
    /// back at the start. Records `alloc_size` per slot; returns the first slot or nil.
    public mutating func allocateV61(area a: Int, nslots: Int, stride: Int, alignMask: UInt64, original: UInt64,
                                     allocBytes: Int, offset: Int, offsetSlots: UInt64, maxSlots: UInt64,
                                     tableDMAAddress: UInt64) -> Int? {
        let an = areaSlots
        if nslots > an &- areas[a].used { return nil }
        let base = a &* an
        let wrapIndex = { (i: Int) -> Int in i >= an ? 0 : i }
        var index = wrapIndex((areas[a].index &+ stride &- 1) / stride &* stride)
        let wrap = index
        let need = UInt32(truncatingIfNeeded: nslots)
        var found: Int?
        // 6.1 stops only when the cursor comes back to `wrap` exactly; mixing +1 steps (alignment
        // misses) with +stride steps can skip over it, and the kernel would then spin. The model
        // gives up after every slot of the area was visited once (what v6.9's count does).
        var visited = 0
        repeat {
            visited &+= 1
            if visited > an &+ stride { break }
            let slot = base &+ index
            if original != 0 && ((tableDMAAddress &+ (UInt64(slot) << UInt64(IOTLB.shift))) & alignMask) != (original & alignMask) {
                index = wrapIndex(index &+ 1)
                continue
            }
            if ((offsetSlots &+ UInt64(slot)) & (maxSlots &- 1)) &+ UInt64(nslots) <= maxSlots
                && list[slot] >= need && slot &+ nslots <= nslabs {
                found = slot
                break
            }
            index = wrapIndex(index &+ stride)
        } while index != wrap
        guard let slot = found else { return nil }
        for k in 0..<nslots {
            list[slot &+ k] = 0
            allocSize[slot &+ k] = UInt32(truncatingIfNeeded: allocBytes &- (offset &+ (k << IOTLB.shift)))
        }
        list.withUnsafeMutableBufferPointer { Self.renumberFreeRun(before: slot, in: $0) }
        areas[a].index = index &+ nslots < an ? index &+ nslots : 0
        areas[a].used &+= nslots
        used &+= nslots
        if used > usedHighWater { usedHighWater = used }
        return slot
    }

    /// `swiotlb_release_slots` of Linux 6.1: the slot count comes from the first slot's
    /// `alloc_size` plus the offset; merging as v5.11; the area's count drops.
    public mutating func releaseV61(slot: Int, offset: Int) -> Int {
        let nslots = (Int(allocSize[slot]) &+ offset &+ IOTLB.slotSize &- 1) >> IOTLB.shift
        for k in slot..<min(slot &+ nslots, nslabs) { allocSize[k] = 0 }
        let a = slot / areaSlots
        release(slot: slot, nslots: nslots)
        areas[a].used &-= nslots
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
