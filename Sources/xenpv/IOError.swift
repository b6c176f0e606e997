#if canImport(Glibc)
    import Glibc
#endif

/// A failed read or write of a named file, as the one line printed after `Error: `:
/// `file: reason` or `file:line: reason`.
struct IOError: Error, CustomStringConvertible {
    /// The whole line.
    let description: String

    /// `file: reason` (`-` is shown as `<stdin>`).
    init(_ file: String, _ reason: String) {
        description = "\(IOError.shown(file)): \(reason)"
    }

    /// `file:line: reason`.
    init(_ file: String, line: Int, _ reason: String) {
        description = "\(IOError.shown(file)):\(line): \(reason)"
    }

    /// `file: <what the C library says about code>`.
    init(_ file: String, errno code: Int32) {
        self.init(file, IOError.reason(code))
    }

    /// The C library's words for an `errno` value.
    static func reason(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// How a path is named in messages: `-` is standard input.
    static func shown(_ path: String) -> String { path == "-" ? "<stdin>" : path }
}
