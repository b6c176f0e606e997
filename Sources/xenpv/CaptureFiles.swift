import XenModel

#if canImport(Glibc)
    import Glibc
#endif

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
