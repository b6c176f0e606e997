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

    /// Whether `next` starts where this run ends and carries its values on.
    @inline(__always)
    func isContinued(by next: Extent<Value>) -> Bool {
        end == next.start && value.advanced(by: count) == next.value
    }
}

/// A sparse map from frame numbers to values held as sorted, non-overlapping runs.
///
/// Keys without a run are "unset" (`nil`). Adjacent runs whose values continue one another are
/// merged, so a real P2M or M2P of a few hundred runs stays a few hundred runs whatever the size
/// of the host. The runs are kept in chunks of a few hundred (a two-level B-tree): a lookup is a
/// binary search over the chunks' first keys and one inside a chunk, and an edit moves at most a
/// chunk's runs (plus, once every few hundred edits, the chunk table), so building or editing a
/// map of a million runs costs the same per run as one of a thousand.
public struct ExtentMap<Value: ExtentValue>: Sendable, Equatable {
    /// Runs per chunk when chunks are cut.
    static var chunkSize: Int { 256 }
    /// A chunk that grows beyond this is cut into chunks of `chunkSize`.
    static var maxChunk: Int { 2 * chunkSize }
    /// A chunk that shrinks below this joins a neighbour.
    static var minChunk: Int { chunkSize / 4 }

    /// The runs in key order, in chunks; no chunk is empty.
    private var chunks: [[Extent<Value>]] = []
    /// `chunks[i][0].start` for each chunk.
    private var firstKeys: [UInt64] = []
    /// Number of runs.
    public private(set) var extentCount = 0
    /// Runs per chunk, in key order (for checking the chunks' bounds).
    var chunkSizes: [Int] { chunks.map(\.count) }

    /// An empty map.
    public init() {}

    /// The runs in key order (a copy: O(runs)).
    public var extents: [Extent<Value>] {
        var out: [Extent<Value>] = []
        out.reserveCapacity(extentCount)
        for c in chunks { out.append(contentsOf: c) }
        return out
    }

    /// Maps are equal when they hold the same runs, however they are chunked.
    public static func == (a: ExtentMap, b: ExtentMap) -> Bool {
        guard a.extentCount == b.extentCount else { return false }
        return a.chunks.lazy.joined().elementsEqual(b.chunks.lazy.joined())
    }

    // MARK: Positions

    /// Index of the last element of `keys`-like storage whose start is <= key, or nil.
    @inline(__always)
    private static func lastIndex(atOrBefore key: UInt64, count: Int, start: (Int) -> UInt64) -> Int? {
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo &+ hi) &>> 1
            if start(mid) <= key { lo = mid &+ 1 } else { hi = mid }
        }
        return lo == 0 ? nil : lo &- 1
    }

    /// The chunk and index of the last run whose start is <= key, or nil.
    @inline(__always)
    private func position(atOrBefore key: UInt64) -> (chunk: Int, index: Int)? {
        guard let c = Self.lastIndex(atOrBefore: key, count: firstKeys.count, start: { firstKeys[$0] }) else { return nil }
        let chunk = chunks[c]
        // The chunk's first run starts at or before key, so an index exists.
        let i = Self.lastIndex(atOrBefore: key, count: chunk.count, start: { chunk[$0].start }) ?? 0
        return (c, i)
    }

    // MARK: Lookups

    /// The run covering `key`, whole (not clipped), or nil.
    @inline(__always)
    public func extent(containing key: UInt64) -> Extent<Value>? {
        guard let (c, i) = position(atOrBefore: key) else { return nil }
        let run = chunks[c][i]
        return key < run.end ? run : nil
    }

    /// The value at `key`, or nil when no run covers it.
    @inlinable
    public func value(at key: UInt64) -> Value? {
        guard let run = extent(containing: key) else { return nil }
        return run.value.advanced(by: key - run.start)
    }

    /// The run covering `key`, clipped to start at `key`.
    public func run(from key: UInt64) -> Extent<Value>? {
        guard let r = extent(containing: key) else { return nil }
        let skip = key - r.start
        return Extent(start: key, count: r.count - skip, value: r.value.advanced(by: skip))
    }

    /// The runs overlapping `[start, start + count)` (the end saturating at 2^64), clipped to it.
    public func extents(start: UInt64, count: UInt64) -> [Extent<Value>] {
        let (e, o) = start.addingReportingOverflow(count)
        let end = o ? UInt64.max : e
        var out: [Extent<Value>] = []
        var (c, i) = position(atOrBefore: start) ?? (0, 0)
        while c < chunks.count {
            let chunk = chunks[c]
            while i < chunk.count {
                let r = chunk[i]
                guard r.start < end else { return out }
                if r.end > start {
                    let s = max(r.start, start), t = min(r.end, end)
                    out.append(Extent(start: s, count: t - s, value: r.value.advanced(by: s - r.start)))
                }
                i += 1
            }
            c += 1
            i = 0
        }
        return out
    }

    // MARK: Edits

    /// Sets `count` keys from `start`: key `start + i` maps to `value.advanced(by: i)`.
    /// `start + count` must not pass 2^64.
    public mutating func set(start: UInt64, count: UInt64, to value: Value) {
        guard count > 0 else { return }
        replace(start: start, end: start + count, with: CollectionOfOne(Extent(start: start, count: count, value: value)))
    }

    /// Sets consecutive runs in one edit, the same as setting each in turn: `runs` in key order,
    /// each starting where the one before ends (e.g. a builder's pages of one allocation).
    public mutating func set(contiguous runs: [Extent<Value>]) {
        guard let first = runs.first, let last = runs.last else { return }
        precondition(
            zip(runs, runs.dropFirst()).allSatisfy { $0.end == $1.start && $1.count > 0 } && first.count > 0,
            "ExtentMap.set(contiguous:): runs must follow one another")
        replace(start: first.start, end: last.end, with: runs)
    }

    /// Removes every mapping for `count` keys from `start` (the end saturating at 2^64).
    public mutating func remove(start: UInt64, count: UInt64) {
        guard count > 0 else { return }
        let (e, o) = start.addingReportingOverflow(count)
        replace(start: start, end: o ? UInt64.max : e, with: EmptyCollection())
    }

    /// Appends a run after every existing one (keys must not go backwards), merging it into the
    /// last run when it continues it: the fast way to build a map from a sorted stream.
    public mutating func append(start: UInt64, count: UInt64, value: Value) {
        guard count > 0 else { return }
        let new = Extent(start: start, count: count, value: value)
        guard let c = chunks.indices.last else {
            chunks = [[new]]; firstKeys = [start]; extentCount = 1
            return
        }
        let last = chunks[c][chunks[c].count - 1]
        precondition(start >= last.end, "ExtentMap.append out of order")
        if last.isContinued(by: new) {
            chunks[c][chunks[c].count - 1].count += count
        } else if chunks[c].count < Self.chunkSize {
            chunks[c].append(new)
            extentCount += 1
        } else {
            chunks.append([new]); firstKeys.append(start)
            extentCount += 1
        }
    }

    /// Replaces `[start, end)` by `new` (or nothing). The chunks holding the runs it touches and
    /// their neighbours on either side (which may merge with what is written) are joined into
    /// one, edited as a sorted array and cut again.
    private mutating func replace<New: Collection<Extent<Value>>>(start: UInt64, end: UInt64, with new: New) {
        if chunks.isEmpty {
            guard !new.isEmpty else { return }
            chunks = [[]]; firstKeys = [start]
        }
        // First chunk: the one holding the last run starting at or before `start` (a run that
        // may be cut, or the predecessor that may merge), and the chunk before it when that
        // run is its first.
        var lo = 0
        if let (c, i) = position(atOrBefore: start) { lo = i == 0 && c > 0 ? c - 1 : c }
        // Last chunk: the one holding the last run starting at or before `end` (a run that may
        // be cut, or the successor that may merge), and the chunk after it when that run is
        // its last.
        var hi = 0
        if let (c, i) = position(atOrBefore: end) { hi = i == chunks[c].count - 1 && c + 1 < chunks.count ? c + 1 : c }
        if hi > lo {
            for c in (lo + 1)...hi { chunks[lo].append(contentsOf: chunks[c]) }
            chunks.removeSubrange((lo + 1)...hi)
            firstKeys.removeSubrange((lo + 1)...hi)
        }
        let before = chunks[lo].count
        Self.replace(in: &chunks[lo], start: start, end: end, with: new)
        extentCount += chunks[lo].count - before
        rebalance(lo)
    }

    /// Keeps chunk `c` between `minChunk` and `maxChunk` runs (joining it with a neighbour or
    /// cutting it) and its first key current.
    private mutating func rebalance(_ c: Int) {
        var c = c
        if chunks[c].count < Self.minChunk && chunks.count > 1 {
            // Join the next chunk (or, for the last chunk, join the previous one).
            if c + 1 < chunks.count {
                chunks[c].append(contentsOf: chunks[c + 1])
                chunks.remove(at: c + 1); firstKeys.remove(at: c + 1)
            } else {
                chunks[c - 1].append(contentsOf: chunks[c])
                chunks.remove(at: c); firstKeys.remove(at: c)
                c -= 1
            }
        }
        let n = chunks[c].count
        if n == 0 {
            chunks.remove(at: c); firstKeys.remove(at: c)
            return
        }
        if n > Self.maxChunk {
            let whole = chunks[c]
            let pieces = (n + Self.chunkSize - 1) / Self.chunkSize
            var cut: [[Extent<Value>]] = []
            cut.reserveCapacity(pieces)
            for p in 0..<pieces { cut.append(Array(whole[(p * n / pieces)..<((p + 1) * n / pieces)])) }
            chunks.replaceSubrange(c...c, with: cut)
            firstKeys.replaceSubrange(c...c, with: cut.map { $0[0].start })
            return
        }
        firstKeys[c] = chunks[c][0].start
    }

    /// The edit on one sorted array of runs: cut the runs overlapping `[start, end)`, put `new`
    /// in their place and merge neighbours whose values continue one another.
    private static func replace<New: Collection<Extent<Value>>>(in runs: inout [Extent<Value>], start: UInt64, end: UInt64, with new: New) {
        // First run that ends after `start`.
        var first = lastIndex(atOrBefore: start, count: runs.count, start: { runs[$0].start }) ?? 0
        if first < runs.count && runs[first].end <= start { first += 1 }
        var last = first
        while last < runs.count && runs[last].start < end { last += 1 }
        var head: Extent<Value>?, tail: Extent<Value>?
        if first < last {
            let h = runs[first]
            if h.start < start { head = Extent(start: h.start, count: start - h.start, value: h.value) }
            let t = runs[last - 1]
            if t.end > end { tail = Extent(start: end, count: t.end - end, value: t.value.advanced(by: end - t.start)) }
        }
        // Resize the window in place, then write the pieces into it.
        let pieces = (head == nil ? 0 : 1) + new.count + (tail == nil ? 0 : 1)
        if let filler = head ?? new.first ?? tail {
            runs.replaceSubrange(first..<last, with: repeatElement(filler, count: pieces))
        } else {
            runs.removeSubrange(first..<last)
        }
        var i = first
        if let head { runs[i] = head; i += 1 }
        for e in new { runs[i] = e; i += 1 }
        if let tail { runs[i] = tail }
        // Merge around and inside the written window, compacting it in one pass.
        let lo = max(first - 1, 0), hi = min(first + pieces, runs.count - 1)
        guard lo < hi else { return }
        var kept = lo
        for r in (lo + 1)...hi {
            if runs[kept].isContinued(by: runs[r]) {
                runs[kept].count += runs[r].count
            } else {
                kept += 1
                runs[kept] = runs[r]
            }
        }
        if kept < hi { runs.removeSubrange((kept + 1)...hi) }
    }
}
