import Foundation
import Testing

@testable import xenpv

@Suite("line reader")
struct LineReaderTests {
    /// Every line of `text` as the reader hands it out.
    func lines(of text: [UInt8]) throws -> [[UInt8]] {
        let path = NSTemporaryDirectory() + "xenpv-line-reader-\(UUID().uuidString).txt"
        try Data(text).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let reader = try LineReader(path: path)
        var out: [[UInt8]] = []
        while let l = reader.nextBytes() { out.append(Array(l)) }
        return out
    }

    @Test("a gzip file comes through the gzip pipe line for line")
    func gzipPipe() throws {
        let expected: [[UInt8]] = (0..<50_000).map { Array("line \($0) of a compressed dump".utf8) }
        let path = NSTemporaryDirectory() + "xenpv-line-reader-\(UUID().uuidString).txt"
        try Data(expected.flatMap { line -> [UInt8] in line + [0x0a] }).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path + ".gz") }
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = [path]
        try gzip.run()
        gzip.waitUntilExit()
        #expect(gzip.terminationStatus == 0)
        let reader = try LineReader(path: path + ".gz", decompress: true)
        var out: [[UInt8]] = []
        while let l = reader.nextBytes() { out.append(Array(l)) }
        #expect(out == expected)
    }

    @Test("a directory is refused at open; a failed read ends the lines and is kept")
    func errors() throws {
        do {
            _ = try LineReader(path: NSTemporaryDirectory())
            Issue.record("a directory opened as a line file")
        } catch {
            #expect("\(error)" == "\(NSTemporaryDirectory()): Is a directory")
        }
        // Reading /proc/self/mem at offset 0 fails with EIO (nothing is mapped there).
        let reader = try LineReader(path: "/proc/self/mem")
        #expect(reader.nextBytes() == nil)
        #expect(reader.failure?.description == "/proc/self/mem: Input/output error")
    }

    @Test("CRLF and LF endings, blank lines, NUL bytes, no newline at the end")
    func endings() throws {
        let text = Array("a\r\n\nb\0c\r\n\r\nlast\r".utf8)
        #expect(try lines(of: text) == [Array("a".utf8), [], Array("b\0c".utf8), [], Array("last".utf8)])
        #expect(try lines(of: []) == [])
        #expect(try lines(of: [0x0a]) == [[]])
    }

    @Test("lines across the 256 KiB read boundary and a line four times longer than it")
    func longLines() throws {
        // Lines of 1..1000 bytes, then one of 1 MiB, then short ones again.
        var expected: [[UInt8]] = []
        for n in 1...1000 { expected.append(Array(repeating: UInt8(0x61 + n % 26), count: n)) }
        expected.append(Array(repeating: 0x7a, count: 1 << 20))
        for n in 1...100 { expected.append(Array(repeating: 0x62, count: n)) }
        let text: [UInt8] = expected.flatMap { line -> [UInt8] in line + [0x0a] }
        #expect(try lines(of: text) == expected)
    }
}
