/// The v5.11 slot search over one stretch of a pool: the kernel's fit test, and the skips that
/// leave its choice unchanged.
///
/// The kernel visits `stride`-aligned slots in order and takes the first one that fits: the
/// run of `nslots` from it does not cross a `maxSlots` boundary (counted from `offsetSlots`)
/// and its `io_tlb_list` entry (the free run from it to the next used slot or the segment end)
/// is at least `nslots`. Skipped without a look, because none of them can fit:
/// - a segment whose ``SlotPool/longestRunBound`` is below `nslots`;
/// - after a free slot whose entry `v` is below `nslots`, the next `v - 1` slots (their
///   entries count down from `v`: the same free run).
struct SlotSearch {
    /// Slots wanted.
    let nslots: Int
    /// Step between candidates: 1, or 2 when the mapping is a page or more.
    let stride: Int
    /// The pool's first slot counted from the device's DMA address 0 (`offset_slots`).
    let offsetSlots: UInt64
    /// Slots between segment boundaries (`max_slots`), a power of two.
    let maxSlots: UInt64
    /// Slots in the pool.
    let nslabs: Int

    /// Whether the run of `nslots` from slot `p`, whose `io_tlb_list` entry is `freeRun`, fits:
    /// free for that long, not across a segment boundary of the device, inside the pool.
    @inline(__always)
    func fits(_ p: Int, freeRun: UInt32) -> Bool {
        freeRun >= UInt32(truncatingIfNeeded: nslots) && staysInsideBoundary(p) && p &+ nslots <= nslabs
    }

    /// Whether the run of `nslots` from slot `p` stays inside one `maxSlots` window of the device.
    @inline(__always)
    func staysInsideBoundary(_ p: Int) -> Bool {
        ((offsetSlots &+ UInt64(truncatingIfNeeded: p)) & (maxSlots &- 1)) &+ UInt64(truncatingIfNeeded: nslots) <= maxSlots
    }

    /// The first slot of `range` (its lower bound `stride`-aligned) the kernel would take,
    /// refreshing the bound of every whole segment it scans in vain.
    @inline(__always)
    func first(
        in range: Range<Int>, list l: UnsafeMutablePointer<UInt32>,
        bound: UnsafeMutablePointer<UInt32>
    ) -> Int? {
        let need = UInt32(truncatingIfNeeded: nslots)
        let boundaryMask = maxSlots &- 1
        let alignMask = ~(stride &- 1)
        var p = range.lowerBound
        let end = range.upperBound
        while p < end {
            let segment = p &>> IOTLB.segmentShift
            let segmentEnd = (segment &+ 1) &<< IOTLB.segmentShift
            if bound[segment] < need {
                p = segmentEnd
                continue
            }
            let whole = p == segment &<< IOTLB.segmentShift && end >= segmentEnd
            let stop = end < segmentEnd ? end : segmentEnd
            var longestSeen: UInt32 = 0
            while p < stop {
                let v = l[p]
                if v > longestSeen { longestSeen = v }
                if v >= need {
                    if ((offsetSlots &+ UInt64(truncatingIfNeeded: p)) & boundaryMask) &+ UInt64(truncatingIfNeeded: nslots) <= maxSlots
                        && p &+ nslots <= nslabs
                    {
                        return p
                    }
                    p &+= stride
                } else if v == 0 {
                    p &+= stride
                } else {
                    p = (p &+ Int(v) &+ stride &- 1) & alignMask
                }
            }
            // Every run of the segment was seen at its first aligned slot, at most stride - 1
            // short of its length: a tighter bound than the one that sent the search here.
            if whole {
                let seenBound = longestSeen &+ UInt32(truncatingIfNeeded: stride &- 1)
                if seenBound < bound[segment] { bound[segment] = seenBound }
            }
            p = segmentEnd
        }
        return nil
    }
}
