/// What an error message quotes of an offending token: at most ``maxBytes`` bytes of it, cut on
/// a character boundary and ended with `…` when cut, so a megabyte-long token makes a short
/// message.
public enum ErrorToken {
    /// The most bytes of a token a message quotes.
    public static let maxBytes = 80

    /// `token` as a message may quote it.
    public static func clipped(_ token: some StringProtocol) -> String {
        guard token.utf8.count > maxBytes else { return String(token) }
        var out = ""
        var bytes = 0
        for c in token {
            bytes += c.utf8.count
            guard bytes <= maxBytes else { break }
            out.append(c)
        }
        return out + "…"
    }
}
