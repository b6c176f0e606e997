/// A trace id as a table key, read from the bytes of its line: up to 16 bytes packed into two
/// words (little-endian, zero-padded), a longer id compared byte for byte; with its hash.
struct TraceID {
    /// The id's bytes (valid while its line is).
    let bytes: UnsafeBufferPointer<UInt8>
    /// Bytes 0..<8 and 8..<16, zero-padded.
    let low: UInt64, high: UInt64
    /// A hash of every byte and the length.
    let hash: UInt64

    /// The key of `bytes`.
    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        let n = bytes.count
        let raw = UnsafeRawBufferPointer(bytes)
        var low: UInt64 = 0, high: UInt64 = 0
        if n >= 8 {
            low = UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self))
            if n <= 16 {
                // The last 8 bytes, shifted down past the ones already in `low`.
                high = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)) >> UInt64((16 - n) * 8)
            }
        } else if n >= 4 {
            // Two overlapping 4-byte loads: the overlap holds the same bytes in the same places.
            let first = UInt64(UInt32(littleEndian: raw.loadUnaligned(as: UInt32.self)))
            let last = UInt64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)))
            low = first | last << UInt64((n - 4) * 8)
        } else {
            for k in 0..<n { low |= UInt64(bytes[k]) << UInt64(k * 8) }
        }
        var h = UInt64(n) &* 0x9e37_79b9_7f4a_7c15
        if n <= 16 {
            h = Self.mix(h ^ low, high)
        } else {
            // Word by word; the tail as one overlapping word.
            var k = 0
            while k + 8 <= n {
                h = Self.mix(h, UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: k, as: UInt64.self)))
                k += 8
            }
            if k < n { h = Self.mix(h, UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self))) }
        }
        self.low = low
        self.high = high
        self.hash = h
    }

    /// One multiply-fold step: a 64×64→128-bit product folded to 64 bits.
    @inline(__always)
    private static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let p = (a ^ 0xa076_1d64_78bd_642f).multipliedFullWidth(by: b ^ 0xe703_7ed1_a0b4_28db)
        return p.high ^ p.low
    }

    /// Whether the id is packed whole into `low` and `high`.
    var isShort: Bool { bytes.count <= 16 }
}

/// The replayer's map from trace ids to their values: open addressing with linear probing over
/// a power-of-two table of plain entries (an id of up to 16 bytes lives in its entry; a longer
/// one in a side store), deleting by shifting the following entries back (no tombstones), so
/// lookups never walk past a gap.
struct TraceIDTable<Value> {
    /// One slot: empty when `length` is 0 (ids are never empty).
    fileprivate struct Entry {
        var hash: UInt64 = 0
        /// The packed id, or for a long id `low` is its index in `longIDs`.
        var low: UInt64 = 0, high: UInt64 = 0
        var length = 0
        var value: Value?
    }

    private var entries: [Entry]
    private var mask: Int
    /// The bytes of ids longer than 16, and the free places among them.
    private var longIDs: [[UInt8]] = []
    private var freeLongIDs: [Int] = []
    /// Entries held.
    private(set) var count = 0

    /// An empty table.
    init() {
        entries = Array(repeating: Entry(), count: 64)
        mask = 63
    }

    @inline(__always)
    private func home(_ h: UInt64) -> Int { Int(truncatingIfNeeded: h) & mask }

    @inline(__always)
    private func matches(_ e: Entry, _ id: TraceID) -> Bool {
        guard e.hash == id.hash, e.length == id.bytes.count else { return false }
        if id.isShort { return e.low == id.low && e.high == id.high }
        return longIDs[Int(truncatingIfNeeded: e.low)].elementsEqual(id.bytes)
    }

    /// The slot holding `id`, or nil.
    private func find(_ id: TraceID) -> Int? {
        var i = home(id.hash)
        while entries[i].length != 0 {
            if matches(entries[i], id) { return i }
            i = (i &+ 1) & mask
        }
        return nil
    }

    /// The value for `id`.
    func value(for id: TraceID) -> Value? {
        find(id).flatMap { entries[$0].value }
    }

    /// Whether `id` is held.
    func contains(_ id: TraceID) -> Bool { find(id) != nil }

    /// Sets the value for `id`, inserting it when new.
    mutating func set(_ value: Value, for id: TraceID) {
        if let i = find(id) { entries[i].value = value; return }
        if (count &+ 1) &* 4 > (mask &+ 1) &* 3 { grow() }
        var entry = Entry(hash: id.hash, low: id.low, high: id.high, length: id.bytes.count, value: value)
        if !id.isShort {
            let bytes = Array(id.bytes)
            if let free = freeLongIDs.popLast() { longIDs[free] = bytes; entry.low = UInt64(free) }
            else { entry.low = UInt64(longIDs.count); longIDs.append(bytes) }
        }
        var i = home(id.hash)
        while entries[i].length != 0 { i = (i &+ 1) & mask }
        entries[i] = entry
        count &+= 1
    }

    /// Removes `id` and returns its value.
    @discardableResult
    mutating func remove(_ id: TraceID) -> Value? {
        guard var gap = find(id) else { return nil }
        let removed = entries[gap].value
        if !id.isShort {
            let place = Int(truncatingIfNeeded: entries[gap].low)
            longIDs[place] = []
            freeLongIDs.append(place)
        }
        entries[gap] = Entry()
        count &-= 1
        // Shift back every following entry whose home does not lie cyclically in (gap, j].
        var j = gap
        while true {
            j = (j &+ 1) & mask
            guard entries[j].length != 0 else { break }
            let k = home(entries[j].hash)
            let stays = gap <= j ? (gap < k && k <= j) : (gap < k || k <= j)
            if stays { continue }
            entries[gap] = entries[j]
            entries[j] = Entry()
            gap = j
        }
        return removed
    }

    private mutating func grow() {
        let old = entries
        let size = (mask &+ 1) &* 2
        entries = Array(repeating: Entry(), count: size)
        mask = size &- 1
        for e in old where e.length != 0 {
            var s = home(e.hash)
            while entries[s].length != 0 { s = (s &+ 1) & mask }
            entries[s] = e
        }
    }
}

extension TraceIDTable: Sendable where Value: Sendable {}
extension TraceIDTable.Entry: Sendable where Value: Sendable {}
