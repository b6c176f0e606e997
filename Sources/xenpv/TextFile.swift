#if canImport(Glibc)
    import Glibc
#endif

/// Whole-file reads of small text inputs (scenarios, logs, captures), bounded by an ``InputLimit``.
enum TextFile {
    /// The file's contents as UTF-8 text. More than `limit.bytes` is refused as
    /// `<file>: larger than 4 MiB: not a scenario` (a regular file by its size, before reading);
    /// with `limit.lineBytes`, so is a longer line, as `<file>:<line>: line longer than 1 MiB`
    /// (as soon as it is seen).
    static func read(_ path: String, limit: InputLimit) throws(IOError) -> String {
        let fd = try InputFile.open(path)
        defer { if path != "-" { close(fd) } }
        var status = stat()
        let isRegular = fstat(fd, &status) == 0 && status.st_mode & S_IFMT == S_IFREG
        if isRegular && status.st_size > limit.bytes { throw tooLarge(path, limit) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(isRegular ? Int(status.st_size) + 1 : 1 << 16)
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var lines = LineCheck(path: path, longest: limit.lineBytes)
        // Reading past the bound by at most a chunk tells a file of exactly the bound from a longer one.
        while bytes.count <= limit.bytes {
            let n = chunk.withUnsafeMutableBytes { InputFile.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 { throw IOError(path, errno: errno) }
            if n == 0 { break }
            bytes += chunk[0..<n]
            try lines.check(bytes)
        }
        guard bytes.count <= limit.bytes else { throw tooLarge(path, limit) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The refusal of a file over its bound.
    private static func tooLarge(_ path: String, _ limit: InputLimit) -> IOError {
        IOError(path, "larger than \(limit.shownSize): not \(limit.kind)")
    }

    /// Finds the first line longer than the bound, looking at each byte once as the text grows.
    private struct LineCheck {
        let path: String
        let longest: Int?
        var line = 1, lineStart = 0, scanned = 0

        /// Refuses a line over the bound among `bytes`, the text read so far, including its
        /// last line, whether or not a newline ends it yet.
        mutating func check(_ bytes: [UInt8]) throws(IOError) {
            guard let longest else { return }
            while let newline = bytes[scanned...].firstIndex(of: 0x0a) {
                guard newline - lineStart <= longest else { throw tooLong(longest) }
                line += 1
                lineStart = newline + 1
                scanned = lineStart
            }
            scanned = bytes.count
            guard bytes.count - lineStart <= longest else { throw tooLong(longest) }
        }

        /// The refusal of the current line.
        private func tooLong(_ longest: Int) -> IOError {
            IOError(path, line: line, "line longer than \(InputLimit.shown(longest))")
        }
    }
}
