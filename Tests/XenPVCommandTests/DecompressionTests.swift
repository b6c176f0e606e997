import Foundation
import Testing
import XenPVTestSupport

@testable import xenpv

@Suite("decompression")
struct DecompressionTests {
    /// 200,000 lines that xz does not shrink to nothing.
    static let text: [UInt8] = Array((0..<200_000).map { "\($0) \(($0 &* 2_654_435_761) % 1_000_003)\n" }.joined().utf8)

    @Test("a truncated xz file fails with what xz said, after the lines it gave")
    func truncatedXZ() throws {
        let folder = try TestFolder("xz")
        defer { folder.remove() }
        let plain = try folder.write("dump.txt", Self.text)
        #expect(try TestFolder.run("/usr/bin/xz", ["-k", plain]) == 0)
        let whole = try [UInt8](Data(contentsOf: URL(fileURLWithPath: plain + ".xz")))
        let cut = try folder.write("cut.xz", Array(whole.prefix(whole.count / 2)))
        let reader = try LineReader(path: cut, decompress: true)
        var lines = 0
        while reader.nextBytes() != nil { lines += 1 }
        #expect(lines > 0 && lines < 200_000)
        #expect(reader.failure?.description == "\(cut): decompression failed: xz: (stdin): Unexpected end of input")
        // The whole file reads to the end with no failure.
        let full = try LineReader(path: plain + ".xz", decompress: true)
        lines = 0
        while full.nextBytes() != nil { lines += 1 }
        #expect(lines == 200_000)
        #expect(full.failure == nil)
    }

    @Test("gzip magic and garbage says the decompression failed, not 'empty file'")
    func garbageGzip() throws {
        let folder = try TestFolder("gzip")
        defer { folder.remove() }
        let bad = try folder.write("dump.gz", [0x1f, 0x8b] + Array("garbage, not a deflate stream\n".utf8))
        #expect(errorMessage { try DumpFile.read(bad) } == "\(bad): decompression failed: gzip: stdin: unknown method 103 -- not supported")
    }

    @Test("a path with quotes, spaces, \\$() and a leading dash goes to gzip as a file, not through a shell")
    func oddPath() throws {
        let folder = try TestFolder("gzip")
        defer { folder.remove() }
        let odd = folder.file("-n it's $(touch pwned) `x`; \"q\".txt")
        try Data("first\nsecond\n".utf8).write(to: URL(fileURLWithPath: odd))
        #expect(try TestFolder.run("/bin/gzip", ["--", odd]) == 0)
        let reader = try LineReader(path: odd + ".gz", decompress: true)
        #expect(reader.next() == "first")
        #expect(reader.next() == "second")
        #expect(reader.next() == nil)
        #expect(reader.failure == nil)
        #expect(try folder.names() == ["-n it's $(touch pwned) `x`; \"q\".txt.gz"])
    }
}
