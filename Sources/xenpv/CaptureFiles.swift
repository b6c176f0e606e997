#if canImport(Glibc)
import Glibc
#endif

/// What a file of a real capture holds, recognised by its exact name (the layout of
/// shared/fixtures/real-xen-default); any other name is not part of a capture.
enum CaptureFileKind: Hashable, CaseIterable {
    /// Dom0's P2M: `dom0-p2m.txt` (the `pfn raw_entry` list) or `dump-p2m.txt` (xen-mfndump).
    case p2m
    /// The host's M2P: `dump-m2p.txt`.
    case m2p
    /// The serial console: `serial.log` (its `(XEN)` lines are Xen's log).
    case serialLog
    /// Xen's console ring: `xl-dmesg.txt` (used when there is no serial.log).
    case xlDmesg
    /// Dom0's kernel log: `dom0-dmesg.txt`.
    case kernelLog
    /// The swiotlb debugfs values before the run: `swiotlb-debugfs.txt`.
    case debugfsBefore
    /// The swiotlb debugfs values after the run (preferred): `swiotlb-debugfs-after.txt`.
    case debugfsAfter

    /// The names of each kind; dumps may also end in `.gz` or `.xz`.
    var names: [String] {
        switch self {
        case .p2m: return ["dom0-p2m.txt", "dump-p2m.txt"]
        case .m2p: return ["dump-m2p.txt"]
        case .serialLog: return ["serial.log"]
        case .xlDmesg: return ["xl-dmesg.txt"]
        case .kernelLog: return ["dom0-dmesg.txt"]
        case .debugfsBefore: return ["swiotlb-debugfs.txt"]
        case .debugfsAfter: return ["swiotlb-debugfs-after.txt"]
        }
    }

    /// Whether the file may be compressed (the dumps).
    var isDump: Bool { self == .p2m || self == .m2p }

    /// The kind of the file called `name` (its last path component), or nil.
    static func of(_ name: String) -> CaptureFileKind? {
        allCases.first { kind in
            kind.names.contains { base in name == base || kind.isDump && (name == base + ".xz" || name == base + ".gz") }
        }
    }

    /// Every recognised name, for messages: `dom0-p2m.txt[.xz|.gz] or dump-p2m.txt[.xz|.gz], …`.
    static var expected: String {
        allCases.map { kind in kind.names.map { $0 + (kind.isDump ? "[.xz|.gz]" : "") }.joined(separator: " or ") }.joined(separator: ", ")
    }
}

/// The capture files of the paths given to `compare-real`: folders are searched for the
/// recognised names (other files are ignored), files given one by one must have one.
struct CaptureFiles {
    /// The file of each kind found.
    private(set) var files: [CaptureFileKind: String] = [:]

    /// Collects the files of `paths`; a missing path, an unrecognised file name, or two files
    /// of one kind (e.g. dom0-p2m.txt and dom0-p2m.txt.xz) is an error naming them.
    init(_ paths: [String]) throws {
        for path in paths {
            var status = stat()
            guard stat(path, &status) == 0 else { throw CLIError("\(path): \(String(cString: strerror(errno)))") }
            if status.st_mode & S_IFMT == S_IFDIR {
                var recognised = false
                let folder = path.hasSuffix("/") && path.count > 1 ? String(path.dropLast()) : path
                try Directory.forEachName(path) { name in
                    guard let kind = CaptureFileKind.of(name) else { return }
                    recognised = true
                    try add(kind, folder + "/" + name)
                }
                if !recognised {
                    throw CLIError("\(path): no capture files in this folder (expected \(CaptureFileKind.expected))")
                }
            } else {
                let name = path.split(separator: "/").last.map(String.init) ?? path
                guard let kind = CaptureFileKind.of(name) else {
                    throw CLIError("\(path): not a capture file name (expected \(CaptureFileKind.expected))")
                }
                try add(kind, path)
            }
        }
    }

    private mutating func add(_ kind: CaptureFileKind, _ path: String) throws {
        if let other = files[kind], other != path {
            throw CLIError("\(path): \(other) holds the same (\(kind.names.joined(separator: " or "))): keep one")
        }
        files[kind] = path
    }

    /// The file of `kind`, if found.
    subscript(kind: CaptureFileKind) -> String? { files[kind] }
}

/// Directory listing.
enum Directory {
    /// Calls `body` with the name of each entry of the folder `path` (not `.` and `..`),
    /// without holding the listing; a folder that cannot be opened is an error naming it.
    static func forEachName(_ path: String, _ body: (String) throws -> Void) throws {
        guard let d = opendir(path) else { throw CLIError("\(path): \(String(cString: strerror(errno)))") }
        defer { closedir(d) }
        while let e = readdir(d) {
            let name = withUnsafePointer(to: e.pointee.d_name) { $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) } }
            if name != "." && name != ".." { try body(name) }
        }
    }
}
