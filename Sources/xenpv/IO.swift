#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a text file (or standard input for `-`) line by line without holding it in memory.
final class LineReader {
    private let file: UnsafeMutablePointer<FILE>
    private let ownsFile: Bool
    private var buffer: UnsafeMutablePointer<CChar>?
    private var capacity = 0

    /// Opens `path`; `-` is standard input.
    init(path: String) throws {
        if path == "-" {
            guard let f = fdopen(0, "r") else { throw IOError(message: String(cString: strerror(errno))) }
            file = f
            ownsFile = false
        } else {
            guard let f = fopen(path, "r") else { throw IOError(message: String(cString: strerror(errno))) }
            file = f
            ownsFile = true
        }
    }

    deinit {
        free(buffer)
        if ownsFile { fclose(file) }
    }

    /// The next line without its newline, or nil at the end.
    func next() -> String? {
        let n = getline(&buffer, &capacity, file)
        guard n >= 0, let b = buffer else { return nil }
        var len = n
        if len > 0 && b[len - 1] == 0x0a { len -= 1 }
        return b.withMemoryRebound(to: UInt8.self, capacity: len) { String(decoding: UnsafeBufferPointer(start: $0, count: len), as: UTF8.self) }
    }
}

/// A failed file operation.
struct IOError: Error, CustomStringConvertible {
    /// What the C library said.
    var message: String
    var description: String { message }
}

/// Batches lines for standard output.
struct OutputBuffer {
    private var text = ""
    /// Adds a line, writing out when the batch is large.
    mutating func append(_ line: String) {
        text += line
        text += "\n"
        if text.utf8.count > 1 << 16 { flush() }
    }
    /// Writes what is batched.
    mutating func flush() {
        guard !text.isEmpty else { return }
        writeAll(fd: 1, text)
        text = ""
    }
}

/// Standard error output.
enum StandardError {
    /// Writes each line with a newline.
    static func write(_ lines: [String]) {
        guard !lines.isEmpty else { return }
        writeAll(fd: 2, lines.joined(separator: "\n") + "\n")
    }
}

/// Writes the whole string to a file descriptor.
func writeAll(fd: Int32, _ text: String) {
    var t = text
    t.withUTF8 { p in
        var off = 0
        while off < p.count {
            let n = write(fd, p.baseAddress! + off, p.count - off)
            if n <= 0 { return }
            off += n
        }
    }
}
