import XenMemory

#if canImport(Glibc)
    import Glibc
#endif

/// Reads the few bytes of a kernel image file Xen sizes dom0's boot module from (``BzImage``):
/// the setup header, and the payload's first two and last four bytes, never the whole file.
enum KernelImageFile {
    /// The names a capture folder may hold dom0's kernel image under.
    static let names = ["vmlinuz", "bzImage"]

    /// The image at `path`. Anything but a regular file holding an ELF kernel or a bzImage of
    /// boot protocol 2.08 or later is an error naming the file.
    static func read(_ path: String) throws -> BzImage {
        let fd = try InputFile.open(path)
        defer { if fd != 0 { close(fd) } }
        var status = stat()
        guard fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { throw CLIError("\(path): not a regular file (give dom0's kernel image)") }
        let size = UInt64(status.st_size)
        do {
            let header = try bytes(fd, path, at: 0, count: min(BzImage.headerBytes, Int(min(size, UInt64(BzImage.headerBytes)))))
            switch try BzImage.layout(header: header, fileBytes: size) {
            case .elf:
                return BzImage(elfBytes: size)
            case .bzImage(let payload):
                return try BzImage(
                    fileBytes: size, payload: payload,
                    payloadHead: try bytes(fd, path, at: payload.lowerBound, count: 2),
                    payloadTail: try bytes(fd, path, at: payload.upperBound - 4, count: 4))
            }
        } catch let error as BzImageError {
            throw CLIError("\(path): \(error)")
        }
    }

    /// `count` bytes at `offset` (fewer only at the file's end).
    private static func bytes(_ fd: Int32, _ path: String, at offset: UInt64, count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset) + off_t(done)) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw IOError(path, errno: errno) }
            if n == 0 { break }
            done += n
        }
        return Array(out[..<done])
    }
}
