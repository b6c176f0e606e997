#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Batches lines for standard output.
struct OutputBuffer {
    private var bytes: [UInt8] = []
    /// Adds a line, writing out when the batch is large.
    mutating func append(_ line: String) {
        bytes.append(contentsOf: line.utf8)
        endLine()
    }
    private mutating func endLine() {
        bytes.append(0x0a)
        if bytes.count > 1 << 16 { flush() }
    }
    /// Writes what is batched.
    mutating func flush() {
        guard !bytes.isEmpty else { return }
        bytes.withUnsafeBufferPointer { writeAll(fd: 1, $0) }
        bytes.removeAll(keepingCapacity: true)
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
    t.withUTF8 { writeAll(fd: fd, $0) }
}

/// Writes all the bytes to a file descriptor (retrying short writes and EINTR).
func writeAll(fd: Int32, _ p: UnsafeBufferPointer<UInt8>) {
    var off = 0
    while off < p.count {
        let n = write(fd, p.baseAddress! + off, p.count - off)
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return }
        off += n
    }
}
