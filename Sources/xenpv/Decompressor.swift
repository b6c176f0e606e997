#if canImport(Glibc)
    import Glibc
#endif

/// `gzip -dc` or `xz -dc` run on an opened compressed file: its standard input is the file, its
/// output is read through a pipe, and what it says on standard error is kept (the first 4 KiB)
/// for the error when it fails. No shell is involved, so any path is safe.
final class Decompressor {
    /// The tool's name: `gzip` or `xz`.
    let tool: String
    /// The pipe carrying the decompressed bytes.
    let output: Int32
    private var errors: Int32
    private let pid: pid_t
    private var said: [UInt8] = []
    private var status: Int32?

    /// The tool for a file starting with gzip's or xz's magic bytes, else nil. Only regular files
    /// are sniffed (their first bytes are read with `pread`, leaving the offset at 0).
    static func tool(for fd: Int32) -> String? {
        guard InputFile.isRegular(fd) else { return nil }
        var magic = [UInt8](repeating: 0, count: 6)
        let n = magic.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 6, 0) }
        if n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b { return "gzip" }
        if n == 6 && magic == [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] { return "xz" }
        return nil
    }

    /// Starts `tool -dc` with `input` as its standard input.
    init(tool: String, input: Int32) throws(IOError) {
        self.tool = tool
        var out: [Int32] = [0, 0], err: [Int32] = [0, 0]
        guard pipe(&out) == 0 else { throw IOError(tool, errno: errno) }
        guard pipe(&err) == 0 else {
            let code = errno
            close(out[0]); close(out[1])
            throw IOError(tool, errno: code)
        }
        // Only the tool's copies (made by dup2 below) cross into it; these close at exec.
        for fd in out + err { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input, 0)
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        posix_spawn_file_actions_adddup2(&actions, err[1], 2)
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(tool), strdup("-dc"), nil]
        defer { for a in argv { free(a) } }
        var child: pid_t = 0
        let rc = posix_spawnp(&child, tool, &actions, nil, argv, environ)
        close(out[1]); close(err[1])
        guard rc == 0 else {
            close(out[0]); close(err[0])
            throw IOError(tool, "cannot run it to decompress: \(IOError.reason(rc))")
        }
        pid = child
        output = out[0]
        errors = err[0]
        _ = fcntl(errors, F_SETFL, fcntl(errors, F_GETFL) | O_NONBLOCK)
    }

    deinit {
        // When the reading stopped early, closing the pipe ends the tool (SIGPIPE or EPIPE).
        close(output)
        _ = waitForExit()
        if errors >= 0 { close(errors) }
    }

    /// Reads decompressed bytes, keeping what the tool says on standard error meanwhile (so it
    /// never blocks on a full error pipe): the count, 0 at the end, or -1 with `errno` set.
    func read(_ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
        while errors >= 0 {
            var fds = [
                pollfd(fd: output, events: Int16(POLLIN), revents: 0),
                pollfd(fd: errors, events: Int16(POLLIN), revents: 0),
            ]
            if poll(&fds, 2, -1) < 0 {
                if errno == EINTR { continue }
                return -1
            }
            if fds[1].revents != 0 { drainErrors() }
            if fds[0].revents != 0 { break }
        }
        return InputFile.read(output, buffer, count)
    }

    /// Waits for the tool after its output ended: nil when it succeeded, else the reason in one
    /// line — its first line on standard error, or its exit status.
    func finish() -> String? {
        let code = waitForExit()
        let firstLine = said.split(separator: 0x0a).first { !$0.allSatisfy { $0 == 0x20 || $0 == 0x0d } }
        let words = firstLine.map { String(decoding: $0.prefix(200), as: UTF8.self) }
        if code == 0 { return nil }
        if code > 0 { return words ?? "\(tool) exited with status \(code)" }
        return "\(tool) was killed by signal \(-code)"
    }

    /// The tool's exit status, or minus the signal that ended it.
    private func waitForExit() -> Int32 {
        if let status { return status }
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        drainErrors()
        let low = raw & 0x7f
        let code = low == 0 ? (raw >> 8) & 0xff : -low
        status = code
        return code
    }

    /// Reads what is waiting on the error pipe, keeping the first 4 KiB.
    private func drainErrors() {
        guard errors >= 0 else { return }
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { InputFile.read(errors, $0.baseAddress!, $0.count) }
            if n > 0 {
                if said.count < 4096 { said += chunk[0..<min(n, 4096 - said.count)] }
                continue
            }
            if n == 0 || errno != EAGAIN {
                close(errors)
                errors = -1
            }
            return
        }
    }
}
