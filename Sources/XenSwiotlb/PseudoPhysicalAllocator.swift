import XenMemory

/// A guest's free pseudo-physical memory as Linux's early (memblock) and page allocators hand it
/// out: top-down, page-granular, with an optional alignment and upper limit.
///
/// Linux's own early allocations (page tables, `NODE_DATA`, memmap, per-cpu areas, hashes)
/// are not modelled one by one; reserve them with ``reserve(_:)`` to place later buffers where
/// a real kernel puts them.
public struct PseudoPhysicalAllocator: Sendable {
    /// Free frames, sorted and disjoint.
    public private(set) var free: [Range<PFN>]

    /// Free memory = the `usable` entries of the guest's E820, page-rounded inwards.
    public init(e820: GuestE820) {
        free = e820.ramFrames
    }

    /// Free memory of a PV guest after Linux's memory set-up: the usable E820 minus the
    /// ballooned extra regions, which Linux keeps `memblock_reserve`d until they are populated.
    public init(e820: GuestE820, p2m: GuestP2M) {
        self.init(e820: e820)
        for r in p2m.extraMemory { reserve(r) }
    }

    /// Takes `range` out of the free memory.
    public mutating func reserve(_ range: Range<PFN>) {
        free = free.subtracting(range)
    }

    /// The highest `pages`-page block aligned to `alignPages` ending at or below frame `limit`
    /// (the block's frames are below it), taken out of the free memory; nil when none fits
    /// (`memblock_alloc` top-down).
    public mutating func allocate(pages: UInt64, alignPages: UInt64 = 1, limit: PFN = PFN(.max)) -> Range<PFN>? {
        guard pages > 0 else { return nil }
        for r in free.reversed() {
            let top = min(r.upperBound, limit).rawValue
            guard top >= pages, top - pages >= r.lowerBound.rawValue else { continue }
            let start = (top - pages) / alignPages * alignPages
            guard start >= r.lowerBound.rawValue else { continue }
            let got = PFN(start)..<PFN(start + pages)
            reserve(got)
            return got
        }
        return nil
    }

    /// Whether all of `range` is free.
    public func isFree(_ range: Range<PFN>) -> Bool {
        free.contains { $0.lowerBound <= range.lowerBound && range.upperBound <= $0.upperBound }
    }

    /// Gives `range` back.
    public mutating func release(_ range: Range<PFN>) {
        var all = free + [range]
        all.sort { $0.lowerBound < $1.lowerBound }
        var merged: [Range<PFN>] = []
        for r in all {
            if let last = merged.last, last.upperBound >= r.lowerBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, r.upperBound)
            } else {
                merged.append(r)
            }
        }
        free = merged
    }

    /// Free pages in all.
    public var freePages: UInt64 { free.reduce(0) { $0 + $1.span } }
}
