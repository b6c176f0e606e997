/// Byte counts as people read them: `0`, `512 KiB`, `1.5 MiB`, `1.25 GiB`, `4 GiB`.
public enum ByteText {
    static let units: [(shift: UInt64, name: String)] = [(50, "PiB"), (40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")]

    /// `bytes` in the largest binary unit it reaches where it is a whole number or has at most
    /// two exact decimals (`1.5 MiB`, `1.25 GiB`, but `1537 KiB`); otherwise in plain bytes
    /// (`100 B`). Zero is `0`.
    public static func text(_ bytes: UInt64) -> String {
        if bytes == 0 { return "0" }
        for u in units where bytes >> u.shift > 0 {
            let unit: UInt64 = 1 << u.shift
            let whole = bytes >> u.shift, rest = bytes & (unit - 1)
            if rest == 0 { return "\(whole) \(u.name)" }
            let (scaled, overflow) = rest.multipliedReportingOverflow(by: 100)
            if !overflow, scaled & (unit - 1) == 0 {
                let hundredths = scaled >> u.shift
                let digits = hundredths % 10 == 0 ? "\(hundredths / 10)" : (hundredths < 10 ? "0\(hundredths)" : "\(hundredths)")
                return "\(whole).\(digits) \(u.name)"
            }
        }
        return "\(bytes) B"
    }
}

/// Why a text is not a byte size (``ByteText/size(_:)``).
public enum ByteSizeTextError: Error, Sendable, Equatable {
    /// Not digits with an optional K/M/G/T suffix, nor `0x` hex digits.
    case malformed
    /// A size over 2^64 - 1 bytes.
    case tooLarge
}

extension ByteText {
    /// Reads a byte size as the command line and scenarios write it: decimal digits with an
    /// optional binary unit `K`, `M`, `G` or `T` (either case: `2G`, `768m`, `4096`), or `0x`
    /// and hex digits for plain bytes (`0x1000`, read by ``Hex``; leading zeros taken, as the
    /// kernel's `memparse` takes them). A sign, a fraction, spaces or another unit are
    /// ``ByteSizeTextError/malformed``; a size over 2^64 - 1 bytes is ``ByteSizeTextError/tooLarge``.
    public static func size(_ text: Substring) throws(ByteSizeTextError) -> UInt64 {
        func isDigit(_ c: Character, radix: Int) -> Bool { c.isASCII && c.hexDigitValue.map { $0 < radix } == true }
        if text.hasPrefix("0x") || text.hasPrefix("0X") {
            let digits = text.dropFirst(2)
            guard !digits.isEmpty, digits.allSatisfy({ isDigit($0, radix: 16) }) else { throw .malformed }
            let significant = digits.drop { $0 == "0" }
            guard let v = significant.isEmpty ? 0 : Hex.value(digits: significant) else { throw .tooLarge }
            return v
        }
        var digits = text, shift: UInt64 = 0
        switch text.last {
        case "K", "k": shift = 10
        case "M", "m": shift = 20
        case "G", "g": shift = 30
        case "T", "t": shift = 40
        default: break
        }
        if shift > 0 { digits = digits.dropLast() }
        guard !digits.isEmpty, digits.allSatisfy({ isDigit($0, radix: 10) }) else { throw .malformed }
        guard let n = UInt64(digits) else { throw .tooLarge }
        let (v, overflow) = n.multipliedReportingOverflow(by: 1 << shift)
        guard !overflow else { throw .tooLarge }
        return v
    }
}
