/// What Linux 6.1.192's `swiotlb_do_find_slots` looks for in an area: `nslots` slots starting at
/// a slot whose DMA address agrees with `original` on the `alignMask` bits (unless `original`
/// is 0), reached from the cursor in steps of `stride`, not crossing a `maxSlots` boundary
/// counted from `offsetSlots`.
struct AreaSearch {
    /// Slots wanted (the min_align offset included).
    let nslots: Int
    /// Step after a slot that passed the alignment test (may be any number ≥ 1, e.g. 3).
    let stride: Int
    /// `iotlb_align_mask`: the min_align bits the slot's address must share with `original`.
    let alignMask: UInt64
    /// The original (pseudo-physical) address.
    let original: UInt64
    /// `nr_slots(tbl_dma_addr)`.
    let offsetSlots: UInt64
    /// `max_slots`, a power of two.
    let maxSlots: UInt64
    /// `tbl_dma_addr`: the pool's DMA address under the segment boundary mask.
    let tableDMAAddress: UInt64

    /// Where an area's search ends.
    enum Outcome: Equatable {
        /// It took slots from this one (pool-relative).
        case found(Int)
        /// It came back to where it started, or the area has too few free slots.
        case none
        /// Its index stepped past the start and cycles: 6.1.192 spins forever.
        case neverEnds
    }

    /// `ALIGN(index, stride)` as the kernel computes it: `(x + s - 1) & ~(s - 1)`, which is a
    /// multiple of `s` only when `s` is a power of two (for stride 3: 1 → 1, 2 → 4, 4 → 4).
    @inline(__always)
    static func kernelAlign(_ x: Int, _ s: Int) -> Int { (x &+ s &- 1) & ~(s &- 1) }

    /// Whether the slot at pool index `slot` fails the alignment test (the search then steps by one).
    @inline(__always)
    func misaligned(_ slot: Int) -> Bool {
        original != 0
            && (tableDMAAddress &+ (UInt64(truncatingIfNeeded: slot) << UInt64(IOTLB.shift))) & alignMask != original & alignMask
    }

    /// Whether `nslots` from pool index `slot` stay inside one `maxSlots` window (`iommu_is_span_boundary`).
    @inline(__always)
    func staysInsideBoundary(_ slot: Int) -> Bool {
        ((offsetSlots &+ UInt64(truncatingIfNeeded: slot)) & (maxSlots &- 1)) &+ UInt64(truncatingIfNeeded: nslots) <= maxSlots
    }
}
