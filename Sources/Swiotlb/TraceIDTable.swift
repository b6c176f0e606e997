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
        var h = UInt64(n) &* 0xa076_1d64_78bd_642f
        if n <= 16 {
            h = Self.mix(Self.mix(h, low), high)
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

    /// One step of the hash: xor in a word, multiply by an odd constant, fold the high bits
    /// down. Each step is a bijection of the running state, so no word can wipe out the ones
    /// before it.
    @inline(__always)
    private static func mix(_ h: UInt64, _ word: UInt64) -> UInt64 {
        let m = (h ^ word) &* 0x9e37_79b9_7f4a_7c15
        return m ^ (m >> 29)
    }

    /// Whether the id is packed whole into `low` and `high`.
    var isShort: Bool { bytes.count <= 16 }
}

/// The replayer's map from trace ids to their values: open addressing with linear probing over
/// a power-of-two table, deleting by shifting the following entries back (no tombstones), so
/// lookups never walk past a gap; it doubles before it is more than half full, which keeps probes
/// and the shifts of a removal short. Probing reads only a dense array of 32-bit hash tags (a
/// 32768-slot table's tags fit in 128 KiB); an entry is read on a tag match. An id of up to 16
/// bytes lives in its entry, a longer one in a side store.
struct TraceIDTable<Value> {
    /// One slot's key and value (meaningful where its tag is not 0).
    fileprivate struct Entry {
        /// The packed id, or for a long id `low` is its index in `longIDs`.
        var low: UInt64 = 0, high: UInt64 = 0
        var length = 0
        var value: Value?
    }

    /// The low 32 bits of each slot's id hash, 1 for a hash whose low bits are 0, 0 when empty.
    private var tags: [UInt32]
    private var entries: [Entry]
    private var mask: Int
    /// The bytes of ids longer than 16, and the free places among them.
    private var longIDs: [[UInt8]] = []
    private var freeLongIDs: [Int] = []
    /// Entries held.
    private(set) var count = 0

    /// Where a probe for an id ended: at its slot, or at the empty slot it would take.
    struct Probe {
        /// Whether the id is held.
        let found: Bool
        /// Its slot, or the empty slot where ``insert(_:for:at:)`` puts it.
        let index: Int
    }

    /// An empty table.
    init() {
        tags = Array(repeating: 0, count: 64)
        entries = Array(repeating: Entry(), count: 64)
        mask = 63
    }

    @inline(__always)
    private static func tag(_ id: TraceID) -> UInt32 { Swift.max(UInt32(truncatingIfNeeded: id.hash), 1) }

    @inline(__always)
    private func home(_ tag: UInt32) -> Int { Int(tag) & mask }

    @inline(__always)
    private func matches(_ e: Entry, _ id: TraceID) -> Bool {
        guard e.length == id.bytes.count else { return false }
        if id.isShort { return e.low == id.low && e.high == id.high }
        return longIDs[Int(truncatingIfNeeded: e.low)].elementsEqual(id.bytes)
    }

    /// Looks `id` up: its slot, or the empty slot that ends its probe.
    func probe(_ id: TraceID) -> Probe {
        let t = Self.tag(id)
        return tags.withUnsafeBufferPointer { tags in
            var i = home(t)
            while true {
                let here = tags[i]
                if here == 0 { return Probe(found: false, index: i) }
                if here == t && matches(entries[i], id) { return Probe(found: true, index: i) }
                i = (i &+ 1) & mask
            }
        }
    }

    /// The value for `id`.
    func value(for id: TraceID) -> Value? {
        let p = probe(id)
        return p.found ? entries[p.index].value : nil
    }

    /// Whether `id` is held.
    func contains(_ id: TraceID) -> Bool { probe(id).found }

    /// Sets the value for `id`, inserting it when new.
    mutating func set(_ value: Value, for id: TraceID) {
        insert(value, for: id, at: probe(id))
    }

    /// Sets the value for `id` given its ``probe(_:)``, made since the table last changed.
    mutating func insert(_ value: Value, for id: TraceID, at probe: Probe) {
        if probe.found { entries[probe.index].value = value; return }
        var i = probe.index
        if (count &+ 1) &* 2 > mask &+ 1 {
            grow()
            i = home(Self.tag(id))
            while tags[i] != 0 { i = (i &+ 1) & mask }
        }
        var entry = Entry(low: id.low, high: id.high, length: id.bytes.count, value: value)
        if !id.isShort {
            let bytes = Array(id.bytes)
            if let free = freeLongIDs.popLast() {
                longIDs[free] = bytes; entry.low = UInt64(free)
            } else {
                entry.low = UInt64(longIDs.count); longIDs.append(bytes)
            }
        }
        tags[i] = Self.tag(id)
        entries[i] = entry
        count &+= 1
    }

    /// Removes `id` and returns its value.
    @discardableResult
    mutating func remove(_ id: TraceID) -> Value? {
        let p = probe(id)
        guard p.found else { return nil }
        var gap = p.index
        let removed = entries[gap].value
        if !id.isShort {
            let place = Int(truncatingIfNeeded: entries[gap].low)
            longIDs[place] = []
            freeLongIDs.append(place)
        }
        count &-= 1
        // Shift back every following entry whose home does not lie cyclically in (gap, j].
        let mask = mask
        tags.withUnsafeMutableBufferPointer { tags in
            entries.withUnsafeMutableBufferPointer { entries in
                tags[gap] = 0
                entries[gap].value = nil
                var j = gap
                while true {
                    j = (j &+ 1) & mask
                    let t = tags[j]
                    guard t != 0 else { break }
                    let k = Int(t) & mask
                    let stays = gap <= j ? (gap < k && k <= j) : (gap < k || k <= j)
                    if stays { continue }
                    tags[gap] = t
                    entries[gap] = entries[j]
                    tags[j] = 0
                    entries[j].value = nil
                    gap = j
                }
            }
        }
        return removed
    }

    private mutating func grow() {
        let oldTags = tags, oldEntries = entries
        let size = (mask &+ 1) &* 2
        tags = Array(repeating: 0, count: size)
        entries = Array(repeating: Entry(), count: size)
        mask = size &- 1
        for i in oldTags.indices where oldTags[i] != 0 {
            var s = home(oldTags[i])
            while tags[s] != 0 { s = (s &+ 1) & mask }
            tags[s] = oldTags[i]
            entries[s] = oldEntries[i]
        }
    }
}

extension TraceIDTable: Sendable where Value: Sendable {}
extension TraceIDTable.Entry: Sendable where Value: Sendable {}
extension TraceIDTable.Probe: Sendable {}
