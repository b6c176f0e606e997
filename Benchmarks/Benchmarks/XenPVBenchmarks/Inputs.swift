import Foundation
import XenBoot
import XenDumps
import XenLive
import XenMemory
import XenModel

/// Where the benchmarks find the repository, the xenpv binary and their generated inputs.
enum Inputs {
    /// The repository root (two levels above this package).
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// The release xenpv that Scripts/benchmarks builds first.
    static var xenpv: String {
        let path = root + "/.build/release/xenpv"
        precondition(FileManager.default.isExecutableFile(atPath: path), "\(path) is missing: run ./Scripts/benchmarks, which builds it first")
        return path
    }

    /// The C reference replayer (`Sources/ReplayReference`), which Scripts/benchmarks builds first.
    static var replayReference: String {
        let path = root + "/Benchmarks/.build/release/ReplayReference"
        precondition(FileManager.default.isExecutableFile(atPath: path), "\(path) is missing: run ./Scripts/benchmarks, which builds it first")
        return path
    }

    /// `kv-replay61`: Linux 6.1.192's own `kernel/dma/swiotlb.c`, compiled unmodified by
    /// Scripts/kernel-vectors/build, which Scripts/benchmarks runs first.
    static var kernelReplay61: String {
        let path = root + "/.build/kernel-vectors/kv-replay61"
        precondition(
            FileManager.default.isExecutableFile(atPath: path),
            "\(path) is missing: run ./Scripts/benchmarks, which builds it first (it needs Debian's linux-source-6.1)")
        return path
    }

    /// A scratch folder for generated inputs.
    static let scratch: String = {
        let dir = NSTemporaryDirectory() + "xenpv-benchmarks"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }()

    /// `name` in the scratch folder, written by `make` the first time.
    static func file(_ name: String, _ make: (UnsafeMutablePointer<FILE>) -> Void) -> String {
        let path = scratch + "/" + name
        if !FileManager.default.fileExists(atPath: path) {
            let tmp = path + ".partial"
            guard let f = fopen(tmp, "w") else { fatalError("cannot write \(tmp)") }
            make(f)
            fclose(f)
            rename(tmp, path)
        }
        return path
    }

    /// Boots a scenario file of docs/examples (or the embedded default).
    static func boot(example: String?) -> BootResult {
        let text = example.map { try! String(contentsOfFile: root + "/docs/examples/" + $0, encoding: .utf8) } ?? DefaultScenario.yaml
        let scenario = try! ScenarioParser.parse(text, file: example ?? DefaultScenario.fileName)
        return ModelBoot.boot(scenario)
    }

    /// A QEMU-like host of `ramGiB` with a PV dom0 of `dom0_mem=<option>` after Linux's set-up.
    static func dom0(ramGiB: UInt64, option: String) -> (XenHost, PVDomain) {
        var config = Dom0BuildConfig()
        config.memory = try! Dom0MemoryOption(parsing: option)
        let dom0 = try! PVGuestBoot.dom0(on: try! XenHost(e820: .qemuPC(ramBytes: ramGiB << 30)), config)
        return (dom0.host, dom0.domain)
    }

    /// The dump-p2m of a 64 GiB PV dom0 (about 16.8 million lines).
    static var dumpP2M64G: String {
        file("dump-p2m-64g.txt") { f in
            let (host, d) = dom0(ramGiB: 66, option: "64G,max:64G")
            let (p2m, _) = try! ModelBackend(host: host, guests: [d]).p2m(domain: 0)
            P2MDump.write(p2m) {
                fputs($0, f); fputc(10, f)
            }
        }
    }

    /// The issue-10 million-operation trace.
    static var trace1M: String {
        file("trace-1m.txt") { f in fputs(AllocatorWorkload.trace(ops: 1_000_000, seed: 0x5107_2026), f) }
    }

    /// The issue-10 million-operation trace for Linux 6.1 over 2 areas: the ``trace1M`` file
    /// with `areas=2` on its pool line and `cpu=` 0–7 on each map (SplitMix64 from a fixed seed).
    /// Its maps fail where 6.1's areas fail, so their unmaps are `skipped=map-failed`.
    static var trace1MTwoAreas: String {
        file("trace-1m-v61-2areas.txt") { f in
            var state: UInt64 = 0x6_1192
            let base = try! String(contentsOfFile: trace1M, encoding: .utf8)
            for line in base.split(separator: "\n") {
                if line.hasPrefix("pool ") {
                    fputs(String(line) + " areas=2\n", f)
                } else if line.hasPrefix("map ") {
                    state &+= 0x9e37_79b9_7f4a_7c15
                    var z = state
                    z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
                    z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
                    fputs(String(line) + " cpu=\((z ^ (z >> 31)) % 8)\n", f)
                } else {
                    fputs(String(line) + "\n", f)
                }
            }
        }
    }

    /// Runs `executable` (the xenpv binary by default) with `arguments`, its output written to
    /// `output` (discarded by default); fails loudly on a non-zero exit.
    static func run(_ arguments: [String], executable: String = xenpv, output: String = "/dev/null") {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        if output != "/dev/null" {
            precondition(FileManager.default.createFile(atPath: output, contents: nil), "cannot write \(output)")
        }
        p.standardOutput = FileHandle(forWritingAtPath: output)
        p.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try! p.run()
        p.waitUntilExit()
        precondition(p.terminationStatus == 0, "\(executable) \(arguments.joined(separator: " ")) exited \(p.terminationStatus)")
    }
}
