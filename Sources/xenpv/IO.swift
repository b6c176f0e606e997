#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a text file (or standard input for `-`) line by line without holding it in memory:
/// reads of up to 256 KiB into one buffer, lines found with `memchr` and handed out in place.
final class LineReader {
    private let file: UnsafeMutablePointer<FILE>
    private let ownsFile: Bool
    private var isPipe = false
    /// The read buffer: bytes `start..<end` are read and not yet handed out.
    private var buffer: UnsafeMutableRawPointer
    private var capacity = 1 << 18
    private var start = 0, end = 0
    private var atEnd = false
    /// The `errno` of a failed read, after which the reader reports the end.
    private(set) var readError: Int32?
    /// The failed read as a message (`strerror`), if one failed.
    var readErrorMessage: String? { readError.map { String(cString: strerror($0)) } }

    /// Opens `path`; `-` is standard input. With `decompress`, gzip and xz files (by their
    /// magic bytes) are read through `gzip -dc` / `xz -dc`.
    init(path: String, decompress: Bool = false) throws {
        if decompress, path != "-", let tool = LineReader.decompressor(for: path) {
            guard let p = popen("\(tool) -dc -- '\(path.replacingOccurrences(of: "'", with: "'\\''"))'", "r") else {
                throw IOError(message: String(cString: strerror(errno)))
            }
            file = p
            ownsFile = false
            isPipe = true
        } else if path == "-" {
            guard let f = fdopen(0, "r") else { throw IOError(message: String(cString: strerror(errno))) }
            file = f
            ownsFile = false
        } else {
            guard let f = fopen(path, "r") else { throw IOError(message: String(cString: strerror(errno))) }
            file = f
            ownsFile = true
        }
        // fopen accepts a directory; say so now rather than read it as an empty file.
        var status = stat()
        if fstat(fileno(file), &status) == 0 && status.st_mode & S_IFMT == S_IFDIR {
            if ownsFile { fclose(file) }
            throw IOError(message: String(cString: strerror(EISDIR)))
        }
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    deinit {
        buffer.deallocate()
        if isPipe { pclose(file) } else if ownsFile { fclose(file) }
    }

    /// `gzip` or `xz` when the file starts with their magic bytes.
    static func decompressor(for path: String) -> String? {
        guard let f = fopen(path, "rb") else { return nil }
        defer { fclose(f) }
        var magic = [UInt8](repeating: 0, count: 6)
        let n = fread(&magic, 1, 6, f)
        if n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b { return "gzip" }
        if n >= 6 && magic == [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] { return "xz" }
        return nil
    }

    /// The next line's bytes without the newline (and a CR before it), valid until the next
    /// read; nil at the end.
    func nextBytes() -> UnsafeBufferPointer<UInt8>? {
        var s = start
        while true {
            if let newline = memchr(buffer + s, 0x0a, end - s) {
                let lineEnd = buffer.distance(to: newline)
                start = lineEnd + 1
                return line(s, lineEnd)
            }
            if atEnd {
                guard s < end else { return nil }
                start = end
                return line(s, end)
            }
            // Keep the partial line, make room (doubling for a line longer than the buffer), read on.
            if s > 0 {
                buffer.copyMemory(from: buffer + s, byteCount: end - s)
                end -= s
                s = 0
            }
            if end == capacity {
                let bigger = UnsafeMutableRawPointer.allocate(byteCount: capacity * 2, alignment: 16)
                bigger.copyMemory(from: buffer, byteCount: end)
                buffer.deallocate()
                buffer = bigger
                capacity *= 2
            }
            // read(2), not fread: from a pipe it returns what has arrived, so lines are handed
            // out as they come rather than a full buffer later.
            let n = read(fileno(file), buffer + end, capacity - end)
            if n < 0 && errno == EINTR { continue }
            if n < 0 { readError = errno }
            if n <= 0 { atEnd = true } else { end += n }
            start = s
        }
    }

    /// Bytes `from..<to` of the buffer, less a CR at the end.
    private func line(_ from: Int, _ to: Int) -> UnsafeBufferPointer<UInt8> {
        let bytes = (buffer + from).assumingMemoryBound(to: UInt8.self)
        var count = to - from
        if count > 0 && bytes[count - 1] == 0x0d { count -= 1 }
        return UnsafeBufferPointer(start: bytes, count: count)
    }

    /// The next line without its newline, or nil at the end.
    func next() -> String? {
        nextBytes().map { String(decoding: $0, as: UTF8.self) }
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

/// Whole-file reads and atomic writes.
enum TextFile {
    /// The file's contents as UTF-8 text.
    static func read(_ path: String) throws -> String {
        guard let f = fopen(path, "r") else { throw IOError(message: String(cString: strerror(errno))) }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n > 0 { bytes += chunk[0..<n] }
            if n < chunk.count {
                // A failed read (a directory among them) is an error, not the end of the text.
                if ferror(f) != 0 { throw IOError(message: String(cString: strerror(errno))) }
                break
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Writes files so that a reader sees the old contents or the new, never a partial file.
enum AtomicFile {
    /// Writes `text` to a temporary file beside `path`, then renames it over `path`.
    static func write(_ text: String, to path: String) throws {
        let tmp = path + ".tmp-\(getpid())"
        guard let f = fopen(tmp, "w") else { throw IOError(message: "\(path): \(String(cString: strerror(errno)))") }
        var t = text
        let ok = t.withUTF8 { p in fwrite(p.baseAddress, 1, p.count, f) == p.count }
        let closed = fflush(f) == 0 && fsync(fileno(f)) == 0
        fclose(f)
        guard ok && closed, rename(tmp, path) == 0 else {
            unlink(tmp)
            throw IOError(message: "\(path): \(String(cString: strerror(errno)))")
        }
    }
}

extension AtomicFile {
    /// Streams lines (a newline after each) into a temporary file beside `path`, then renames it.
    static func write(lines produce: ((String) -> Void) -> Void, to path: String) throws {
        let tmp = path + ".tmp-\(getpid())"
        guard let f = fopen(tmp, "w") else { throw IOError(message: "\(path): \(String(cString: strerror(errno)))") }
        var ok = true
        var chunk = ""
        produce { line in
            chunk += line
            chunk += "\n"
            if chunk.utf8.count >= 1 << 16 {
                ok = ok && chunk.withUTF8 { fwrite($0.baseAddress, 1, $0.count, f) == $0.count }
                chunk = ""
            }
        }
        ok = ok && chunk.withUTF8 { $0.count == 0 || fwrite($0.baseAddress, 1, $0.count, f) == $0.count }
        let closed = fflush(f) == 0 && fsync(fileno(f)) == 0
        fclose(f)
        guard ok && closed, rename(tmp, path) == 0 else {
            unlink(tmp)
            throw IOError(message: "\(path): \(String(cString: strerror(errno)))")
        }
    }
}

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

/// The kernel's log as /dev/kmsg holds it (dom0 only; needs root).
enum KernelMessages {
    /// Every record currently in the ring, one line each (message text only).
    static func readAll() throws -> String {
        let fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK)
        guard fd >= 0 else { throw IOError(message: String(cString: strerror(errno))) }
        defer { close(fd) }
        var out = ""
        var buf = [UInt8](repeating: 0, count: 8192)
        while true {
            let n = read(fd, &buf, buf.count)
            if n < 0 { if errno == EPIPE { continue }; break }
            if n == 0 { break }
            let rec = String(decoding: buf[0..<n], as: UTF8.self)
            if let semi = rec.firstIndex(of: ";") { out += rec[rec.index(after: semi)...] }
        }
        return out
    }
}

/// A failure while running a command (not a usage error): one line, no usage text after it.
struct CLIError: Error, CustomStringConvertible {
    /// The line printed after `Error: `.
    let description: String
    /// Wraps a message.
    init(_ message: String) { description = message }
}
