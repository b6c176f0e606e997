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

    Benchmark("xenpv swiotlb replay, 1M-op trace", configuration: config) { (_: Benchmark, trace: String) in
        Inputs.run(["swiotlb", "replay", trace])
    } setup: { () -> String in
        Inputs.trace1M
    }

    // The yardstick for replay: a plain fgets/strtok parser over the same allocator, run
    // as its own process like xenpv. It must write exactly what xenpv writes.
    Benchmark("replay 1M-op trace, C reference (fgets/strtok)", configuration: config) { (_: Benchmark, trace: String) in
        Inputs.run([trace], executable: Inputs.replayReference)
    } setup: { () -> String in
        let trace = Inputs.trace1M
        let ours = Inputs.scratch + "/replay-xenpv.txt", reference = Inputs.scratch + "/replay-c.txt"
        Inputs.run(["swiotlb", "replay", trace], output: ours)
        Inputs.run([trace], executable: Inputs.replayReference, output: reference)
        precondition(FileManager.default.contentsEqual(atPath: ours, andPath: reference), "the C reference's output differs from xenpv's")
        return trace
    }

    // Linux 6.1 beside it: the same workload over 2 areas, and the kernel's own allocator
    // (6.1.192's swiotlb.c compiled unmodified, Scripts/kernel-vectors) replaying the same
    // trace, which must print exactly what xenpv prints.
    Benchmark("xenpv swiotlb replay --kernel v6.1, 1M-op 2-area trace", configuration: config) { (_: Benchmark, trace: String) in
        Inputs.run(["swiotlb", "replay", "--kernel", "v6.1", trace])
    } setup: { () -> String in
        Inputs.trace1MTwoAreas
    }

    Benchmark("replay 1M-op 2-area trace, Linux 6.1.192 allocator (kv-replay61)", configuration: config) { (_: Benchmark, trace: String) in
        Inputs.run([trace], executable: Inputs.kernelReplay61)
    } setup: { () -> String in
        let trace = Inputs.trace1MTwoAreas
        let ours = Inputs.scratch + "/replay-xenpv-v61.txt", kernel = Inputs.scratch + "/replay-kernel-v61.txt"
        Inputs.run(["swiotlb", "replay", "--kernel", "v6.1", trace], output: ours)
        Inputs.run([trace], executable: Inputs.kernelReplay61, output: kernel)
        precondition(FileManager.default.contentsEqual(atPath: ours, andPath: kernel), "kv-replay61's output differs from xenpv's")
        return trace
    }

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
