/// Xen 4.17's boot allocator (`xen/common/page_alloc.c`: `bootmem_region_add`,
/// `alloc_boot_pages`, `end_boot_allocator`): a sorted list of free frame ranges that Xen takes
/// pages from, top down, until the buddy heap exists.
struct XenBootAllocator {
    /// The regions, sorted by first frame; emptied ones stay (as Xen's do, with `s == e`).
    private(set) var regions: [Range<UInt64>] = []

    /// `bootmem_region_add`: a non-empty range joins the sorted list (never merged).
    mutating func add(_ frames: Range<UInt64>) {
        guard !frames.isEmpty else { return }
        let i = regions.firstIndex { frames.lowerBound < $0.upperBound } ?? regions.count
        regions.insert(frames, at: i)
    }

    /// `alloc_boot_pages(n, align)`: from the highest region whose top, less `n` and rounded
    /// down to `align`, still lies in it; the region ends there and what lies above the
    /// allocation (the rounding) becomes a region of its own. Nil when no region fits (Xen BUGs).
    mutating func allocate(_ n: UInt64, align: UInt64) -> UInt64? {
        for i in regions.indices.reversed() {
            let r = regions[i]
            guard r.upperBound >= n else { continue }
            let pg = (r.upperBound - n) & ~(align - 1)
            guard pg < r.upperBound, pg >= r.lowerBound else { continue }
            regions[i] = r.lowerBound..<pg
            add((pg + n)..<r.upperBound)
            return pg
        }
        return nil
    }

    /// The order `end_boot_allocator` hands the regions to the heap in: the lowest non-empty
    /// one first, then every other from the highest down.
    var heapInsertionOrder: [Range<UInt64>] {
        let live = regions.filter { !$0.isEmpty }
        guard let first = live.first else { return [] }
        return [first] + live.dropFirst().reversed()
    }
}
