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
            copy(s.utf8Start, count: s.utf8CodeUnitCount)
        }

        /// Bytes as they are.
        @inline(__always)
        mutating func bytes(_ b: UnsafeBufferPointer<UInt8>) {
            if let base = b.baseAddress { copy(base, count: b.count) }
        }

        /// `count` bytes from `source`: up to 16 as two overlapping loads and stores (a call to
        /// `memcpy` costs more than the short fields of a result line), longer ones by `memcpy`.
        @inline(__always)
        private mutating func copy(_ source: UnsafePointer<UInt8>, count n: Int) {
            let from = UnsafeRawPointer(source), to = UnsafeMutableRawPointer(pointer)
            if n >= 8 && n <= 16 {
                let first = from.loadUnaligned(as: UInt64.self), last = from.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self)
                to.storeBytes(of: first, as: UInt64.self)
                to.storeBytes(of: last, toByteOffset: n &- 8, as: UInt64.self)
            } else if n >= 4 && n < 8 {
                let first = from.loadUnaligned(as: UInt32.self), last = from.loadUnaligned(fromByteOffset: n &- 4, as: UInt32.self)
                to.storeBytes(of: first, as: UInt32.self)
                to.storeBytes(of: last, toByteOffset: n &- 4, as: UInt32.self)
            } else if n < 4 {
                for k in 0..<n { pointer[k] = source[k] }
            } else {
                pointer.update(from: source, count: n)
            }
            pointer += n
        }

        /// `00`, `01`, … `ff`: two hex digits per byte value.
        private static let hexPairs: StaticString = """
            000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\
            202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\
            404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f\
            606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f\
            808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f\
            a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf\
            c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf\
            e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff
            """

        /// `00`, `01`, … `99`: two decimal digits per value below 100.
        private static let decimalPairs: StaticString = """
            00010203040506070809101112131415161718192021222324252627282930313233343536373839\
            40414243444546474849505152535455565758596061626364656667686970717273747576777879\
            8081828384858687888990919293949596979899
            """

        /// Lowercase hex without padding (at most 16 bytes): a byte (two digits) per step.
        @inline(__always)
        mutating func hex(_ v: UInt64) {
            let digits = v == 0 ? 1 : (67 &- v.leadingZeroBitCount) >> 2
            let pairs = Self.hexPairs.utf8Start
            var rest = v
            var k = digits
            while k >= 2 {
                let p = Int(truncatingIfNeeded: rest & 0xff) &<< 1
                k &-= 2
                pointer[k] = pairs[p]
                pointer[k &+ 1] = pairs[p &+ 1]
                rest >>= 8
            }
            if k == 1 { pointer[0] = pairs[Int(truncatingIfNeeded: rest & 0xf) &<< 1 &+ 1] }
            pointer += digits
        }

        /// A decimal (at most 20 bytes): two digits per step from a table, so a step divides
        /// (by a constant, a multiplication) once for two digits.
        @inline(__always)
        mutating func decimal(_ v: Int) {
            if v < 0 { byte(0x2d) }
            var m = v.magnitude
            let digits = Self.decimalDigits(m)
            let pairs = Self.decimalPairs.utf8Start
            var k = digits
            while k >= 2 {
                let q = m / 100
                let p = Int(truncatingIfNeeded: m &- q &* 100) &<< 1
                k &-= 2
                pointer[k] = pairs[p]
                pointer[k &+ 1] = pairs[p &+ 1]
                m = q
            }
            if k == 1 { pointer[0] = 0x30 &+ UInt8(truncatingIfNeeded: m) }
            pointer += digits
        }

        /// The decimal digits of `m` (1 for 0).
        @inline(__always)
        private static func decimalDigits(_ m: UInt) -> Int {
            var n = 1
            var t = m
            while t >= 10_000 {
                t /= 10_000
                n &+= 4
            }
            if t >= 100 {
                t /= 100
                n &+= 2
            }
            return t >= 10 ? n &+ 1 : n
        }
    }
}
