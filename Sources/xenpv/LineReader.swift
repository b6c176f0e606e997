#if canImport(Glibc)
    import Glibc
#endif

/// Reads a text file (or standard input for `-`) line by line in bounded memory: reads of up to
/// 256 KiB into one buffer, lines found with `memchr` and handed out in place. The buffer grows
/// only to hold one line of at most `maxLine` bytes; a longer line ends the reading with
/// `file:line: longer than 1 MiB`.
final class LineReader {
    /// The path as given (`-` for standard input).
    let path: String
    /// The longest line accepted, in bytes before the newline.
    let maxLine: Int
    private let fd: Int32
    private let decompressor: Decompressor?
    /// The read buffer: bytes `start..<end` are read and not yet handed out.
    private var buffer: UnsafeMutableRawPointer
    private var capacity: Int
    private var start = 0, end = 0
    private var atEnd = false
    /// Lines handed out so far.
    private(set) var lineNumber = 0
    /// Why the reading stopped before the end of the input, as one line naming the file (a failed
    /// read, a line over the bound, a failed decompressor); nil while all is well.
    private(set) var failure: IOError?

    /// Opens `path`; `-` is standard input. With `decompress`, a regular file starting with gzip's
    /// or xz's magic bytes is read through `gzip -dc` / `xz -dc`.
    init(path: String, decompress: Bool = false, maxLine: Int = InputLimit.lineBytes) throws(IOError) {
        self.path = path
        self.maxLine = maxLine
        fd = try InputFile.open(path)
        var tool: Decompressor?
        if decompress, let name = Decompressor.tool(for: fd) {
            do { tool = try Decompressor(tool: name, input: fd) } catch {
                if path != "-" { close(fd) }
                throw IOError(path, error.description)
            }
        }
        decompressor = tool
        // Room for a full line and its newline, so no line within the bound is ever cut.
        capacity = min(1 << 18, maxLine + 1)
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    deinit {
        buffer.deallocate()
        if path != "-" { close(fd) }
    }

    /// The next line's bytes without the newline (and a CR before it), valid until the next
    /// read; nil at the end or on a failure (then `failure` says which).
    func nextBytes() -> UnsafeBufferPointer<UInt8>? {
        var s = start
        while true {
            if let newline = memchr(buffer + s, 0x0a, end - s) {
                let lineEnd = buffer.distance(to: newline)
                guard lineEnd - s <= maxLine else { return tooLong() }
                start = lineEnd + 1
                return line(s, lineEnd)
            }
            guard end - s <= maxLine else { return tooLong() }
            if atEnd {
                guard s < end, failure == nil else { return nil }
                start = end
                return line(s, end)
            }
            // Keep the partial line, make room (growing up to one longest line), read on.
            if s > 0 {
                buffer.copyMemory(from: buffer + s, byteCount: end - s)
                end -= s
                s = 0
            }
            if end == capacity { grow() }
            // read(2), not fread: from a pipe it returns what has arrived, so lines are handed
            // out as they come rather than a full buffer later.
            let n = decompressor?.read(buffer + end, capacity - end) ?? InputFile.read(fd, buffer + end, capacity - end)
            if n < 0 { failure = IOError(path, errno: errno) }
            if n <= 0 {
                atEnd = true
                if failure == nil, let decompressor, let reason = decompressor.finish() {
                    failure = IOError(path, "decompression failed: \(reason)")
                }
            } else {
                end += n
            }
            start = s
        }
    }

    /// The next line without its newline, or nil at the end.
    func next() -> String? {
        nextBytes().map { String(decoding: $0, as: UTF8.self) }
    }

    /// Ends the reading at a line over the bound.
    private func tooLong() -> UnsafeBufferPointer<UInt8>? {
        failure = IOError(path, line: lineNumber + 1, "line longer than \(InputLimit.shown(maxLine))")
        atEnd = true
        start = end
        return nil
    }

    /// Doubles the buffer, to at most one longest line and its newline.
    private func grow() {
        let bigger = min(capacity * 2, maxLine + 1)
        let new = UnsafeMutableRawPointer.allocate(byteCount: bigger, alignment: 16)
        new.copyMemory(from: buffer, byteCount: end)
        buffer.deallocate()
        buffer = new
        capacity = bigger
    }

    /// Bytes `from..<to` of the buffer, less a CR at the end; counts the line.
    private func line(_ from: Int, _ to: Int) -> UnsafeBufferPointer<UInt8> {
        lineNumber += 1
        let bytes = (buffer + from).assumingMemoryBound(to: UInt8.self)
        var count = to - from
        if count > 0 && bytes[count - 1] == 0x0d { count -= 1 }
        return UnsafeBufferPointer(start: bytes, count: count)
    }
}
