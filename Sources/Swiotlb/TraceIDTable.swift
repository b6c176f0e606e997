/// The replayer's map from trace ids to their values: open addressing with linear probing over
/// a power-of-two table, keyed by the id's FNV-1a hash and text, deleting by shifting the
/// following entries back (no tombstones), so lookups never walk past a gap.
struct TraceIDTable<Value> {
    private var hashes: [UInt64]
    private var keys: [String]
    private var values: [Value?]
    private var mask: Int
    /// Entries held.
    private(set) var count = 0

    /// An empty table.
    init() {
        hashes = Array(repeating: 0, count: 64)
        keys = Array(repeating: "", count: 64)
        values = Array(repeating: nil, count: 64)
        mask = 63
    }

    /// FNV-1a over the id's bytes.
    static func hash(_ id: String) -> UInt64 {
        var copy = id
        return copy.withUTF8 { b in
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for c in b { h = (h ^ UInt64(c)) &* 0x100_0000_01b3 }
            return h
        }
    }

    @inline(__always)
    /// The slot an id hashes to: Fibonacci hashing, the product's high half (Swift's `>>` binds
    /// tighter than `&*`, hence the parentheses).
    private func home(_ h: UInt64) -> Int { Int(truncatingIfNeeded: ((h ^ (h >> 29)) &* 0x9e37_79b9_7f4a_7c15) >> 32) & mask }

    /// The slot holding `id`, or nil.
    private func find(_ id: String, _ h: UInt64) -> Int? {
        var i = home(h)
        while values[i] != nil {
            if hashes[i] == h && keys[i] == id { return i }
            i = (i &+ 1) & mask
        }
        return nil
    }

    /// The value for `id` (whose ``hash(_:)`` is `h`).
    func value(for id: String, hash h: UInt64) -> Value? {
        find(id, h).flatMap { values[$0] }
    }

    /// Whether `id` (whose ``hash(_:)`` is `h`) is held.
    func contains(_ id: String, hash h: UInt64) -> Bool { find(id, h) != nil }

    /// Sets the value for `id` (whose ``hash(_:)`` is `h`), inserting it when new.
    mutating func set(_ value: Value, for id: String, hash h: UInt64) {
        if let i = find(id, h) { values[i] = value; return }
        if (count &+ 1) &* 4 > (mask &+ 1) &* 3 { grow() }
        var i = home(h)
        while values[i] != nil { i = (i &+ 1) & mask }
        hashes[i] = h; keys[i] = id; values[i] = value
        count &+= 1
    }

    /// Removes `id` (whose ``hash(_:)`` is `h`) and returns its value.
    @discardableResult
    mutating func remove(_ id: String, hash h: UInt64) -> Value? {
        guard var gap = find(id, h) else { return nil }
        let removed = values[gap]
        values[gap] = nil
        keys[gap] = ""
        count &-= 1
        // Shift back every following entry whose home does not lie cyclically in (gap, j].
        var j = gap
        while true {
            j = (j &+ 1) & mask
            guard values[j] != nil else { break }
            let k = home(hashes[j])
            let stays = gap <= j ? (gap < k && k <= j) : (gap < k || k <= j)
            if stays { continue }
            hashes[gap] = hashes[j]; keys[gap] = keys[j]; values[gap] = values[j]
            values[j] = nil; keys[j] = ""
            gap = j
        }
        return removed
    }

    private mutating func grow() {
        let old = (hashes, keys, values)
        let size = (mask &+ 1) &* 2
        hashes = Array(repeating: 0, count: size)
        keys = Array(repeating: "", count: size)
        values = Array(repeating: nil, count: size)
        mask = size &- 1
        for i in old.0.indices where old.2[i] != nil {
            var s = home(old.0[i])
            while values[s] != nil { s = (s &+ 1) & mask }
            hashes[s] = old.0[i]; keys[s] = old.1[i]; values[s] = old.2[i]
        }
    }
}

extension TraceIDTable: Sendable where Value: Sendable {}
