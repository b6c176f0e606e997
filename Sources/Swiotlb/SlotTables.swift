/// The per-slot tables of one pool — `io_tlb_orig_addr`, `io_tlb_list` in one of two forms,
/// v6.1's per-slot `alloc_size`, 6.18's `pad_slots` — in one allocation.
///
/// `io_tlb_list` is kept as a bitmap of used slots while it is canonical: every free slot's
/// entry is the distance to the next used slot or the segment's end, which the bitmap gives in
/// a few instructions, and which a map or unmap then changes by setting or clearing bits rather
/// than renumbering runs. The kernel's own operations keep the list canonical; it stops being
/// so only when a release crosses a segment boundary (an unmap of a size the mapping did not
/// have) or the pool ends inside a segment. The tables then switch, once and for good, to the
/// list itself (``listIsExact``), with a per-segment bound on the longest free run for the
/// search to skip by.
///
/// A class so that ``SlotPool`` checks uniqueness once per map or unmap (copy on write) and
/// then works on plain pointers. It is mutated only through a pool that holds the sole
/// reference, which is what makes the unchecked `Sendable` sound.
final class SlotTables: @unchecked Sendable {
    /// Slots in the pool.
    let nslabs: Int
    /// Segments in the pool (the last may be partial).
    let segments: Int
    /// `io_tlb_orig_addr`.
    let origAddress: UnsafeMutablePointer<UInt64>
    /// One bit per slot, set when used: two words per segment. Meaningful until the list is exact.
    let usedBits: UnsafeMutablePointer<UInt64>
    /// `io_tlb_list` entry by entry. Meaningful once ``listIsExact``.
    let list: UnsafeMutablePointer<UInt32>
    /// Whether ``list`` (and ``longestRunBound``) hold the state, rather than ``usedBits``.
    var listIsExact: Bool
    /// v6.1's per-slot `alloc_size`.
    let allocSize: UnsafeMutablePointer<UInt32>
    /// Per segment, a number no smaller than its longest free run. Meaningful once ``listIsExact``.
    let longestRunBound: UnsafeMutablePointer<UInt32>
    /// 6.18's per-slot `pad_slots`: the padding slots before a mapping's first slot, kept in that slot.
    let padSlots: UnsafeMutablePointer<UInt16>
    private let block: UnsafeMutableRawPointer
    private let blockBytes: Int

    /// Tables of a fresh pool: every segment's list reads 128, 127, …, 1, no original
    /// addresses, no allocation sizes. A pool that ends inside a segment starts with the exact
    /// list (its last entries count past the pool's end).
    convenience init(nslabs: Int) {
        self.init(uninitializedSlots: nslabs)
        for i in 0..<nslabs { list[i] = UInt32(IOTLB.segmentSlots &- (i & (IOTLB.segmentSlots &- 1))) }
        usedBits.initialize(repeating: 0, count: segments &* 2)
        listIsExact = nslabs & (IOTLB.segmentSlots &- 1) != 0
        origAddress.initialize(repeating: IOTLB.invalidAddress.rawValue, count: nslabs)
        allocSize.initialize(repeating: 0, count: nslabs)
        longestRunBound.initialize(repeating: UInt32(IOTLB.segmentSlots), count: segments)
        padSlots.initialize(repeating: 0, count: nslabs)
    }

    /// A copy of `other`'s tables.
    convenience init(copying other: SlotTables) {
        self.init(uninitializedSlots: other.nslabs)
        block.copyMemory(from: other.block, byteCount: blockBytes)
        listIsExact = other.listIsExact
    }

    private init(uninitializedSlots nslabs: Int) {
        self.nslabs = nslabs
        segments = (nslabs &+ IOTLB.segmentSlots &- 1) >> IOTLB.segmentShift
        listIsExact = false
        let bitsOffset = nslabs &* 8, listOffset = bitsOffset &+ segments &* 16
        let padOffset = listOffset &+ nslabs &* 8 &+ segments &* 4
        blockBytes = padOffset &+ nslabs &* 2
        block = .allocate(byteCount: max(blockBytes, 1), alignment: MemoryLayout<UInt64>.alignment)
        origAddress = block.bindMemory(to: UInt64.self, capacity: nslabs)
        usedBits = (block + bitsOffset).bindMemory(to: UInt64.self, capacity: segments &* 2)
        list = (block + listOffset).bindMemory(to: UInt32.self, capacity: nslabs)
        allocSize = (block + (listOffset &+ nslabs &* 4)).bindMemory(to: UInt32.self, capacity: nslabs)
        longestRunBound = (block + (listOffset &+ nslabs &* 8)).bindMemory(to: UInt32.self, capacity: segments)
        padSlots = (block + padOffset).bindMemory(to: UInt16.self, capacity: nslabs)
    }

    deinit { block.deallocate() }
}

/// A read-only view of one of a pool's tables (`list`, `origAddress`, …), indexed by slot
/// (or by segment for the run bounds). It keeps the tables it views alive; a pool mutated
/// while a view exists copies its tables first, so a view never changes.
public struct SlotColumn<Element: Sendable>: RandomAccessCollection, @unchecked Sendable {
    private let owner: SlotTables
    private let base: UnsafeMutablePointer<Element>
    /// The number of entries.
    public let count: Int

    init(_ owner: SlotTables, _ base: UnsafeMutablePointer<Element>, count: Int) {
        self.owner = owner
        self.base = base
        self.count = count
    }

    /// 0.
    public var startIndex: Int { 0 }
    /// ``count``.
    public var endIndex: Int { count }

    /// The entry at `index` (which must be in `0..<count`).
    public subscript(index: Int) -> Element {
        precondition(index >= 0 && index < count, "slot table index \(index) out of 0..<\(count)")
        return withExtendedLifetime(owner) { base[index] }
    }
}

/// A read-only view of a pool's `io_tlb_list`, whichever form the pool keeps it in. Like
/// ``SlotColumn`` it keeps what it views alive and never changes.
public struct SlotList: RandomAccessCollection, Sendable {
    private let tables: SlotTables

    init(_ tables: SlotTables) { self.tables = tables }

    /// 0.
    public var startIndex: Int { 0 }
    /// The pool's slot count.
    public var endIndex: Int { tables.nslabs }

    /// The entry of `slot` (which must be in the pool): 0 when used, else its free run.
    public subscript(slot: Int) -> UInt32 {
        precondition(slot >= 0 && slot < tables.nslabs, "slot \(slot) out of 0..<\(tables.nslabs)")
        return tables.freeRun(at: slot)
    }
}
