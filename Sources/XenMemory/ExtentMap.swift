/// A value that describes a whole run of frames: the value at `offset` frames into the run is
/// `advanced(by: offset)` (a linear mapping such as "pfn → mfn base + i", or a constant).
public protocol ExtentValue: Equatable, Sendable {
    /// The value `offset` frames after this one.
    func advanced(by offset: UInt64) -> Self
}

/// One run of an ``ExtentMap``: `count` keys from `start`, the first one mapping to `value`.
public struct Extent<Value: ExtentValue>: Equatable, Sendable {
    /// First key of the run.
    public var start: UInt64
    /// Number of keys in the run (at least 1).
    public var count: UInt64
    /// The value of the first key; key `start + i` maps to `value.advanced(by: i)`.
    public var value: Value
    /// One past the last key.
    public var end: UInt64 { start + count }
    /// Creates a run.
    public init(start: UInt64, count: UInt64, value: Value) {
        self.start = start; self.count = count; self.value = value
    }
}

/// A sparse map from frame numbers to values held as sorted, non-overlapping runs.
///
/// Keys without a run are "unset" (`nil`). Adjacent runs whose values continue one another are
/// merged, so a real P2M or M2P of a few hundred runs stays a few hundred runs whatever the size
/// of the host. Lookups are a binary search over the runs.
public struct ExtentMap<Value: ExtentValue>: Sendable, Equatable {
    /// The runs in key order.
    public private(set) var extents: [Extent<Value>] = []

    /// An empty map.
    public init() {}

    /// Index of the last run whose start is <= key, or nil.
    @inline(__always)
    private func indexOfRun(atOrBefore key: UInt64) -> Int? {
        var lo = 0, hi = extents.count
        while lo < hi {
            let mid = (lo + hi) &>> 1
            if extents[mid].start <= key { lo = mid + 1 } else { hi = mid }
        }
        return lo == 0 ? nil : lo - 1
    }

    /// The value at `key`, or nil when no run covers it.
    @inlinable
    public func value(at key: UInt64) -> Value? {
        guard let i = runIndex(containing: key) else { return nil }
        let run = extents[i]
        return run.value.advanced(by: key - run.start)
    }

    /// The index of the run that covers `key`.
    public func runIndex(containing key: UInt64) -> Int? {
        guard let i = indexOfRun(atOrBefore: key), key < extents[i].end else { return nil }
        return i
    }

    /// The run covering `key`, clipped to start at `key`.
    public func run(from key: UInt64) -> Extent<Value>? {
        guard let i = runIndex(containing: key) else { return nil }
        let r = extents[i]
        let skip = key - r.start
        return Extent(start: key, count: r.count - skip, value: r.value.advanced(by: skip))
    }

    /// Sets `count` keys from `start`: key `start + i` maps to `value.advanced(by: i)`.
    public mutating func set(start: UInt64, count: UInt64, to value: Value) {
        guard count > 0 else { return }
        replace(start: start, count: count, with: Extent(start: start, count: count, value: value))
    }

    /// Appends a run after every existing one (keys must not go backwards), merging it into the
    /// last run when it continues it: the fast way to build a map from a sorted stream.
    public mutating func append(start: UInt64, count: UInt64, value: Value) {
        guard count > 0 else { return }
        if let last = extents.last {
            precondition(start >= last.end, "ExtentMap.append out of order")
            if last.end == start && last.value.advanced(by: last.count) == value {
                extents[extents.count - 1].count += count
                return
            }
        }
        extents.append(Extent(start: start, count: count, value: value))
    }

    /// Removes every mapping for `count` keys from `start`.
    public mutating func remove(start: UInt64, count: UInt64) {
        guard count > 0 else { return }
        replace(start: start, count: count, with: nil)
    }

    private mutating func replace(start: UInt64, count: UInt64, with new: Extent<Value>?) {
        let end = start + count
        // First run that ends after `start`.
        var first = indexOfRun(atOrBefore: start) ?? 0
        if first < extents.count && extents[first].end <= start { first += 1 }
        var last = first
        while last < extents.count && extents[last].start < end { last += 1 }
        var pieces: [Extent<Value>] = []
        pieces.reserveCapacity(3)
        if first < last {
            let head = extents[first]
            if head.start < start {
                pieces.append(Extent(start: head.start, count: start - head.start, value: head.value))
            }
        }
        if let new { pieces.append(new) }
        if first < last {
            let tail = extents[last - 1]
            if tail.end > end {
                let skip = end - tail.start
                pieces.append(Extent(start: end, count: tail.end - end, value: tail.value.advanced(by: skip)))
            }
        }
        extents.replaceSubrange(first..<last, with: pieces)
        // Merge around the replaced window.
        let lower = max(first - 1, 0)
        var upper = min(first + pieces.count, extents.count - 1)
        var i = lower
        while i < upper {
            let a = extents[i], b = extents[i + 1]
            if a.end == b.start && a.value.advanced(by: a.count) == b.value {
                extents[i].count += b.count
                extents.remove(at: i + 1)
                upper -= 1
            } else {
                i += 1
            }
        }
    }

    /// The runs overlapping `[start, start + count)`, clipped to it.
    public func extents(start: UInt64, count: UInt64) -> [Extent<Value>] {
        let end = start + count
        var out: [Extent<Value>] = []
        var i = indexOfRun(atOrBefore: start) ?? 0
        while i < extents.count && extents[i].start < end {
            let r = extents[i]
            if r.end > start {
                let s = max(r.start, start), e = min(r.end, end)
                out.append(Extent(start: s, count: e - s, value: r.value.advanced(by: s - r.start)))
            }
            i += 1
        }
        return out
    }
}
