import Foundation
import Testing

@testable import Swiotlb

/// One golden vector made by the kernel's own allocator (Scripts/kernel-vectors): a trace, the
/// kernel's standard output and messages, its exit status and replay options.
struct KernelVector: CustomStringConvertible {
    let kernel: SwiotlbKernel
    let name: String
    let status: Int32
    let countsBytes: Bool

    var description: String { "\(kernel.rawValue)/\(name)" }

    /// `Tests/SwiotlbTests/Vectors/<kernel>`.
    static func folder(_ kernel: SwiotlbKernel) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors/\(kernel.rawValue)")
    }

    /// The vectors listed in the kernel's `index.txt`.
    static func all(_ kernel: SwiotlbKernel) -> [KernelVector] {
        guard let index = try? String(contentsOf: folder(kernel).appendingPathComponent("index.txt"), encoding: .utf8) else { return [] }
        return index.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard let name = fields.first else { return nil }
            var meta: [Substring: Substring] = [:]
            for f in fields.dropFirst() {
                if let eq = f.firstIndex(of: "=") { meta[f[..<eq]] = f[f.index(after: eq)...] }
            }
            return KernelVector(
                kernel: kernel, name: String(name), status: Int32(meta["status"] ?? "") ?? -1,
                countsBytes: meta["options"] == "--count-bytes")
        }
    }

    func text(_ ext: String) throws -> String {
        try String(contentsOf: Self.folder(kernel).appendingPathComponent("\(name).\(ext)"), encoding: .utf8)
    }

    /// What the library gives for the trace: stdout lines, exit status, the kernel's messages as
    /// `<device or dev>: <text>` (the harness names an unnamed device `dev`), and the stop line.
    func replay() throws -> (lines: [String], status: Int32, messages: [String], stop: String?) {
        var r = TraceReplayer(kernel: kernel)
        var out = ReplayOutput()
        var messages: [String] = []
        let file = "\(name).trace"
        var lineNumber = 0
        for line in try text("trace").split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            do throws(TraceError) {
                try TraceLine.withBytes(of: line) { b throws(TraceError) in try r.feed(bytes: b, line: lineNumber, into: &out) }
            } catch {
                messages += r.takeMessages().map { "\($0.device ?? "dev"): \($0.text)" }
                return (out.lines, error.exitStatus, messages, error.report(file: file))
            }
            messages += r.takeMessages().map { "\($0.device ?? "dev"): \($0.text)" }
        }
        var lines = out.lines + (try r.finish())
        if countsBytes { lines.append("bounced bytes=\(r.bytesBounced)") }
        return (lines, 0, messages, nil)
    }
}

@Suite("golden vectors from the unmodified 6.1.192 and 5.11 allocators: whole output identical")
struct KernelVectorTests {
    @Test("both sets are there: 69 vectors of 6.1.192, 40 of 5.11")
    func counts() {
        #expect(KernelVector.all(.v6_1).count == 69)
        #expect(KernelVector.all(.v5_11).count == 40)
    }

    @Test(
        "stdout, exit status, warnings and the hang line as the kernel's harness gives them",
        arguments: KernelVector.all(.v6_1) + KernelVector.all(.v5_11))
    func vector(_ v: KernelVector) throws {
        let got = try v.replay()
        let want = try v.text("out").split(separator: "\n").map(String.init)
        #expect(got.lines == want)
        #expect(got.status == v.status)
        let msg = try v.text("msg").split(separator: "\n")
        let warnings = msg.filter { $0.hasPrefix("warn: ") }.map { String($0.dropFirst(6)) }
        #expect(got.messages == warnings)
        // The harness's last stderr line for a hang is the replay's stop line.
        #expect(got.stop == (v.status == 3 ? msg.last.map(String.init) : nil))
    }
}
