/// `io_tlb_list` in its two forms: read, take, release, and the switch from the bitmap to the
/// exact list.
extension SlotTables {
    /// `io_tlb_list[slot]`, from whichever form holds it.
    @inline(__always)
    func freeRun(at slot: Int) -> UInt32 {
        listIsExact ? list[slot] : bitmapFreeRun(at: slot)
    }

    /// The canonical entry from the bitmap: 0 for a used slot, else the distance to the next
    /// used slot or the end of the segment.
    ///
    /// Without branches (the search calls it on random slots): the run inside the slot's word is
    /// the trailing zeros of the bits from it on, at most the rest of the word; it goes on into
    /// the segment's second word only when the first word is free from the slot on.
    @inline(__always)
    func bitmapFreeRun(at slot: Int) -> UInt32 {
        let word = slot &>> 6, offset = slot & 63
        let ahead = usedBits[word] &>> UInt64(offset)
        let inWord = Swift.min(ahead.trailingZeroBitCount, 64 &- offset)
        // The segment's other word (for the second word itself, a read that is then ignored).
        let next = usedBits[word | 1].trailingZeroBitCount
        let goesOn = ahead == 0 && word & 1 == 0
        return UInt32(truncatingIfNeeded: inWord &+ (goesOn ? next : 0))
    }

    /// Takes `nslots` slots from `slot` on (a run the search found free inside one segment):
    /// zero their entries and renumber the free run before them, or set their bits.
    @inline(__always)
    func take(slot: Int, nslots: Int) {
        if listIsExact {
            renumberFreeRun(before: slot)
            (list + slot).update(repeating: 0, count: nslots)
        } else {
            markBits(from: slot, count: nslots, used: true)
        }
    }

    /// After taking slots from `slot` on: the free run just before it now ends there, so number
    /// it 1, 2, 3, … backwards, stopping at a used slot or the segment's first slot.
    @inline(__always)
    func renumberFreeRun(before slot: Int) {
        let segmentStart = slot & ~(IOTLB.segmentSlots &- 1)
        var count: UInt32 = 0
        var k = slot &- 1
        while k >= segmentStart && list[k] != 0 {
            count &+= 1
            list[k] = count
            k &-= 1
        }
    }

    /// Gives `nslots` slots from `slot` back as v5.11 does: absorb the free run after them if it
    /// is in the same segment, number the freed slots backwards, clear their original addresses,
    /// then extend the free run before them up to a used slot or the segment start.
    ///
    /// On the bitmap that is clearing bits, as long as the slots lie in one segment; a release
    /// across a segment boundary numbers on past it, which only the exact list can hold.
    @inline(__always)
    func release(slot: Int, nslots: Int) {
        var k = slot
        while k < slot &+ nslots {
            origAddress[k] = IOTLB.invalidAddress.rawValue
            k &+= 1
        }
        if !listIsExact && (nslots == 0 || slot &>> IOTLB.segmentShift == (slot &+ nslots &- 1) &>> IOTLB.segmentShift) {
            markBits(from: slot, count: nslots, used: false)
            return
        }
        releaseInList(slot: slot, nslots: nslots)
    }

    /// The release on the exact list (switching to it first if need be): the kernel's merge
    /// and backward renumbering, entry by entry.
    private func releaseInList(slot: Int, nslots: Int) {
        makeListExact()
        let seg = IOTLB.segmentSlots
        let segmentEnd = (slot &+ seg) & ~(seg &- 1)  // ALIGN(index + 1, 128)
        let l = list
        // Past the pool's last slot the kernel reads the zeroed rest of the list's page: 0.
        var count: UInt32 = slot &+ nslots < segmentEnd && slot &+ nslots < nslabs ? l[slot &+ nslots] : 0
        var i = slot &+ nslots &- 1
        while i >= slot {
            count &+= 1
            l[i] = count
            i &-= 1
        }
        let segmentStart = slot & ~(seg &- 1)
        while i >= segmentStart && l[i] != 0 {
            count &+= 1
            l[i] = count
            i &-= 1
        }
        // The merged run is the longest written; it may now be its segment's longest.
        let last = Swift.min(slot &+ nslots, nslabs) &- 1
        var s = (i &+ 1) &>> IOTLB.segmentShift
        while s <= last &>> IOTLB.segmentShift {
            if count > longestRunBound[s] { longestRunBound[s] = count }
            s &+= 1
        }
    }

    /// Sets (`used`) or clears the bits of `count` slots from `slot` on: at most one segment's
    /// worth, so at most three words.
    @inline(__always)
    func markBits(from slot: Int, count: Int, used: Bool) {
        guard count > 0 else { return }
        let first = slot &>> 6, last = (slot &+ count &- 1) &>> 6
        let head = ~UInt64(0) &<< UInt64(slot & 63)
        let tail = ~UInt64(0) &>> UInt64(63 &- ((slot &+ count &- 1) & 63))
        if first == last {
            let mask = head & tail
            if used { usedBits[first] |= mask } else { usedBits[first] &= ~mask }
            return
        }
        if used { usedBits[first] |= head; usedBits[last] |= tail } else { usedBits[first] &= ~head; usedBits[last] &= ~tail }
        var w = first &+ 1
        while w < last {
            usedBits[w] = used ? ~0 : 0
            w &+= 1
        }
    }

    /// Writes the bitmap out as the exact list, each segment's bound its longest run, and keeps
    /// the exact list from now on.
    func makeListExact() {
        guard !listIsExact else { return }
        for s in 0..<segments {
            var longest: UInt32 = 0
            for i in (s &<< IOTLB.segmentShift)..<Swift.min((s &+ 1) &<< IOTLB.segmentShift, nslabs) {
                let v = bitmapFreeRun(at: i)
                list[i] = v
                if v > longest { longest = v }
            }
            longestRunBound[s] = longest
        }
        listIsExact = true
    }

    /// A segment's bits, slot k of the segment at bit k, set when the run of `nslots` from it is
    /// free and ends inside the segment.
    @inline(__always)
    func fitMask(segment s: Int, nslots: Int) -> UInt128 {
        // No free run is longer than a segment (and a shift by 128 would be one by 0).
        guard nslots <= IOTLB.segmentSlots else { return 0 }
        let used = UInt128(usedBits[s &* 2 &+ 1]) &<< 64 | UInt128(usedBits[s &* 2])
        var fits = ~used
        var covered = 1
        while covered < nslots && fits != 0 {
            let step = Swift.min(covered, nslots &- covered)
            fits &= fits &>> UInt128(step)
            covered &+= step
        }
        return fits
    }

    /// On the bitmap: the first slot of `range` (its lower bound `stride`-aligned), in stride
    /// steps, whose run fits — the slot the kernel's scan of that stretch would take.
    func bitmapFirst(in range: Range<Int>, fit: SlotSearch) -> Int? {
        let evenSlots: UInt128 = 0x5555_5555_5555_5555_5555_5555_5555_5555
        return bitmapFirst(
            in: range, nslots: fit.nslots, candidates: fit.stride != 1 ? evenSlots : ~0, offsetSlots: fit.offsetSlots,
            maxSlots: fit.maxSlots)
    }

    /// On the bitmap: the first slot of `range` among `candidates` (a segment's slots, slot k
    /// of a segment at bit k, the same in every segment) whose run of `nslots` is free inside
    /// its segment and does not cross a `maxSlots` boundary counted from `offsetSlots`.
    @inline(__always)
    func bitmapFirst(in range: Range<Int>, nslots: Int, candidates pattern: UInt128, offsetSlots: UInt64, maxSlots: UInt64) -> Int? {
        var p = range.lowerBound
        let end = range.upperBound
        while p < end {
            let base = p & ~(IOTLB.segmentSlots &- 1)
            let segment = base &>> IOTLB.segmentShift
            // A segment with fewer free slots than wanted holds no run: skipped on a count.
            let usedSlots = usedBits[segment &* 2].nonzeroBitCount &+ usedBits[segment &* 2 &+ 1].nonzeroBitCount
            if nslots > IOTLB.segmentSlots &- usedSlots {
                p = base &+ IOTLB.segmentSlots
                continue
            }
            var candidates = fitMask(segment: segment, nslots: nslots) & pattern
            candidates &= ~UInt128(0) &<< UInt128(p &- base)
            if end &- base < IOTLB.segmentSlots { candidates &= (UInt128(1) &<< UInt128(end &- base)) &- 1 }
            while candidates != 0 {
                let slot = base &+ candidates.trailingZeroBitCount
                if ((offsetSlots &+ UInt64(truncatingIfNeeded: slot)) & (maxSlots &- 1)) &+ UInt64(truncatingIfNeeded: nslots) <= maxSlots {
                    return slot
                }
                candidates &= candidates &- 1
            }
            p = base &+ IOTLB.segmentSlots
        }
        return nil
    }
}
