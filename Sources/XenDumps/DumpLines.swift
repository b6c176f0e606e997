import XenMemory

/// The next line of a dump as bytes without its newline, valid until the next call; nil at the
/// end. Readers take their input this way so that a large dump streams without a `String` per
/// line.
public typealias DumpLineSource = () -> UnsafeBufferPointer<UInt8>?

/// One reused buffer that holds a copy of the current line, so `Substring` lines can feed a
/// byte-level reader.
final class LineCopy {
    private var storage: UnsafeMutablePointer<UInt8>
    private var capacity = 256

    init() { storage = .allocate(capacity: 256) }
    deinit { storage.deallocate() }

    /// The line's bytes, valid until the next call.
    func hold(_ line: Substring) -> UnsafeBufferPointer<UInt8> {
        var copy = line
        return copy.withUTF8 { b in
            if b.count > capacity {
                storage.deallocate()
                capacity = b.count
                storage = .allocate(capacity: capacity)
            }
            if let base = b.baseAddress { storage.update(from: base, count: b.count) }
            return UnsafeBufferPointer(start: storage, count: b.count)
        }
    }

    /// A byte source over `next`'s lines.
    static func lines(_ next: @escaping () -> Substring?) -> DumpLineSource {
        let copy = LineCopy()
        return { next().map { copy.hold($0) } }
    }
}

/// Builds an ``ExtentMap`` from keys given in order one at a time, extending the current run
/// while each value continues it: one map append per run instead of one per key.
struct RunAccumulator<Value: ExtentValue> {
    private(set) var map = ExtentMap<Value>()
    private var start: UInt64 = 0
    private var count: UInt64 = 0
    private var value: Value?

    /// Adds `key` → `v`; keys must come in increasing order.
    @inline(__always)
    mutating func add(_ key: UInt64, _ v: Value) {
        if let current = value, start &+ count == key, current.advanced(by: count) == v {
            count &+= 1
            return
        }
        flush()
        start = key; count = 1; value = v
    }

    private mutating func flush() {
        if let v = value { map.append(start: start, count: count, value: v) }
        value = nil
    }

    /// The map with every key added.
    mutating func finish() -> ExtentMap<Value> {
        flush()
        return map
    }
}

extension DumpError {
    /// `expected …, got '<the line>'`, the line quoted as every message quotes a token
    /// (``ErrorToken/clipped(_:)``).
    static func unexpected(_ line: Int, _ expected: String, _ got: UnsafeBufferPointer<UInt8>) -> DumpError {
        DumpError(line: line, message: "expected \(expected), got '\(ErrorToken.clipped(String(decoding: got, as: UTF8.self)))'")
    }
}
