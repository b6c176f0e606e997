import Benchmark
import Foundation
import XenDumps
import XenLive
import XenMemory

/// Whole jobs: the release xenpv on its inputs (process start included), and the 16 TiB host
/// built and analysed in-process.
func endToEndBenchmarks() {
    let config = Benchmark.Configuration(
        metrics: [.wallClock, .peakMemoryResident], timeUnits: .milliseconds,
        warmupIterations: 1, maxDuration: .seconds(30), maxIterations: 10)

    // The yardstick for replay: a plain fgets/strtok parser over the same allocator.
    replayPair(
        "xenpv swiotlb replay, 1M-op trace", arguments: [], reference: "replay 1M-op trace, C reference (fgets/strtok)",
        executable: Inputs.replayReference, outputs: "replay-xenpv.txt", "replay-c.txt", config: config
    ) { Inputs.trace1M }

    // Linux 6.1 beside it: the same workload over 2 areas, and the kernel's own allocator
    // (6.1.192's swiotlb.c compiled unmodified, Scripts/kernel-vectors) replaying the same trace.
    replayPair(
        "xenpv swiotlb replay --kernel v6.1, 1M-op 2-area trace", arguments: ["--kernel", "v6.1"],
        reference: "replay 1M-op 2-area trace, Linux 6.1.192 allocator (kv-replay61)", executable: Inputs.kernelReplay61,
        outputs: "replay-xenpv-v61.txt", "replay-kernel-v61.txt", config: config
    ) { Inputs.trace1MTwoAreas }

    Benchmark("xenpv import, 64 GiB dom0 dump-p2m (737 MB)", configuration: config) { (_: Benchmark, dump: String) in
        Inputs.run(["import", dump])
    } setup: { () -> String in
        Inputs.dumpP2M64G
    }

    Benchmark("xenpv simulate, default scenario", configuration: config) { _ in
        Inputs.run(["simulate"])
    }

    Benchmark("16 TiB host, 4 TiB dom0: build, Linux set-up, analysis", configuration: config) { _ in
        let (host, d) = Inputs.dom0(ramGiB: 16 << 10, option: "4T,max:4T")
        let backend = ModelBackend(host: host, guests: [d])
        let (p2m, source) = try! backend.p2m(domain: 0)
        let summary = P2MSummary(p2m, source: source, m2p: try! backend.m2p())
        precondition(summary.ram == 1 << 30 && summary.m2pMismatches == 0, "the 4 TiB dom0 did not come out whole")
        blackHole(summary)
    }
}

/// Two replays of one trace (`makeTrace` writes it), each its own process: `xenpv swiotlb replay <arguments> <trace>`
/// (benchmark `name`) and `executable <trace>` (benchmark `reference`), which must print
/// exactly what xenpv prints (checked once in its set-up, the two outputs kept in the scratch
/// folder as `ours` and `theirs`). The executable's path is read when its benchmark runs.
private func replayPair(
    _ name: String, arguments: [String], reference: String, executable: @autoclosure @escaping () -> String, outputs ours: String, _ theirs: String,
    config: Benchmark.Configuration, makeTrace: @escaping () -> String
) {
    Benchmark(name, configuration: config) { (_: Benchmark, trace: String) in
        Inputs.run(["swiotlb", "replay"] + arguments + [trace])
    } setup: { () -> String in
        makeTrace()
    }

    Benchmark(reference, configuration: config) { (_: Benchmark, trace: String) in
        Inputs.run([trace], executable: executable())
    } setup: { () -> String in
        let trace = makeTrace()
        let oursPath = Inputs.scratch + "/" + ours, theirsPath = Inputs.scratch + "/" + theirs
        Inputs.run(["swiotlb", "replay"] + arguments + [trace], output: oursPath)
        Inputs.run([trace], executable: executable(), output: theirsPath)
        precondition(FileManager.default.contentsEqual(atPath: oursPath, andPath: theirsPath), "\(reference): its output differs from xenpv's")
        return trace
    }
}
