import ArgumentParser

/// Byte sizes on the command line: a number with an optional K/M/G/T suffix (binary units).
enum SizeArgument {
    /// Parses `2G`, `768M`, `4096` (bytes) and the like.
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
        guard let n = UInt64(digits) else { throw ValidationError("'\(text)' is not a size (e.g. 2G, 768M)") }
        let (v, overflow) = n.multipliedReportingOverflow(by: 1 << shift)
        guard !overflow else { throw ValidationError("'\(text)' is too large") }
        return v
    }
}
