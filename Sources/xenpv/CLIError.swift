/// A failure while running a command (not a usage error): one line, no usage text after it.
struct CLIError: Error, CustomStringConvertible {
    /// The line printed after `Error: `.
    let description: String
    /// Wraps a message.
    init(_ message: String) { description = message }
}
