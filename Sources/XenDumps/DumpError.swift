/// A dump that cannot be read: where and why.
public struct DumpError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 1-based line number (0 when the problem is the file as a whole).
    public var line: Int
    /// What was wrong.
    public var message: String
    /// `line N: <message>`.
    public var description: String { line > 0 ? "line \(line): \(message)" : message }
}

/// Hex and decimal parsing on raw bytes, for dump lines.
enum Bytes {
    /// Parses lowercase/uppercase hex digits at `i`, advancing it; nil when there are none or
    /// the value does not fit in 64 bits.
    @inline(__always)
    static func hex(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> UInt64? {
        var v: UInt64 = 0, digits = 0
        while i < b.count {
            let c = b[i]
            let d: UInt8
            switch c {
            case 0x30...0x39: d = c - 0x30
            case 0x61...0x66: d = c - 0x61 + 10
            case 0x41...0x46: d = c - 0x41 + 10
            default: return digits > 0 && digits <= 16 ? v : nil
            }
            v = v &<< 4 | UInt64(d)
            digits += 1
            i += 1
        }
        return digits > 0 && digits <= 16 ? v : nil
    }

    /// Parses decimal digits at `i`, advancing it.
    static func decimal(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> UInt64? {
        var v: UInt64 = 0, digits = 0
        while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(b[i] - 0x30))
            if o1 || o2 { return nil }
            v = a; digits += 1; i += 1
        }
        return digits > 0 ? v : nil
    }

    /// Matches the literal `lit` at `i`, advancing it.
    @inline(__always)
    static func literal(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int, _ lit: StaticString) -> Bool {
        let n = lit.utf8CodeUnitCount
        guard i + n <= b.count else { return false }
        let p = lit.utf8Start
        for k in 0..<n where b[i + k] != p[k] { return false }
        i += n
        return true
    }
}
