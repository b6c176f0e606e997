#if canImport(Glibc)
    import Glibc
#endif

/// Opens files named on the command line for reading, safely whatever they are.
enum InputFile {
    /// A read-only descriptor for `path` (`-` is standard input, not to be closed).
    ///
    /// A FIFO is opened without waiting for a writer: with none, reading it gives the end at
    /// once rather than hanging. A directory is refused here, not read as an empty file.
    static func open(_ path: String) throws(IOError) -> Int32 {
        if path == "-" { return 0 }
        let fd = Glibc.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { throw IOError(path, errno: errno) }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            let code = errno
            close(fd)
            throw IOError(path, errno: code)
        }
        if status.st_mode & S_IFMT == S_IFDIR {
            close(fd)
            throw IOError(path, errno: EISDIR)
        }
        // Reads block again from here on (a FIFO's writer, a terminal), as from standard input.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return fd
    }

    /// Whether `fd` is a regular file (what can be read twice: sized, sniffed with `pread`).
    static func isRegular(_ fd: Int32) -> Bool {
        var status = stat()
        return fstat(fd, &status) == 0 && status.st_mode & S_IFMT == S_IFREG
    }

    /// Reads into `buffer`, retrying EINTR: the count, 0 at the end, or -1 with `errno` set.
    static func read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
        while true {
            let n = Glibc.read(fd, buffer, count)
            if n < 0 && errno == EINTR { continue }
            return n
        }
    }
}
