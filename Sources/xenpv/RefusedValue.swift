import Swiotlb
import XenMemory

/// A refused value as `<option>: <what is expected>, got '<value>'`, quoting at most
/// ``ErrorToken/maxBytes`` bytes of it.
extension RefusalLine {
    /// `text` between single quotes as ``ErrorToken/clipped(_:)`` quotes it (`…` marks a cut,
    /// control characters shown as `\u{…}`).
    static func quoted(_ text: String) -> String {
        "'" + ErrorToken.clipped(text) + "'"
    }

    /// ArgumentParser's one-line message with every quoted value cut to ``ErrorToken/maxBytes`` bytes,
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

    /// Every `'…'` span longer than ``ErrorToken/maxBytes`` bytes cut to it.
    private static func shortenQuotes(_ s: String) -> String {
        var out = ""
        var rest = Substring(s)
        while let open = rest.firstIndex(of: "'") {
            out += rest[...open]
            let after = rest[rest.index(after: open)...]
            guard let close = after.firstIndex(of: "'") else { rest = after; break }
            out += ErrorToken.clipped(after[..<close]) + "'"
            rest = after[after.index(after: close)...]
        }
        return out + rest
    }
}
