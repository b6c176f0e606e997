/// Numbers read straight from text bytes (ASCII digits in UTF-8): the project's one reader of
/// the hex and decimal numbers in dumps, kernel logs and tracefs lines, where a parse by
/// `Character` or `UInt64(_:radix:)` on a `Substring` costs more than the rest of the line.
///
/// Each reader starts at `i`, takes digits while there are any and leaves `i` on the first byte
/// that is not one; a caller that wants the whole text to be the number checks `i == b.count`.
/// ```swift
/// "mfn=0x1f40".utf8.withContiguousStorageIfAvailable { b in
///     var i = 6
///     return ByteNumber.hex(b, &i)  // 0x1f40, i == 10
/// }
/// ```
public enum ByteNumber {
    /// The hex digits (either case) at `i`, advancing `i` past them; nil when there are none or
    /// more than 16 (a value over 64 bits).
    @inlinable @inline(__always)
    public static func hex(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> UInt64? {
        var v: UInt64 = 0, digits = 0
        while i < b.count {
            let c = b[i]
            var d = c &- 0x30
            if d >= 10 {
                // A letter either case: `| 0x20` makes `A`–`F` `a`–`f` (and nothing else a-f).
                d = (c | 0x20) &- 0x61
                guard d < 6 else { break }
                d &+= 10
            }
            v = v &<< 4 | UInt64(d)
            digits &+= 1
            i &+= 1
        }
        return digits > 0 && digits <= 16 ? v : nil
    }

    /// The decimal digits at `i`, advancing `i` past them; nil when there are none or the value
    /// does not fit in 64 bits.
    @inlinable @inline(__always)
    public static func decimal(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> UInt64? {
        var v: UInt64 = 0, digits = 0
        while i < b.count {
            let d = b[i] &- 0x30
            guard d < 10 else { break }
            if digits < 19 {
                v = v &* 10 &+ UInt64(d)  // 19 digits never exceed 2^64 - 1
            } else {
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(UInt64(d))
                if o1 || o2 { return nil }
                v = a
            }
            digits &+= 1
            i &+= 1
        }
        return digits > 0 ? v : nil
    }
}
