/// A scenario that cannot be used: the file, the line, the field's path and what was expected.
public struct ScenarioError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file name as given.
    public var file: String
    /// 1-based line, when known.
    public var line: Int?
    /// The field's path, e.g. `devices[1].dma_bits`.
    public var path: String
    /// What was wrong.
    public var message: String

    /// `<file>:<line>: <path>: <message>`.
    public var description: String {
        let loc = line.map { "\(file):\($0)" } ?? file
        return path.isEmpty ? "\(loc): \(message)" : "\(loc): \(path): \(message)"
    }
}
