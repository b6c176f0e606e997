#if canImport(Glibc)
    import Glibc
#endif

/// `shared/fixtures/real-xen-default`, which sits beside the repository (as in CI).
public let realXenDefaultFixture: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)  // Tests/Support/Fixtures.swift
    return parts.joined(separator: "/") + "/../shared/fixtures/real-xen-default"
}()

/// A real capture committed in Tests/Fixtures/real-captures (made by Scripts/capture-host-folder,
/// trimmed to what from-capture and compare-real read, without the M2P): `default-1`, `bigmem-1`.
public func realCaptureFixture(_ name: String) -> String {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(2)  // Support/Fixtures.swift
    return parts.joined(separator: "/") + "/Fixtures/real-captures/" + name
}

/// The lines a shell command prints on standard output (any line ending).
public func commandOutputLines(_ command: String) -> [Substring] {
    guard let p = popen(command, "r") else { return [] }
    defer { pclose(p) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let k = fread(&buf, 1, buf.count, p)
        out += buf[0..<k]
        if k < buf.count { break }
    }
    return String(decoding: out, as: UTF8.self).split(omittingEmptySubsequences: false, whereSeparator: { $0.isNewline }).dropLast().map { $0 }
}

/// Whether a file can be read.
public func isReadable(_ path: String) -> Bool { access(path, R_OK) == 0 }
