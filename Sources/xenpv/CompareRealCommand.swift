import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import XenDumps
import XenModel

/// `xenpv compare-real <scenario> <capture>...`.
struct CompareRealCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare-real",
        abstract: "Set a model run against a real capture: P2M entries and runs, swiotlb segments, M2P, log lines.",
        discussion: """
        The capture is a folder (as shared/fixtures/real-xen-default: dom0-p2m.txt.xz or a dump-p2m, \
        dump-m2p.txt.xz, serial.log or xl-dmesg.txt, dom0-dmesg.txt, swiotlb-debugfs-after.txt) or \
        those files given one by one.
        """
    )

    @Argument(help: "The scenario of the captured host.")
    var scenario: String

    @Argument(help: "The capture folder, or its files.")
    var capture: [String]

    @Option(name: .customLong("json"), help: "Also write the agreement as JSON.")
    var jsonPath: String?

    func run() throws {
        try OutputFiles.check(OutputTarget.given([("--json", jsonPath)]))
        let s = try ScenarioLoader.load(scenario)
        var files = capture
        if capture.count == 1, let listing = Directory.list(capture[0]) {
            files = listing.map { capture[0] + "/" + $0 }
        }
        var real = RealCapture(p2m: nil, m2p: nil, xenLog: [], kernelLog: [])
        for f in files.sorted() {
            let name = f.split(separator: "/").last.map(String.init) ?? f
            if name.hasPrefix("dom0-p2m.txt") || name.hasPrefix("dump-p2m") && !name.hasSuffix("-0.txt") || name.hasPrefix("dump-m2p") {
                switch try DumpFile.read(f) {
                case .p2m(let p): real.p2m = p
                case .m2p(let m): real.m2p = m
                }
            } else if name == "serial.log" || name == "xl-dmesg.txt" {
                if real.xenLog.isEmpty || name == "serial.log" {
                    real.xenLog = try TextFile.read(f, limit: .log).split(whereSeparator: { $0.isNewline }).filter { $0.hasPrefix("(XEN)") || name == "xl-dmesg.txt" }
                }
            } else if name == "dom0-dmesg.txt" {
                real.kernelLog = try TextFile.read(f, limit: .log).split(whereSeparator: { $0.isNewline })
            } else if name.hasPrefix("swiotlb-debugfs") && (real.debugfs.isEmpty || name.hasPrefix("swiotlb-debugfs-after")) {
                // The values after the run when both are there.
                do {
                    real.debugfs = try SwiotlbDebugfs.read(lines: TextFile.read(f, limit: .debugfs).split(omittingEmptySubsequences: false, whereSeparator: { $0.isNewline }))
                } catch let error as DumpError {
                    throw CLIError("\(f):\(error.line): \(error.message)")
                }
            }
        }
        let result = WorkloadRunner.run(s)
        let agreements = RealComparison.compare(result, real)
        print("# \(s.name) against \(capture.joined(separator: " "))")
        for a in agreements {
            print(a.line)
            for d in a.differences { print("  " + d) }
        }
        for target in OutputTarget.given([("--json", jsonPath)]) {
            let v = JSONValue.object([("schema", .int(1)), ("scenario", .string(s.name)),
                ("categories", .array(agreements.map { a in
                    .object([("name", .string(a.name)), ("identical", .int(Int64(a.identical))), ("total", .int(Int64(a.total))),
                             ("first_differences", .array(a.differences.map(JSONValue.string)))]) }))])
            try OutputFiles.write([(target, .text(v.rendered() + "\n"))])
        }
    }
}

/// Directory listing.
enum Directory {
    /// The entries of `path`, or nil when it is not a directory.
    static func list(_ path: String) -> [String]? {
        guard let d = opendir(path) else { return nil }
        defer { closedir(d) }
        var out: [String] = []
        while let e = readdir(d) {
            let name = withUnsafePointer(to: e.pointee.d_name) { $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) } }
            if name != "." && name != ".." { out.append(name) }
        }
        return out.sorted()
    }
}
