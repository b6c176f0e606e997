/// A capture that cannot be read, paired or written: where (a line of the tracefs text, or the
/// capture as a whole) and what.
public struct CaptureError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 1-based line of the text read (nil: not about one line).
    public var line: Int?
    /// What was wrong.
    public var message: String

    /// An error at `line` (nil: the whole capture).
    public init(line: Int? = nil, _ message: String) { self.line = line; self.message = message }

    /// `line N: <message>`, or the message.
    public var description: String { line.map { "line \($0): \(message)" } ?? message }

    /// The one line that reports it for input `file`: `<file>:<line>: <message>`.
    public func report(file: String) -> String { line.map { "\(file):\($0): \(message)" } ?? "\(file): \(message)" }
}
