#if canImport(Glibc)
    import Glibc
#endif

/// The temporary files being written, removed if SIGINT, SIGTERM or SIGHUP ends the process.
///
/// The paths are kept as C strings in a fixed table the signal handler reads with no allocation
/// and no locks: it unlinks each, restores the signal's default action and raises it again, so
/// the process still ends as the signal meant. Changes to the table are made with those signals
/// blocked, so the handler never sees one half made. A signal the process ignores (as under
/// `nohup`) stays ignored.
enum TemporaryFiles {
    /// The most temporaries at once (a command writes at most four outputs).
    static let capacity = 16
    /// The signals that remove the temporaries.
    static let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    /// The table: a path per slot, nil where free.
    nonisolated(unsafe) private static let slots: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = {
        let table = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: capacity)
        table.initialize(repeating: nil, count: capacity)
        return table
    }()
    nonisolated(unsafe) private static var installed = false

    /// Creates the file `path` with `open(path, flags, 0o666)` (so the umask applies) and
    /// registers it, with the signals blocked in between: the descriptor, or -1 with `errno` set
    /// (`EMFILE` when the table is full).
    static func create(_ path: String, flags: Int32) -> Int32 {
        installHandlers()
        return withSignalsBlocked {
            guard let slot = (0..<capacity).first(where: { slots[$0] == nil }) else {
                errno = EMFILE
                return -1
            }
            let fd = open(path, flags, 0o666)
            if fd >= 0 { slots[slot] = strdup(path) }
            return fd
        }
    }

    /// Forgets `path` (renamed into place, or about to be removed by the caller).
    static func forget(_ path: String) {
        withSignalsBlocked {
            for i in 0..<capacity {
                if let p = slots[i], strcmp(p, path) == 0 {
                    slots[i] = nil
                    free(p)
                }
            }
        }
    }

    /// Removes `path` and forgets it.
    static func remove(_ path: String) {
        withSignalsBlocked {
            unlink(path)
            forget(path)
        }
    }

    /// The registered paths (for tests).
    static var registered: [String] {
        withSignalsBlocked { (0..<capacity).compactMap { slots[$0].map { String(cString: $0) } } }
    }

    /// Installs the handler once, leaving ignored signals ignored.
    private static func installHandlers() {
        guard !installed else { return }
        installed = true
        _ = slots
        for sig in signals {
            var old = sigaction()
            sigaction(sig, nil, &old)
            if unsafeBitCast(old.__sigaction_handler.sa_handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self) { continue }
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { sig in
                let table = TemporaryFiles.slots
                for i in 0..<TemporaryFiles.capacity {
                    if let p = table[i] { unlink(p) }
                }
                signal(sig, SIG_DFL)
                raise(sig)
            }
            sigemptyset(&action.sa_mask)
            for other in signals { sigaddset(&action.sa_mask, other) }
            sigaction(sig, &action, nil)
        }
    }

    /// Runs `body` with the signals blocked (nested calls are fine).
    private static func withSignalsBlocked<T>(_ body: () -> T) -> T {
        var set = sigset_t(), old = sigset_t()
        sigemptyset(&set)
        for sig in signals { sigaddset(&set, sig) }
        pthread_sigmask(SIG_BLOCK, &set, &old)
        defer { pthread_sigmask(SIG_SETMASK, &old, nil) }
        return body()
    }
}
