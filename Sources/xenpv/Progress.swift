#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A progress bar on standard error, shown only on a terminal and only after a second.
final class ProgressBar {
    private let label: String
    private let start = Clock.now()
    private var shown = false
    private let enabled = isatty(2) != 0

    /// A bar named `label`.
    init(label: String) { self.label = label }

    /// Reports `done` of `total`.
    func update(_ done: Int, _ total: Int) {
        guard enabled, Clock.now() - start > 1.0, total > 0 else { return }
        shown = true
        let frac = min(1, Double(done) / Double(total))
        let filled = Int(frac * 30)
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled)
        writeAll(fd: 2, "\r\(label) [\(bar)] \(Int(frac * 100))%")
    }

    /// Clears the bar.
    func finish() {
        if shown { writeAll(fd: 2, "\r" + String(repeating: " ", count: label.count + 40) + "\r") }
    }
}

/// Monotonic seconds.
enum Clock {
    /// Seconds since an arbitrary start.
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// A line counter on standard error for long imports (a terminal only, after a second).
final class LineProgress {
    private let label: String
    private let start = Clock.now()
    private var shown = false
    private let enabled = isatty(2) != 0

    /// A counter named `label`.
    init(label: String) { self.label = label }

    /// Reports `lines` read so far.
    func update(_ lines: Int) {
        guard enabled, Clock.now() - start > 1.0 else { return }
        shown = true
        writeAll(fd: 2, "\r\(label): \(lines / 1_000_000)M lines")
    }

    /// Clears the counter.
    func finish() {
        if shown { writeAll(fd: 2, "\r" + String(repeating: " ", count: label.count + 24) + "\r") }
    }
}
