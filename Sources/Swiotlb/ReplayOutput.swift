/// The replay's result lines as bytes, each ending in a newline, written straight into one
/// growing buffer (no string per line). Take them with ``withBytes(_:)`` and clear with
/// ``removeAll()``, or read them as ``lines``.
public struct ReplayOutput: Sendable {
    private var storage: [UInt8]
    /// Bytes written.
    public private(set) var count = 0

    /// An empty output with room for `capacity` bytes before it grows.
    public init(capacity: Int = 1 << 16) { storage = Array(repeating: 0, count: Swift.max(capacity, 1)) }

    /// Calls `body` with the bytes written so far.
    public func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[..<count])) }
    }

    /// Forgets the bytes written, keeping the room.
    public mutating func removeAll() { count = 0 }

    /// The lines written, without their newlines.
    public var lines: [String] {
        withBytes { b in b.split(separator: 0x0a).map { String(decoding: $0, as: UTF8.self) } }
    }

    /// Appends one line of at most `maxLength` bytes (newline included): `body` writes its
    /// fields through the writer it is given, and the newline follows.
    @inline(__always)
    mutating func appendLine(maxLength: Int, _ body: (inout LineWriter) -> Void) {
        if storage.count - count < maxLength {
            storage += Array(repeating: 0, count: Swift.max(maxLength, storage.count))
        }
        storage.withUnsafeMutableBufferPointer { b in
            var w = LineWriter(at: b.baseAddress! + count)
            body(&w)
            w.byte(0x0a)
            count = w.pointer - b.baseAddress!
        }
    }

    /// Writes into the room ``appendLine(maxLength:_:)`` made.
    struct LineWriter {
        private(set) var pointer: UnsafeMutablePointer<UInt8>

        init(at pointer: UnsafeMutablePointer<UInt8>) { self.pointer = pointer }

        /// One byte.
        @inline(__always)
        mutating func byte(_ c: UInt8) {
            pointer.pointee = c
            pointer += 1
        }

        /// A literal.
        @inline(__always)
        mutating func literal(_ s: StaticString) {
            pointer.update(from: s.utf8Start, count: s.utf8CodeUnitCount)
            pointer += s.utf8CodeUnitCount
        }

        /// Bytes as they are.
        @inline(__always)
        mutating func bytes(_ b: UnsafeBufferPointer<UInt8>) {
            if let base = b.baseAddress { pointer.update(from: base, count: b.count) }
            pointer += b.count
        }

        /// Lowercase hex without padding (at most 16 bytes).
        @inline(__always)
        mutating func hex(_ v: UInt64) {
            let digits = v == 0 ? 1 : (67 - v.leadingZeroBitCount) / 4
            var rest = v
            for k in stride(from: digits - 1, through: 0, by: -1) {
                let d = UInt8(truncatingIfNeeded: rest & 0xf)
                pointer[k] = d < 10 ? 0x30 &+ d : 0x57 &+ d
                rest >>= 4
            }
            pointer += digits
        }

        /// A decimal (at most 20 bytes).
        mutating func decimal(_ v: Int) {
            var m = v.magnitude
            if v < 0 { byte(0x2d) }
            var digits = 1
            var t = m
            while t >= 10 { t /= 10; digits += 1 }
            for k in stride(from: digits - 1, through: 0, by: -1) {
                pointer[k] = 0x30 &+ UInt8(truncatingIfNeeded: m % 10)
                m /= 10
            }
            pointer += digits
        }
    }
}
