extension Array where Element == Range<UInt64> {
    /// These ranges with `hole` cut out of them (pieces before and after it kept, in order).
    public func subtracting(_ hole: Range<UInt64>) -> [Range<UInt64>] {
        flatMap { r -> [Range<UInt64>] in
            guard r.overlaps(hole) else { return [r] }
            var out: [Range<UInt64>] = []
            if r.lowerBound < hole.lowerBound { out.append(r.lowerBound..<hole.lowerBound) }
            if hole.upperBound < r.upperBound { out.append(hole.upperBound..<r.upperBound) }
            return out
        }
    }
}

extension Array where Element == Range<UInt64> {
    /// Whether `frames` lies inside one of these ranges (sorted, disjoint, touching ones
    /// joined), found by binary search.
    public func covers(_ frames: Range<UInt64>) -> Bool {
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo + hi) / 2
            if self[mid].lowerBound <= frames.lowerBound { lo = mid + 1 } else { hi = mid }
        }
        return lo > 0 && frames.upperBound <= self[lo - 1].upperBound
    }
}
