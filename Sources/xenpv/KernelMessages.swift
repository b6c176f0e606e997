#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The kernel's log as /dev/kmsg holds it (dom0 only; needs root).
enum KernelMessages {
    /// Every record currently in the ring, one line each (message text only), up to the bound of
    /// a log (``InputLimit/log``): a kernel logging faster than it is read cannot keep this going.
    static func readAll() throws -> String {
        let fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK)
        guard fd >= 0 else { throw IOError("/dev/kmsg", errno: errno) }
        defer { close(fd) }
        var out = ""
        var buf = [UInt8](repeating: 0, count: 8192)
        while out.utf8.count < InputLimit.log.bytes {
            let n = read(fd, &buf, buf.count)
            if n < 0 { if errno == EPIPE { continue }; break }
            if n == 0 { break }
            let rec = String(decoding: buf[0..<n], as: UTF8.self)
            if let semi = rec.firstIndex(of: ";") { out += rec[rec.index(after: semi)...] }
        }
        return out
    }
}
