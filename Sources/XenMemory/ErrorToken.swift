/// What an error message quotes of an offending token: at most ``maxBytes`` bytes of it, cut on
/// a Unicode scalar boundary (never inside a UTF-8 sequence) and ended with `…` when cut, with control and line-breaking characters
/// written as `\u{…}`, so a megabyte of random bytes makes one short line.
public enum ErrorToken {
    /// The most bytes of a token a message quotes.
    public static let maxBytes = 80

    /// `token` as a message may quote it.
    public static func clipped(_ token: some StringProtocol) -> String {
        var out = ""
        var bytes = 0
        for scalar in token.unicodeScalars {
            let shown: String
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .unassigned, .privateUse:
                shown = "\\u{\(Hex.digits(scalar.value))}"
            default:
                shown = String(scalar)
            }
            bytes += shown.utf8.count
            guard bytes <= maxBytes else { return out + "…" }
            out += shown
        }
        return out
    }
}
