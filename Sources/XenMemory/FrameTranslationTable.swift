/// A read-only, decoded frame translation (pfn → P2M word, or mfn → M2P entry) built for
/// lookups at memory speed.
///
/// Every key in `0 ..< 2^64` falls in exactly one run; the word of key `k` in a run is
/// `((delta &+ k) & mask) | fill`, which covers linear runs (`delta = base - start`, with the
/// FOREIGN bit as `fill`), identity (`k | IDENTITY_FRAME_BIT`: delta 0, the bit as `fill`) and
/// constants (`mask = 0`, the constant as `fill`). A directory with one entry per bucket of
/// `2^bucketShift` keys holds, for a bucket inside one run, that run's function itself (a
/// lookup is one read and an add), and otherwise the first of its runs to search from.
public final class FrameTranslationTable: @unchecked Sendable {
    // Immutable after init; the class only owns the buffers.
    @usableFromInline let starts: UnsafeMutablePointer<UInt64>
    @usableFromInline let words: UnsafeMutablePointer<Run>
    @usableFromInline let directory: UnsafeMutablePointer<Bucket>
    @usableFromInline let lastBucket: UInt64
    @usableFromInline let bucketShift: UInt64
    /// Runs in the table (the last one reaches 2^64).
    public let runCount: Int

    /// A directory entry: the function of the one run covering the bucket, or (`firstRun` set)
    /// where to start searching.
    @usableFromInline
    struct Bucket {
        @usableFromInline var delta: UInt64
        @usableFromInline var mask: UInt64
        @usableFromInline var fill: UInt64
        /// `UInt32.max` when one run covers the bucket, else the run holding its first key.
        @usableFromInline var firstRun: UInt32
        /// The run holding the bucket's last key (for a mixed bucket).
        @usableFromInline var lastRun: UInt32
    }

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
    /// Neighbours that compute the same function (a linear run and its continuation, or two
    /// equal constants) are merged first.
    public init(runs given: [Run]) {
        precondition(given.first?.start == 0, "FrameTranslationTable: the first run must start at key 0")
        var runs: [Run] = []
        runs.reserveCapacity(given.count)
        for r in given {
            if let last = runs.last, last.delta == r.delta, last.mask == r.mask, last.fill == r.fill { continue }
            runs.append(r)
        }
        runCount = runs.count
        starts = .allocate(capacity: runs.count + 1)
        words = .allocate(capacity: runs.count)
        for (i, r) in runs.enumerated() {
            starts[i] = r.start
            words[i] = r
        }
        starts[runs.count] = .max
        // About eight buckets per run (at least 4096) over the keys up to the last run's start
        // (the last run goes on to 2^64): most keys then fall in a bucket inside one run.
        let span = runs.last!.start
        var shift: UInt64 = 4
        while span >> shift > UInt64(Swift.max(8 * runs.count, 4096)) { shift += 1 }
        bucketShift = shift
        lastBucket = span >> shift
        directory = .allocate(capacity: Int(lastBucket) + 1)
        var i = 0
        for b in 0...lastBucket {
            let first = b << shift
            while starts[i + 1] <= first { i += 1 }
            var j = i
            if b == lastBucket {
                j = runs.count - 1
            } else {
                while starts[j + 1] <= first + (1 << shift) - 1 { j += 1 }
            }
            let r = runs[i]
            directory[Int(b)] =
                i == j
                ? Bucket(delta: r.delta, mask: r.mask, fill: r.fill, firstRun: .max, lastRun: UInt32(j))
                : Bucket(delta: 0, mask: 0, fill: 0, firstRun: UInt32(i), lastRun: UInt32(j))
        }
    }

    deinit {
        starts.deallocate(); words.deallocate(); directory.deallocate()
    }

    /// The word for `key`.
    @inlinable @inline(__always)
    public func lookup(_ key: UInt64) -> UInt64 {
        let bucket = directory[Int(truncatingIfNeeded: Swift.min(key >> bucketShift, lastBucket))]
        if bucket.firstRun == .max { return ((bucket.delta &+ key) & bucket.mask) | bucket.fill }
        let r = words[search(key, from: Int(bucket.firstRun), to: Int(bucket.lastRun))]
        return ((r.delta &+ key) & r.mask) | r.fill
    }

    /// The run holding `key`, which lies in runs `lo ... hi`.
    @usableFromInline
    func search(_ key: UInt64, from lo: Int, to hi: Int) -> Int {
        var lo = lo, hi = hi
        while lo < hi {
            let mid = (lo &+ hi &+ 1) &>> 1
            if starts[mid] <= key { lo = mid } else { hi = mid &- 1 }
        }
        return lo
    }

    /// The run holding `key`.
    func runIndex(_ key: UInt64) -> Int {
        let bucket = directory[Int(truncatingIfNeeded: Swift.min(key >> bucketShift, lastBucket))]
        let last = Int(bucket.lastRun)
        return bucket.firstRun == .max ? last : search(key, from: Int(bucket.firstRun), to: last)
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
