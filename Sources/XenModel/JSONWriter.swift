import XenMemory

/// A JSON value written with keys in the order given, so equal runs give equal bytes.
public indirect enum JSONValue: Sendable {
    /// An object with ordered keys.
    case object([(String, JSONValue)])
    /// An array.
    case array([JSONValue])
    /// A string.
    case string(String)
    /// An integer.
    case int(Int64)
    /// An unsigned integer (addresses).
    case uint(UInt64)
    /// A boolean.
    case bool(Bool)
    /// null.
    case null

    /// Compact-but-readable JSON text (two-space indentation).
    public func rendered(indent: Int = 0) -> String {
        let pad = String(repeating: "  ", count: indent + 1), end = String(repeating: "  ", count: indent)
        switch self {
        case .object(let kv):
            if kv.isEmpty { return "{}" }
            return "{\n" + kv.map { "\(pad)\(Self.quote($0.0)): \($0.1.rendered(indent: indent + 1))" }.joined(separator: ",\n") + "\n\(end)}"
        case .array(let a):
            if a.isEmpty { return "[]" }
            if a.allSatisfy({
                if case .object = $0 { return false }; if case .array = $0 { return false }; return true
            }) {
                return "[" + a.map { $0.rendered() }.joined(separator: ", ") + "]"
            }
            return "[\n" + a.map { pad + $0.rendered(indent: indent + 1) }.joined(separator: ",\n") + "\n\(end)]"
        case .string(let s): return Self.quote(s)
        case .int(let i): return String(i)
        case .uint(let u): return String(u)
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        }
    }

    /// A JSON string literal, which is also a YAML double-quoted scalar: besides JSON's own
    /// escapes, DEL and the C1 controls (U+0080…U+009F), which YAML may not hold unescaped.
    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if u.value < 0x20 || (0x7f...0x9f).contains(u.value) { out += "\\u" + Hex.padded(u.value, 4) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}
