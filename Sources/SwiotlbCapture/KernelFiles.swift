#if os(Linux)
    import Glibc

    /// Bounded reads and checked writes of the kernel's pseudo-files (tracefs, procfs, sysfs,
    /// debugfs) for a capture.
    enum KernelFiles {
        /// The whole file at `path`, at most `limit` bytes (more is an error); nil if it cannot be
        /// opened, with `errno` set.
        static func read(_ path: String, limit: Int) throws(CaptureError) -> [UInt8]? {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return nil }
            defer { close(fd) }
            var out: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                if n < 0 { if errno == EINTR { continue }; throw CaptureError("cannot read \(path): \(String(cString: strerror(errno)))") }
                if n == 0 { return out }
                guard out.count + n <= limit else { throw CaptureError("\(path) is larger than \(limit >> 10) KiB") }
                out += chunk[0..<n]
            }
        }

        /// The file's text (lossy UTF-8), or nil if it cannot be opened.
        static func text(_ path: String, limit: Int = 1 << 20) throws(CaptureError) -> String? {
            try read(path, limit: limit).map { String(decoding: $0, as: UTF8.self) }
        }

        /// Writes `text` with one `write` (tracefs takes a command per write); `append` opens with
        /// `O_APPEND` (kprobe_events: adds, not replaces). The error names the file and the
        /// kernel's reason.
        static func write(_ path: String, _ text: String, append: Bool = false) throws(CaptureError) {
            let fd = open(path, O_WRONLY | O_CLOEXEC | (append ? O_APPEND : O_TRUNC))
            guard fd >= 0 else { throw CaptureError("cannot open \(path) for writing: \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            let bytes = Array(text.utf8)
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            guard n == bytes.count else {
                let e = errno
                throw CaptureError("the kernel refused '\(text.prefix(160))' in \(path): \(n < 0 ? String(cString: strerror(e)) : "short write")")
            }
        }

        /// Whether `path` exists.
        static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }
    }
#endif
