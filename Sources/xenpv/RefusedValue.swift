import Swiotlb
import XenMemory

/// A refused value as `<option>: <what is expected>, got '<value>'`, quoting at most
/// ``quoteLimit`` bytes of it.
extension RefusalLine {
    /// Bytes of an offending value quoted in a message.
    static let quoteLimit = ErrorToken.maxBytes

    /// `text` between single quotes, cut to ``quoteLimit`` bytes (`…` marks a cut), control
    /// characters shown as `\u{…}`.
    static func quoted(_ text: String) -> String {
        "'" + shortened(Substring(text)) + "'"
    }

    /// ArgumentParser's one-line message with every quoted value cut to ``quoteLimit`` bytes,
    /// and `The value 'V' is invalid for '--opt <v>': why` as `--opt: why`.
    static func naming(_ message: String) -> String {
        var line = shortenQuotes(message)
        let head = "The value '"
        if line.hasPrefix(head), let forRange = line.range(of: "' is invalid for '") {
            let value = line[line.index(line.startIndex, offsetBy: head.count)..<forRange.lowerBound]
            let rest = line[forRange.upperBound...]
            if let close = rest.firstIndex(of: "'") {
                let synopsis = rest[..<close]
                // `--seed <seed>` names the option; a positional argument is `<domid>`.
                let name = synopsis.hasPrefix("-") ? String(synopsis.prefix { $0 != " " }) : String(synopsis)
                let why = rest[rest.index(after: close)...]
                if why.hasPrefix(": ") {
                    line = name + ": " + why.dropFirst(2)
                } else {
                    line = name + ": '\(value)' is not valid" + why
                }
            }
        }
        return line
    }

    /// Every `'…'` span longer than ``quoteLimit`` bytes cut to it.
    private static func shortenQuotes(_ s: String) -> String {
        var out = ""
        var rest = Substring(s)
        while let open = rest.firstIndex(of: "'") {
            out += rest[...open]
            let after = rest[rest.index(after: open)...]
            guard let close = after.firstIndex(of: "'") else { rest = after; break }
            out += shortened(after[..<close]) + "'"
            rest = after[after.index(after: close)...]
        }
        return out + rest
    }

    /// At most ``quoteLimit`` bytes of `text`, as every message quotes a token
    /// (``ErrorToken/clipped(_:)``: whole characters, `…` after a cut, control characters as `\u{…}`).
    private static func shortened(_ text: Substring) -> String { ErrorToken.clipped(text) }
}
