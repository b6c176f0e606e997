/// Lowercase hexadecimal as the kernel and Xen print it: the project's one hex formatter (the
/// replay's byte writer, `ReplayOutput`, spells `digits` straight into its output buffer), and
/// the one reader of a hex number in text, with or without `0x` (the trace parser reads bytes:
/// `ByteNumber`).
public enum Hex {
    /// `0x` (or `0X`) and 1 to 16 ASCII hex digits, either case; nil for anything else (a sign,
    /// spaces, more digits than 64 bits hold).
    public static func value(_ text: Substring) -> UInt64? {
        guard text.hasPrefix("0x") || text.hasPrefix("0X") else { return nil }
        return value(digits: text.dropFirst(2))
    }

    /// 1 to 16 ASCII hex digits, either case, without a prefix: what ``digits(_:)`` and
    /// ``padded(_:_:)`` write (Xen's `%016Lx` in its `RAM map:` lines and `->` ranges); nil for
    /// anything else (empty, a `0x`, a sign, spaces, more digits than 64 bits hold).
    public static func value(digits text: Substring) -> UInt64? {
        guard (1...16).contains(text.count), text.allSatisfy({ $0.isASCII && $0.isHexDigit }) else { return nil }
        return UInt64(text, radix: 16)
    }

    /// 1 to 16 ASCII hex digits with or without `0x`, for readers that take both spellings of
    /// one field (a tracepoint's `%llx`, the host log's E820 bounds): ``value(digits:)`` after
    /// an optional `0x`; nil for anything else.
    public static func value(prefixOptional text: Substring) -> UInt64? {
        value(digits: text.hasPrefix("0x") ? text.dropFirst(2) : text)
    }

    /// ``value(_:)``, or else 1 to 20 ASCII decimal digits that fit in 64 bits: how the
    /// scenarios and traces write a number.
    public static func number(_ text: Substring) -> UInt64? {
        if let v = value(text) { return v }
        guard !text.isEmpty, text.count <= 20, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return UInt64(text)
    }

    /// `%llx`: lowercase hex digits, unpadded, no prefix.
    public static func digits<Value: BinaryInteger>(_ v: Value) -> String { String(v, radix: 16) }
    /// `0x%llx`: `0x` and unpadded lowercase hex.
    public static func plain<Value: BinaryInteger>(_ v: Value) -> String { "0x" + digits(v) }
    /// `%0<width>llx`: lowercase hex, zero-padded to `width` digits.
    public static func padded<Value: BinaryInteger>(_ v: Value, _ width: Int) -> String {
        let s = digits(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
