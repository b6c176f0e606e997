/// Passes a replay's kernel messages to standard error up to a limit, then only counts them, so
/// that a trace whose every map fails cannot flood the terminal or a log (the kernel itself
/// rate-limits these lines; a trace has no clock to do that with).
struct KernelMessageLimit {
    /// Messages shown before the rest are only counted.
    static let shown = 200
    /// Whether every message is shown (`--all-messages`).
    let unlimited: Bool
    /// Messages shown so far.
    private var printed = 0
    /// Messages held back so far.
    private(set) var suppressed = 0

    /// A limit; `unlimited` shows every message.
    init(unlimited: Bool) { self.unlimited = unlimited }

    /// Writes what is still within the limit and counts the rest.
    mutating func write(_ lines: [String]) {
        guard !lines.isEmpty else { return }
        let room = unlimited ? lines.count : max(0, KernelMessageLimit.shown - printed)
        StandardError.write(Array(lines.prefix(room)))
        printed += min(room, lines.count)
        suppressed += lines.count - min(room, lines.count)
    }

    /// The closing line that says how many messages were held back, if any were.
    var summary: String? {
        suppressed == 0
            ? nil
            : "xenpv: \(suppressed) more kernel messages not shown (the first \(KernelMessageLimit.shown) were; --all-messages shows every one)"
    }

    /// Writes ``summary`` to standard error, once, if there is one.
    mutating func writeSummary() {
        guard let summary else { return }
        StandardError.write([summary])
        suppressed = 0
    }
}
