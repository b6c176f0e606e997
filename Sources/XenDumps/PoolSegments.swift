import XenMemory

/// One 128-slot segment of a bounce pool (64 pages) and the P2M entries behind it.
public struct SegmentPlacement: Sendable, Hashable {
    /// Pages in a full segment: `IO_TLB_SEGSIZE` (128) slots of 2 KiB.
    public static let fullPages: UInt64 = 64

    /// First pfn.
    public var pfn: PFN
    /// Pages (fewer than ``fullPages`` only for a pool that ends inside a segment, or one cut
    /// short by the end of the P2M).
    public var pages: UInt64
    /// The P2M entry of the first page, nil when the P2M has none there.
    public var firstEntry: P2MRun?
    /// Whether one run of the P2M covers every page (consecutive machine frames, or one kind of
    /// entry throughout).
    public var uniform: Bool

    /// Machine frame of the first page (nil when not RAM).
    public var mfn: MFN? {
        if case .machine(let base)? = firstEntry { return base }
        return nil
    }
    /// Whether its pages are RAM and machine-contiguous.
    public var contiguous: Bool { uniform && mfn != nil }
    /// Whether the whole segment is RAM below 4 GiB of machine memory.
    public var below4G: Bool {
        guard let mfn else { return false }
        let four = PoolPlacement.fourGiBFrame
        return mfn < four && pages <= four.rawValue - mfn.rawValue
    }

    /// Creates a placement.
    public init(pfn: PFN, pages: UInt64, firstEntry: P2MRun?, uniform: Bool) {
        self.pfn = pfn; self.pages = pages; self.firstEntry = firstEntry; self.uniform = uniform
    }

    /// Whether `other` places the same pages the same way: one run each, from the same entry.
    public func placesAlike(_ other: SegmentPlacement) -> Bool {
        pfn == other.pfn && pages == other.pages && uniform && other.uniform && firstEntry == other.firstEntry
    }
}

extension SwiotlbPoolLocation {
    /// The pool's segments as `p2m` places them, in pfn order; only the part of the pool within
    /// the P2M's `size` entries (so their number is bounded by the P2M, whatever a log claims).
    /// Costs the P2M runs the pool covers plus one lookup per segment.
    public func segments(in p2m: P2MDumpContents) -> [SegmentPlacement] {
        let first = firstPfn.rawValue
        let pages = first < p2m.size ? min(self.pages, p2m.size - first) : 0
        return stride(from: UInt64(0), to: pages, by: Int(SegmentPlacement.fullPages)).map { offset in
            let pfn = first + offset
            let count = min(SegmentPlacement.fullPages, pages - offset)
            let runs = p2m.entries.extents(start: pfn, count: count)
            let head = runs.first.flatMap { $0.start == pfn ? $0.value : nil }
            return SegmentPlacement(
                pfn: PFN(pfn), pages: count, firstEntry: head,
                uniform: runs.count == 1 && runs[0].start == pfn && runs[0].count == count)
        }
    }
}
