import ArgumentParser

/// File names on the command line.
enum FileArgument {
    /// A file name as given; an empty one names no file and is refused with the option.
    static func name(_ text: String) throws -> String {
        guard !text.isEmpty else { throw ValidationError("expected a file name, got ''") }
        return text
    }
}
