import ArgumentParser
import XenDumps
import XenMemory
import XenModel

#if canImport(Glibc)
    import Glibc
#endif

/// `xenpv compare-real <scenario> <capture>...`.
struct CompareRealCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare-real",
        abstract: "Set a model run against a real capture: P2M entries and runs, swiotlb segments, M2P, log lines.",
        discussion: """
            The capture is a folder (as shared/fixtures/real-xen-default) or its files given one by \
            one. Files are recognised by their exact names: dom0-p2m.txt or dump-p2m.txt (dom0's P2M, \
            also .xz or .gz), dump-m2p.txt (also .xz or .gz), serial.log or xl-dmesg.txt (Xen's log; \
            serial.log when both are there), dom0-dmesg.txt, swiotlb-debugfs-after.txt or \
            swiotlb-debugfs.txt (the one after the run when both are there). Other files in a folder \
            are ignored; a folder with none of these, a missing path, or two files of one kind is an \
            error. The exit status is 0 when the comparison ran, whatever it found.
            """
    )

    @Argument(help: "The scenario of the captured host.", transform: FileArgument.name)
    var scenario: String

    @Argument(help: "The capture folder, or its files.", transform: FileArgument.name)
    var capture: [String]

    @Option(name: .customLong("json"), help: "Also write the agreement as JSON.", transform: FileArgument.name)
    var jsonPath: String?

    func run() throws {
        try OutputFiles.check(OutputTarget.given([("--json", jsonPath)]))
        let s = try ScenarioLoader.load(scenario)
        let found = try CaptureFiles(capture)
        var p2m: P2MDumpContents?, m2p: HostM2P?
        var xenLog: [Substring] = [], kernelLog: [Substring] = []
        var debugfs: [(file: String, value: Int)] = []
        if let f = found[.p2m] {
            guard case .p2m(let p) = try DumpFile.read(f) else { throw CLIError("\(f): a dump-m2p, where its name says dom0's P2M") }
            p2m = p
        }
        if let f = found[.m2p] {
            guard case .m2p(let m) = try DumpFile.read(f) else { throw CLIError("\(f): a P2M dump, where its name says the M2P") }
            m2p = m
        }
        if let f = found[.serialLog] {
            xenLog = try lines(f).filter { $0.hasPrefix("(XEN)") }
        } else if let f = found[.xlDmesg] {
            xenLog = try lines(f)
        }
        if let f = found[.kernelLog] { kernelLog = try lines(f) }
        if let f = found[.debugfsAfter] ?? found[.debugfsBefore] {
            do {
                debugfs = try SwiotlbDebugfs.read(lines: lines(f, limit: .debugfs))
            } catch let error as DumpError {
                throw CLIError("\(f):\(error.line): \(error.message)")
            }
        }
        // The capture is checked whole before the model runs.
        let real: RealCapture
        do { real = try RealCapture(p2m: p2m, m2p: m2p, xenLog: xenLog, kernelLog: kernelLog, debugfs: debugfs) } catch {
            throw CLIError("\(found[.kernelLog] ?? "dom0-dmesg.txt"):\(error.line): \(error.message)")
        }
        let agreements = RealComparison.compare(WorkloadRunner.run(s), real)
        print("# \(s.name) against \(capture.joined(separator: " "))")
        for a in agreements {
            print(a.line)
            for d in a.differences { print("  " + d) }
        }
        for target in OutputTarget.given([("--json", jsonPath)]) {
            try OutputFiles.write([(target, .text(RealComparison.json(scenario: s.name, agreements).rendered() + "\n"))])
        }
    }

    /// The lines of a capture's text file (a failed read names the file).
    private func lines(_ path: String, limit: InputLimit = .log) throws -> [Substring] {
        try TextFile.read(path, limit: limit).split(omittingEmptySubsequences: false, whereSeparator: { $0.isNewline })
    }
}
