/// A dump that cannot be read: where and why.
public struct DumpError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 1-based line number (0 when the problem is the file as a whole).
    public var line: Int
    /// What was wrong.
    public var message: String
    /// `line N: <message>`.
    public var description: String { line > 0 ? "line \(line): \(message)" : message }
}

/// Literal text matched on raw bytes, for dump lines (their numbers: ``ByteNumber``).
enum Bytes {
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
