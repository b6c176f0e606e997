import ArgumentParser

/// Byte sizes on the command line: a number with an optional K/M/G/T suffix (binary units).
enum SizeArgument {
    /// Parses `2G`, `768M`, `4096` (bytes) and the like; anything else (a sign, a fraction, a
    /// size over 2^64 - 1 bytes) is refused naming what is expected.
    static func parse(_ text: String) throws -> UInt64 {
        var digits = Substring(text)
        var shift: UInt64 = 0
        switch text.last.map({ Character($0.uppercased()) }) {
        case "K": shift = 10
        case "M": shift = 20
        case "G": shift = 30
        case "T": shift = 40
        default: break
        }
        if shift > 0 { digits = digits.dropLast() }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let n = UInt64(digits) else {
            throw ValidationError("expected a size such as 2G, 768M or 4096 (bytes), got \(RefusalLine.quoted(text))")
        }
        let (v, overflow) = n.multipliedReportingOverflow(by: 1 << shift)
        guard !overflow else { throw ValidationError("\(RefusalLine.quoted(text)) is more than 2^64 - 1 bytes") }
        return v
    }
}
