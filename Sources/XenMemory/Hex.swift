/// Lowercase hexadecimal as the kernel and Xen print it: the project's one hex formatter (the
/// replay's byte writer, `ReplayOutput`, spells `digits` straight into its output buffer).
public enum Hex {
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
