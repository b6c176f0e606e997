import Foundation
import Testing
import XenMemory

@testable import Swiotlb

/// One golden vector made by the kernel's own allocator (Scripts/kernel-vectors): a trace, the
/// kernel's standard output and messages, its exit status and replay options.
struct KernelVector: CustomStringConvertible {
    let kernel: SwiotlbKernel
    let name: String
    let status: Int32
    let countsBytes: Bool
    /// `--grow-memory` and `--grow-limit` (6.18's dynamic pools), when given.
    let growth: (memory: Range<UInt64>, limit: UInt64)?

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
            let options = (meta["options"] ?? "").split(separator: ",").map(String.init)
            return KernelVector(
                kernel: kernel, name: String(name), status: Int32(meta["status"] ?? "") ?? -1,
                countsBytes: options.contains("--count-bytes"), growth: growth(options))
        }
    }

    /// The memory and limit of `--grow-memory 0x<S>-0x<E> [--grow-limit 0x<L>]` (limit default
    /// 0xffffffff, as the harness's and xenpv's).
    static func growth(_ options: [String]) -> (memory: Range<UInt64>, limit: UInt64)? {
        func value(after flag: String) -> String? {
            options.firstIndex(of: flag).flatMap { $0 + 1 < options.count ? options[$0 + 1] : nil }
        }
        func hex(_ s: Substring) -> UInt64? { s.hasPrefix("0x") ? UInt64(s.dropFirst(2), radix: 16) : nil }
        guard let range = value(after: "--grow-memory")?.split(separator: "-"), range.count == 2,
            let start = hex(range[0]), let end = hex(range[1]), start < end
        else { return nil }
        return (start..<end, value(after: "--grow-limit").flatMap { hex(Substring($0)) } ?? 0xffff_ffff)
    }

    func text(_ ext: String) throws -> String {
        try String(contentsOf: Self.folder(kernel).appendingPathComponent("\(name).\(ext)"), encoding: .utf8)
    }

    /// What the library gives for the trace: stdout lines, exit status, the kernel's messages as
    /// `<device or dev>: <text>` (the harness names an unnamed device `dev`), and the stop line.
    func replay() throws -> (lines: [String], status: Int32, messages: [String], stop: String?) {
        var r = TraceReplayer(kernel: kernel)
        if let growth { try r.growPools(from: Range(raw: growth.memory), limit: PhysicalAddress(growth.limit)) }
        var out = ReplayOutput()
        var messages: [String] = []
        let file = "\(name).trace"
        var lineNumber = 0
        for line in try text("trace").split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            do throws(TraceError) {
                try TraceLine.withBytes(of: line) { b throws(TraceError) in try r.feed(bytes: b, line: lineNumber, into: &out) }
            } catch {
                messages += r.takeMessages().map(Self.harnessForm)
                return (out.lines, error.exitStatus, messages, error.report(file: file))
            }
            messages += r.takeMessages().map(Self.harnessForm)
        }
        var lines = out.lines + (try r.finish())
        if countsBytes { lines.append("bounced bytes=\(r.bytesBounced)") }
        return (lines, 0, messages, nil)
    }

    /// A message as the harness prints it after its level: a `pr_*` line (swiotlb.c's `pr_fmt`,
    /// `software IO TLB: `) as it is, a `dev_*` line after the device's name (`dev` unnamed).
    static func harnessForm(_ m: KernelMessage) -> String {
        m.device == nil && m.text.hasPrefix("software IO TLB: ") ? m.text : "\(m.device ?? "dev"): \(m.text)"
    }
}

@Suite("golden vectors from the unmodified 6.1.192, 5.11 and 6.18.2 allocators: whole output identical")
struct KernelVectorTests {
    @Test("the three sets are there: 69 vectors of 6.1.192, 40 of 5.11, 103 of 6.18.2 (14 with dynamic pools)")
    func counts() {
        #expect(KernelVector.all(.v6_1).count == 69)
        #expect(KernelVector.all(.v5_11).count == 40)
        #expect(KernelVector.all(.v6_18).count == 103)
        #expect(KernelVector.all(.v6_18).filter { $0.growth != nil }.count == 14)
    }

    @Test(
        "stdout, exit status, warnings and the hang line as the kernel's harness gives them",
        arguments: KernelVector.all(.v6_1) + KernelVector.all(.v5_11) + KernelVector.all(.v6_18))
    func vector(_ v: KernelVector) throws {
        let got = try v.replay()
        let want = try v.text("out").split(separator: "\n").map(String.init)
        #expect(got.lines == want)
        #expect(got.status == v.status)
        let msg = try v.text("msg").split(separator: "\n")
        // warn: lines (pr_warn, dev_warn) and WARNING: lines (6.18's dev_WARN_ONCE), in order.
        let warnings = msg.compactMap { l in
            l.hasPrefix("warn: ") ? String(l.dropFirst(6)) : l.hasPrefix("WARNING: ") ? String(l.dropFirst(9)) : nil
        }
        #expect(got.messages == warnings)
        // The harness's last stderr line for a hang is the replay's stop line.
        #expect(got.stop == (v.status == 3 ? msg.last.map(String.init) : nil))
    }
}
