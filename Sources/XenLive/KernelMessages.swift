#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The kernel's log as /dev/kmsg holds it (dom0 only; needs root).
public enum KernelMessages {
    /// The device.
    public static let path = "/dev/kmsg"

    /// Why the log could not be read: the `errno` of opening the device.
    public struct OpenError: Error, Sendable, Equatable, CustomStringConvertible {
        /// The `errno` value.
        public var errno: Int32
        /// `/dev/kmsg: <what the C library says>`.
        public var description: String { "\(KernelMessages.path): \(String(cString: strerror(errno)))" }
    }

    /// Every record currently in the ring, one line each (message text only), up to `limit`
    /// bytes: a kernel logging faster than it is read cannot keep this going.
    public static func readAll(limit: Int) throws(OpenError) -> String {
        let fd = open(path, O_RDONLY | O_NONBLOCK)
        guard fd >= 0 else { throw OpenError(errno: errno) }
        defer { close(fd) }
        var out = ""
        var buf = [UInt8](repeating: 0, count: 8192)
        while out.utf8.count < limit {
            let n = read(fd, &buf, buf.count)
            if n < 0 { if errno == EPIPE { continue }; break }
            if n == 0 { break }
            out += messageText(ofRecord: buf[0..<n])
        }
        return out
    }

    /// The message text of one /dev/kmsg record (`<level>,<seq>,<usec>,<flags>;<text>\n`, then
    /// continuation lines): what follows the first `;`, nothing when there is none.
    public static func messageText(ofRecord record: ArraySlice<UInt8>) -> Substring {
        let text = String(decoding: record, as: UTF8.self)
        guard let semi = text.firstIndex(of: ";") else { return "" }
        return text[text.index(after: semi)...]
    }
}
