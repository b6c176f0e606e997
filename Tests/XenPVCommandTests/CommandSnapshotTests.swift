import Foundation
import Testing
import XenPVTestSupport

/// One run of the built `xenpv` whose whole result is kept in `Snapshots/<name>.txt`.
struct CommandSnapshot: CustomTestStringConvertible, Sendable {
    /// The snapshot's file name, without `.txt`.
    let name: String
    /// The arguments, run from a folder laid out like the repository (`docs/`, `../shared`).
    let arguments: [String]
    /// Files the run writes (in that folder) that belong to the snapshot, such as a JSON report.
    var files: [String] = []

    var testDescription: String { "xenpv " + arguments.joined(separator: " ") }
}

/// The text and JSON reports and each command's output and exit status, compared exactly with
/// golden files in `Tests/XenPVCommandTests/Snapshots`. After a deliberate change of output,
/// regenerate them with `XENPV_UPDATE_SNAPSHOTS=1 swift test --filter CommandSnapshotTests` and
/// review the diff.
@Suite("command output snapshots")
struct CommandSnapshotTests {
    /// Small inputs, so that the debug (and sanitizer) builds run them in seconds.
    static let cases: [CommandSnapshot] = {
        let capture = "../shared/fixtures/real-xen-default"
        let trace = "docs/examples/dma-trace.txt"
        let twoPools = "\(snapshotFolder)/inputs/two-pools-trace.txt"
        var all = [
            CommandSnapshot(name: "version", arguments: ["--version"]),
            CommandSnapshot(name: "help", arguments: ["--help"]),
            CommandSnapshot(name: "simulate-pv-domu-4g", arguments: ["simulate", "docs/examples/pv-domu-4g.yaml", "--json", "run.json"], files: ["run.json"]),
            CommandSnapshot(name: "simulate-real-xen-default", arguments: ["simulate", "docs/examples/real-xen-default.yaml"]),
            CommandSnapshot(name: "simulate-exhausted", arguments: ["simulate", "docs/examples/low-memory-dom0-exhausted.yaml"]),
            CommandSnapshot(name: "simulate-missing-file", arguments: ["simulate", "no-such-scenario.yaml"]),
            CommandSnapshot(name: "size-pv-domu-4g", arguments: ["size", "docs/examples/pv-domu-4g.yaml"]),
            CommandSnapshot(name: "compare", arguments: ["compare", "docs/examples/pv-domu-4g.yaml", "docs/examples/real-xen-default.yaml"]),
            CommandSnapshot(
                name: "compare-kernels-scenario",
                arguments: ["compare", "--kernel", "v5.11,rfc-v1,v6.1", "docs/examples/fragmentation.yaml", "--json", "kernels.json"],
                files: ["kernels.json"]),
            CommandSnapshot(
                name: "compare-kernels-rfc-dom0", arguments: ["compare", "--kernel", "v5.11,rfc-v1,v6.1,v6.18", "\(snapshotFolder)/inputs/rfc-dom0-small.yaml"]),
            CommandSnapshot(name: "compare-kernels-refused", arguments: ["compare", "--kernel", "v5.11,v6.18", "docs/examples/v618-tdx-guest.yaml"]),
            CommandSnapshot(name: "compare-kernels-trace", arguments: ["compare", "--kernel", "v5.11,v6.1", "docs/examples/capture-dom0.txt"]),
            CommandSnapshot(name: "compare-kernels-two-pools", arguments: ["compare", "--kernel", "v6.1,rfc-v1", twoPools]),
            CommandSnapshot(name: "compare-kernels-unknown", arguments: ["compare", "--kernel", "v5.11,v9", trace]),
            CommandSnapshot(name: "compare-kernels-all-refuse", arguments: ["compare", "--kernel", "v5.11,v6.1", "\(capture)/dom0-dmesg.txt"]),
            CommandSnapshot(name: "layout", arguments: ["layout"]),
            CommandSnapshot(name: "layout-dma-zone", arguments: ["layout", "--dom0-mem", "1536M,max:1536M", "--dma-bits", "30", "--max-runs", "300"]),
            CommandSnapshot(name: "layout-bad-ram", arguments: ["layout", "--ram", "3Q"]),
            CommandSnapshot(
                name: "compare-real", arguments: ["compare-real", "docs/examples/real-xen-default.yaml", capture, "--json", "agreement.json"],
                files: ["agreement.json"]),
            CommandSnapshot(name: "scenario-from-capture", arguments: ["scenario", "from-capture", capture, "--output", "host.yaml"], files: ["host.yaml"]),
            CommandSnapshot(name: "import", arguments: ["import", "\(capture)/dump-m2p.txt.xz", "\(capture)/dom0-p2m.txt.xz"]),
            CommandSnapshot(name: "swiotlb-replay-v5.11", arguments: ["swiotlb", "replay", trace]),
            CommandSnapshot(name: "swiotlb-replay-v6.1", arguments: ["swiotlb", "replay", trace, "--kernel", "v6.1", "--count-bytes"]),
            CommandSnapshot(name: "swiotlb-replay-rfc-v1", arguments: ["swiotlb", "replay", twoPools, "--kernel", "rfc-v1"]),
            CommandSnapshot(
                name: "swiotlb-import",
                arguments: ["swiotlb", "import", "\(snapshotFolder)/inputs/tracepoints.txt", "--start", "0x2ac00000", "--nslabs", "32768", "--areas", "2"]),
            CommandSnapshot(name: "swiotlb-cmdline-rfc-v1", arguments: ["swiotlb", "cmdline", "65536,1048576,force", "--kernel", "rfc-v1"]),
            CommandSnapshot(name: "swiotlb-cmdline-v6.1", arguments: ["swiotlb", "cmdline", "128,4", "--kernel", "v6.1"]),
            CommandSnapshot(name: "swiotlb-cmdline-v6.18", arguments: ["swiotlb", "cmdline", "65536,1048576,force", "--kernel", "v6.18"]),
            CommandSnapshot(name: "swiotlb-cmdline-v6.18-cpus", arguments: ["swiotlb", "cmdline", "4096", "--kernel", "v6.18", "--cpus", "64"]),
            CommandSnapshot(
                name: "diagnose-real-xen-default",
                arguments: ["diagnose", "--dmesg", "\(capture)/dom0-dmesg.txt", "--debugfs", "\(capture)/swiotlb-debugfs-after.txt"]),
            CommandSnapshot(name: "diagnose-usbip", arguments: ["diagnose", "--dmesg", "\(snapshotFolder)/inputs/usbip-dmesg.txt"]),
            CommandSnapshot(
                name: "diagnose-stmmac", arguments: ["diagnose", "--dmesg", "\(snapshotFolder)/inputs/stmmac-dmesg.txt", "--json", "verdicts.json"],
                files: ["verdicts.json"]),
            CommandSnapshot(name: "diagnose-trace", arguments: ["diagnose", "--trace", trace, "--kernel", "v6.1"]),
            CommandSnapshot(name: "diagnose-no-kernel", arguments: ["diagnose", "--trace", trace]),
            CommandSnapshot(name: "unknown-command", arguments: ["frobnicate"]),
            // A live capture needs root, tracefs and kprobes: its argument refusal is the part that runs anywhere.
            CommandSnapshot(name: "swiotlb-capture-bad-seconds", arguments: ["swiotlb", "capture", "--seconds", "0"]),
        ]
        // Without the XenCtrl trait the live commands say how to get them; with it, off Xen,
        // Scripts/sanitize checks what they say.
        #if !XenCtrl
            all += [
                CommandSnapshot(name: "host-without-xenctrl", arguments: ["host"]),
                CommandSnapshot(name: "p2m-without-xenctrl", arguments: ["p2m", "0"]),
                CommandSnapshot(name: "dump-m2p-without-xenctrl", arguments: ["dump", "m2p"]),
                CommandSnapshot(name: "dump-p2m-without-xenctrl", arguments: ["dump", "p2m", "0"]),
                CommandSnapshot(name: "scenario-from-host-without-xenctrl", arguments: ["scenario", "from-host"]),
            ]
        #endif
        return all
    }()

    /// `Tests/XenPVCommandTests/Snapshots`.
    static let snapshotFolder = #filePath.components(separatedBy: "/").dropLast().joined(separator: "/") + "/Snapshots"

    /// The repository's root.
    static let repository = #filePath.components(separatedBy: "/Tests/")[0]

    /// The `xenpv` built beside this test bundle.
    static let xenpv: String = {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent("xenpv").path
    }()

    @Test("each command's output, files and exit status are the snapshot's", arguments: cases)
    func snapshot(_ c: CommandSnapshot) throws {
        let actual = try Self.run(c)
        let golden = Self.snapshotFolder + "/" + c.name + ".txt"
        if Self.updating {
            try actual.write(toFile: golden, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOfFile: golden, encoding: .utf8)
        // One line saying where, rather than both texts whole.
        if let difference = Self.firstDifference(actual, expected) {
            Issue.record("\(c.testDescription): differs from Snapshots/\(c.name).txt at \(difference) (XENPV_UPDATE_SNAPSHOTS=1 rewrites it)")
        }
    }

    /// `XENPV_UPDATE_SNAPSHOTS=1`: write the snapshots instead of comparing.
    static let updating = ProcessInfo.processInfo.environment["XENPV_UPDATE_SNAPSHOTS"] == "1"

    @Test("every snapshot file belongs to a case (a renamed case leaves none behind)", .disabled(if: updating, "the snapshots are being rewritten"))
    func noStrayFiles() throws {
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: Self.snapshotFolder).filter { $0.hasSuffix(".txt") })
        var expected = Set(Self.cases.map { $0.name + ".txt" })
        #if XenCtrl
            expected.formUnion([
                "host-without-xenctrl.txt", "p2m-without-xenctrl.txt", "dump-m2p-without-xenctrl.txt", "dump-p2m-without-xenctrl.txt",
                "scenario-from-host-without-xenctrl.txt",
            ])
        #endif
        #expect(names == expected)
    }

    /// Runs the case in a fresh folder laid out like a clone (`<tmp>/xenpv/docs`,
    /// `<tmp>/shared`) and returns its snapshot text: the command, the exit status, standard
    /// output, standard error and each named file.
    static func run(_ c: CommandSnapshot) throws -> String {
        let scratch = try TestFolder("snapshot")
        defer { scratch.remove() }
        let clone = scratch.file("xenpv")
        let fm = FileManager.default
        try fm.createDirectory(atPath: clone, withIntermediateDirectories: false)
        try fm.createSymbolicLink(atPath: clone + "/docs", withDestinationPath: repository + "/docs")
        try fm.createSymbolicLink(atPath: scratch.file("shared"), withDestinationPath: realXenDefaultFixture + "/../..")
        let stdout = scratch.file("stdout"), stderr = scratch.file("stderr")
        try Data().write(to: URL(fileURLWithPath: stdout))
        try Data().write(to: URL(fileURLWithPath: stderr))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: xenpv)
        p.arguments = c.arguments
        p.currentDirectoryURL = URL(fileURLWithPath: clone)
        p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdout))
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderr))
        var environment = ProcessInfo.processInfo.environment
        environment["COLUMNS"] = "100"  // help text wraps the same whatever the terminal
        p.environment = environment
        try p.run()
        p.waitUntilExit()
        var text = "$ xenpv \(c.arguments.joined(separator: " "))\nexit status: \(p.terminationStatus)\n"
        text += section("stdout", try String(contentsOfFile: stdout, encoding: .utf8))
        text += section("stderr", try String(contentsOfFile: stderr, encoding: .utf8))
        for f in c.files {
            text += section("file \(f)", (try? String(contentsOfFile: clone + "/" + f, encoding: .utf8)) ?? "(not written)\n")
        }
        // The scratch folder's path, where a message names it, is the same in every run.
        return text.replacingOccurrences(of: snapshotFolder, with: "<snapshots>")
    }

    private static func section(_ title: String, _ body: String) -> String {
        "--- \(title)\n" + body + (body.isEmpty || body.hasSuffix("\n") ? "" : "\n(no newline at the end)\n")
    }

    /// The first line where the two texts differ, both versions; nil when they are equal.
    static func firstDifference(_ a: String, _ b: String) -> String? {
        let x = a.split(separator: "\n", omittingEmptySubsequences: false), y = b.split(separator: "\n", omittingEmptySubsequences: false)
        for i in 0..<max(x.count, y.count) where i >= x.count || i >= y.count || x[i] != y[i] {
            return "line \(i + 1): got '\(i < x.count ? x[i] : "(end)")', snapshot has '\(i < y.count ? y[i] : "(end)")'"
        }
        return nil
    }
}
