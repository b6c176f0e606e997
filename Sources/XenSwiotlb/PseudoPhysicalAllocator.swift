import XenMemory

/// A guest's free pseudo-physical memory as Linux's early (memblock) and page allocators hand it
/// out: top-down, page-granular, with an optional alignment and upper limit.
///
/// Linux's own early allocations (page tables, `NODE_DATA`, memmap, per-cpu areas, hashes)
/// are not modelled one by one; reserve them with ``reserve(_:)`` to place later buffers where
/// a real kernel puts them.
public struct PseudoPhysicalAllocator: Sendable {
    /// Free pfn ranges, sorted and disjoint.
    public private(set) var free: [Range<UInt64>]

    /// Free memory = the `usable` entries of the guest's E820, page-rounded inwards.
    public init(e820: GuestE820) {
        free = e820.ramFrames.map(\.raw)
    }

    /// Free memory of a PV guest after Linux's memory set-up: the usable E820 minus the
    /// ballooned extra regions, which Linux keeps `memblock_reserve`d until they are populated.
    public init(e820: GuestE820, p2m: GuestP2M) {
        free = e820.ramFrames.map(\.raw)
        for r in p2m.extraMemory { reserve(r.raw) }
    }

    /// Takes `range` (pfns) out of the free memory.
    public mutating func reserve(_ range: Range<UInt64>) {
        free = free.subtracting(range)
    }

    /// The highest `pages`-page block aligned to `alignPages` ending at or below `limit` (pfn),
    /// taken out of the free memory; nil when none fits (`memblock_alloc` top-down).
    public mutating func allocate(pages: UInt64, alignPages: UInt64 = 1, limit: UInt64 = .max) -> Range<UInt64>? {
        guard pages > 0 else { return nil }
        for r in free.reversed() {
            let top = min(r.upperBound, limit)
            guard top >= pages, top - pages >= r.lowerBound else { continue }
            let start = (top - pages) / alignPages * alignPages
            guard start >= r.lowerBound else { continue }
            let got = start..<(start + pages)
            reserve(got)
            return got
        }
        return nil
    }

    /// Whether all of `range` is free.
    public func isFree(_ range: Range<UInt64>) -> Bool {
        free.contains { $0.lowerBound <= range.lowerBound && range.upperBound <= $0.upperBound }
    }

    /// Gives `range` back.
    public mutating func release(_ range: Range<UInt64>) {
        var all = free + [range]
        all.sort { $0.lowerBound < $1.lowerBound }
        var merged: [Range<UInt64>] = []
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
    public var freePages: UInt64 { free.reduce(0) { $0 + UInt64($1.count) } }
}
