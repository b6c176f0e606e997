/// A read-only, decoded frame translation (pfn → P2M word, or mfn → M2P entry) built for
/// lookups at memory speed.
///
/// Every key in `0 ..< 2^64` falls in exactly one run; the word of key `k` in a run is
/// `((delta &+ k) & mask) | fill`, which covers linear runs (`delta = base - start`, with the
/// FOREIGN bit as `fill`), identity (`k | IDENTITY_FRAME_BIT`: delta 0, the bit as `fill`) and
/// constants (`mask = 0`, the constant as `fill`). A directory with one entry
/// per bucket of `2^bucketShift` keys names the run holding the bucket's first key, so a lookup
/// is one directory read, a short forward scan (usually none) and one add.
public final class FrameTranslationTable: @unchecked Sendable {
    // Immutable after init; the class only owns the buffers.
    @usableFromInline let starts: UnsafeMutablePointer<UInt64>
    @usableFromInline let words: UnsafeMutablePointer<Run>
    @usableFromInline let directory: UnsafeMutablePointer<UInt32>
    @usableFromInline let lastBucket: UInt64
    @usableFromInline let bucketShift: UInt64
    /// Runs in the table (the last one reaches 2^64).
    public let runCount: Int

    /// One run from `start` to the next run's start: key `k` → `((delta &+ k) & mask) | fill`.
    public struct Run: Sendable, Hashable {
        /// First key.
        public var start: UInt64
        /// Added to the key.
        public var delta: UInt64
        /// Kept of the sum (`0` for a constant).
        public var mask: UInt64
        /// Or-ed in last.
        public var fill: UInt64
        /// Key `start + i` → `base + i`, with `fill` or-ed in.
        public static func linear(start: UInt64, base: UInt64, fill: UInt64 = 0) -> Run {
            Run(start: start, delta: base &- start, mask: ~0, fill: fill)
        }
        /// Every key → `value`.
        public static func constant(start: UInt64, _ value: UInt64) -> Run {
            Run(start: start, delta: 0, mask: 0, fill: value)
        }
        /// Key `k` → `k | bits`.
        public static func keyWithBits(start: UInt64, _ bits: UInt64) -> Run {
            Run(start: start, delta: 0, mask: ~0, fill: bits)
        }
    }

    /// A table from runs sorted by start, the first starting at 0 (each lasts until the next).
    public init(runs: [Run]) {
        precondition(runs.first?.start == 0, "FrameTranslationTable: the first run must start at key 0")
        runCount = runs.count
        starts = .allocate(capacity: runs.count + 1)
        words = .allocate(capacity: runs.count)
        for (i, r) in runs.enumerated() {
            starts[i] = r.start
            words[i] = r
        }
        starts[runs.count] = .max
        // About four buckets per run, at least 512 keys each (a P2M leaf), at most 2^20 buckets.
        let span = runs.last!.start
        var shift: UInt64 = 9
        while span >> shift > UInt64(Swift.min(Swift.max(4 * runs.count, 1024), 1 << 20)) { shift += 1 }
        bucketShift = shift
        lastBucket = span >> shift
        directory = .allocate(capacity: Int(lastBucket) + 2)
        var i = 0
        for b in 0...lastBucket {
            let key = b << shift
            while starts[i + 1] <= key { i += 1 }
            directory[Int(b)] = UInt32(i)
        }
        directory[Int(lastBucket) + 1] = UInt32(runs.count - 1)
    }

    deinit {
        starts.deallocate(); words.deallocate(); directory.deallocate()
    }

    /// The word for `key`.
    @inlinable @inline(__always)
    public func lookup(_ key: UInt64) -> UInt64 {
        let r = words[runIndex(key)]
        return ((r.delta &+ key) & r.mask) | r.fill
    }

    /// The run holding `key`: the directory's run for the key's bucket, then a step or two
    /// forward, or a binary search where a bucket holds many runs.
    @inlinable @inline(__always)
    func runIndex(_ key: UInt64) -> Int {
        let bucket = Int(truncatingIfNeeded: Swift.min(key >> bucketShift, lastBucket))
        var lo = Int(directory[bucket])
        var hi = Int(directory[bucket &+ 1])
        if hi &- lo <= 4 {
            while lo < hi && starts[lo &+ 1] <= key { lo &+= 1 }
            return lo
        }
        // starts[lo] <= key < starts[hi + 1]
        while lo < hi {
            let mid = (lo &+ hi &+ 1) &>> 1
            if starts[mid] <= key { lo = mid } else { hi = mid &- 1 }
        }
        return lo
    }

    /// The words for `out.count` keys from `start`, a run at a time.
    public func lookup(from start: UInt64, into out: UnsafeMutableBufferPointer<UInt64>) {
        guard !out.isEmpty else { return }
        var key = start
        var i = runIndex(key)
        var k = 0
        while k < out.count {
            while i < runCount &- 1 && starts[i &+ 1] <= key { i &+= 1 }
            let runEnd = i == runCount &- 1 ? UInt64.max : starts[i &+ 1] &- key
            let n = Swift.min(out.count &- k, runEnd > UInt64(Int.max) ? Int.max : Int(runEnd))
            let r = words[i]
            for j in 0..<n { out[k &+ j] = ((r.delta &+ key &+ UInt64(truncatingIfNeeded: j)) & r.mask) | r.fill }
            k &+= n
            key &+= UInt64(truncatingIfNeeded: n)
        }
    }
}
