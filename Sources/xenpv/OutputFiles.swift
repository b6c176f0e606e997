import XenMemory

#if canImport(Glibc)
    import Glibc
#endif

/// An output file a command was asked to write: the option that named it and its path.
struct OutputTarget {
    /// The option, as typed: `--json`.
    let option: String
    /// The path given with it.
    let path: String

    /// The targets of the options that were given, in order.
    static func given(_ options: [(String, String?)]) -> [OutputTarget] {
        options.compactMap { option, path in path.map { OutputTarget(option: option, path: $0) } }
    }
}

/// What goes into an output file.
enum OutputContent {
    /// A whole text.
    case text(String)
    /// Lines made one by one (a newline is added after each), for outputs too large to build first.
    case lines(((String) -> Void) -> Void)
}

/// Writes a command's output files all or none (docs/reliability.md, "How outputs are written").
///
/// Every target is checked before anything is written: its folder exists and is writable, the
/// target is absent or a regular file (never a symbolic link, which is not written through, nor
/// a device, FIFO, socket or folder), and no two options name the same file. Each output is then
/// written to a new temporary file in the target's folder (an unpredictable name, created with
/// `O_CREAT|O_EXCL|O_NOFOLLOW`, mode 0666 less the umask, or the replaced file's permissions),
/// flushed with `fsync`; only when all are written is each renamed over its target. A failure
/// removes every temporary; so does SIGINT, SIGTERM or SIGHUP (``TemporaryFiles``).
enum OutputFiles {
    /// Refuses the first target that cannot be written, in one line naming its option and path.
    static func check(_ targets: [OutputTarget]) throws(CLIError) {
        var seen: [(key: FileKey, option: String)] = []
        for t in targets {
            let key = try checkOne(t)
            if let earlier = seen.first(where: { $0.key == key }) {
                throw CLIError("\(earlier.option) and \(t.option) name the same file: \(t.path)")
            }
            seen.append((key, t.option))
        }
    }

    /// Checks every target, then writes them all or none.
    static func write(_ outputs: [(OutputTarget, OutputContent)]) throws(CLIError) {
        try check(outputs.map(\.0))
        var pending: [String] = []
        do throws(CLIError) {
            for (target, content) in outputs {
                let tmp = try createTemporary(for: target)
                pending.append(tmp.path)
                try fill(tmp.fd, with: content, target: target)
            }
            for (target, _) in outputs {
                // Checked again: nothing may have put a link or a device there meanwhile.
                _ = try checkOne(target)
                guard rename(pending[0], target.path) == 0 else { throw CLIError(target, errno: errno) }
                TemporaryFiles.forget(pending.removeFirst())
                syncFolder(of: target.path)
            }
        } catch {
            for t in pending { TemporaryFiles.remove(t) }
            throw error
        }
    }

    /// Where a file is: its folder's device and inode and its name there.
    private struct FileKey: Equatable {
        let device: UInt, inode: UInt, name: String
    }

    /// Checks one target: its key when it can be written.
    private static func checkOne(_ t: OutputTarget) throws(CLIError) -> FileKey {
        let (folder, name) = split(t.path)
        guard !name.isEmpty, name != ".", name != ".." else { throw CLIError(t, "names a folder, not a file") }
        var status = stat()
        if lstat(t.path, &status) == 0 {
            let kind = status.st_mode & S_IFMT
            if kind == S_IFLNK { throw CLIError(t, "a symbolic link: xenpv does not write through links (give the path it points to)") }
            if kind != S_IFREG { throw CLIError(t, "not a regular file (\(kindName(kind))): xenpv only replaces regular files") }
        } else if errno != ENOENT {
            throw CLIError(t, errno: errno)
        }
        var folderStatus = stat()
        guard stat(folder, &folderStatus) == 0 else {
            throw CLIError(t, errno == ENOENT ? "folder '\(folder)' does not exist" : "folder '\(folder)': \(IOError.reason(errno))")
        }
        guard folderStatus.st_mode & S_IFMT == S_IFDIR else { throw CLIError(t, "'\(folder)' is not a folder") }
        guard access(folder, W_OK | X_OK) == 0 else { throw CLIError(t, "folder '\(folder)' is not writable: \(IOError.reason(errno))") }
        return FileKey(device: UInt(folderStatus.st_dev), inode: UInt(folderStatus.st_ino), name: name)
    }

    /// The folder (`.` for a bare name) and the last component of `path`.
    private static func split(_ path: String) -> (folder: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let folder = String(path[..<slash])
        return (folder.isEmpty ? "/" : folder, String(path[path.index(after: slash)...]))
    }

    /// A file type's name.
    private static func kindName(_ kind: mode_t) -> String {
        switch kind {
        case S_IFDIR: "a folder"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFIFO: "a FIFO"
        case S_IFSOCK: "a socket"
        default: "type \(kind >> 12)"
        }
    }

    /// A new temporary file beside the target, registered for removal on a signal.
    private static func createTemporary(for t: OutputTarget) throws(CLIError) -> (path: String, fd: Int32) {
        let (folder, name) = split(t.path)
        var existing = stat()
        let replaces = lstat(t.path, &existing) == 0
        for _ in 0..<8 {
            var random = SystemRandomNumberGenerator()
            let tag = Hex.digits(random.next() as UInt64)
            // Short enough for any file system: the name's first 100 bytes at most.
            let path = folder + "/." + String(decoding: name.utf8.prefix(100), as: UTF8.self) + ".xenpv-" + tag
            let fd = TemporaryFiles.create(path, flags: O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC)
            if fd < 0 && errno == EEXIST { continue }
            guard fd >= 0 else { throw CLIError(t, errno: errno) }
            // A replaced file keeps its permissions, as with a shell's `>`.
            if replaces { fchmod(fd, existing.st_mode & 0o777) }
            return (path, fd)
        }
        throw CLIError(t, errno: EEXIST)
    }

    /// Writes `content` to `fd`, flushes it to disk and closes it.
    private static func fill(_ fd: Int32, with content: OutputContent, target: OutputTarget) throws(CLIError) {
        var failed: Int32 = 0
        func put(_ text: inout String) {
            guard failed == 0 else { return }
            text.withUTF8 { bytes in
                var off = 0
                while off < bytes.count, let base = bytes.baseAddress {
                    let n = Glibc.write(fd, base + off, bytes.count - off)
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { failed = n < 0 ? errno : EIO; return }
                    off += n
                }
            }
        }
        switch content {
        case .text(var text):
            put(&text)
        case .lines(let produce):
            var chunk = ""
            produce { line in
                chunk += line
                chunk += "\n"
                if chunk.utf8.count >= 1 << 16 { put(&chunk); chunk = "" }
            }
            put(&chunk)
        }
        if failed == 0 && fsync(fd) != 0 { failed = errno }
        if close(fd) != 0 && failed == 0 { failed = errno }
        if failed != 0 { throw CLIError(target, errno: failed) }
    }

    /// Flushes the folder's entry for a renamed file (best effort).
    private static func syncFolder(of path: String) {
        let fd = open(split(path).folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 { fsync(fd); close(fd) }
    }
}

extension CLIError {
    /// `--json <path>: reason`.
    init(_ target: OutputTarget, _ reason: String) {
        self.init("\(target.option) \(target.path): \(reason)")
    }

    /// `--json <path>: <what the C library says about code>`.
    init(_ target: OutputTarget, errno code: Int32) {
        self.init(target, IOError.reason(code))
    }
}
