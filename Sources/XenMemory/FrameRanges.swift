extension Array {
    /// These ranges with `hole` cut out of them (pieces before and after it kept, in order); for
    /// frames of any kind (``PFN``, ``MFN``) and for the raw numbers of the extent maps.
    @inlinable public func subtracting<Bound>(_ hole: Range<Bound>) -> [Range<Bound>] where Element == Range<Bound> {
        flatMap { r -> [Range<Bound>] in
            guard r.overlaps(hole) else { return [r] }
            var out: [Range<Bound>] = []
            if r.lowerBound < hole.lowerBound { out.append(r.lowerBound..<hole.lowerBound) }
            if hole.upperBound < r.upperBound { out.append(hole.upperBound..<r.upperBound) }
            return out
        }
    }

    /// Whether `frames` lies inside one of these ranges (sorted, disjoint, touching ones
    /// joined), found by binary search.
    @inlinable public func covers<Bound>(_ frames: Range<Bound>) -> Bool where Element == Range<Bound> {
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo + hi) / 2
            if self[mid].lowerBound <= frames.lowerBound { lo = mid + 1 } else { hi = mid }
        }
        return lo > 0 && frames.upperBound <= self[lo - 1].upperBound
    }
}
