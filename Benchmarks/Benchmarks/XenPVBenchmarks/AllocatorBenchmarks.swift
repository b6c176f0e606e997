import Benchmark

/// The slot allocator under the issue-10 workload, beside the C reference on the same machine.
/// Each iteration is one million operations; the Swift runs first check that they chose the
/// reference's slots. "allocator" is `SlotPool` itself, the counterpart of the reference's
/// `pool_alloc`/`pool_free`; "map/unmap" is the whole `SoftwareIOTLB` call a replay makes (device
/// checks, pool choice, bounce bookkeeping around the same allocator); "workload alone" is the
/// random draws and the live-mapping table without an allocator, the floor under all of them.
func allocatorBenchmarks() {
    let ops = 1_000_000
    let seed: UInt64 = 0x5107_2026
    let config = Benchmark.Configuration(metrics: [.wallClock, .mallocCountTotal, .peakMemoryResident],
                                         timeUnits: .milliseconds, warmupIterations: 1, maxDuration: .seconds(20), maxIterations: 15)
    Benchmark("allocator 1M ops, SlotPool", configuration: config) { benchmark in
        let expected = AllocatorWorkload.runReference(ops: 20_000, seed: seed, moveBytes: false)
        let got = AllocatorWorkload.runPool(ops: 20_000, seed: seed)
        precondition(got == expected, "SlotPool chose other slots than the C reference: \(got) vs \(expected)")
        benchmark.startMeasurement()
        blackHole(AllocatorWorkload.runPool(ops: ops, seed: seed))
    }
    Benchmark("allocator 1M ops, workload alone", configuration: config) { _ in
        blackHole(AllocatorWorkload.runHarness(ops: ops, seed: seed))
    }
    for moveBytes in [false, true] {
        let suffix = moveBytes ? " moving bytes" : ""
        Benchmark("allocator 1M ops\(suffix), map/unmap", configuration: config) { benchmark in
            let expected = AllocatorWorkload.runReference(ops: 20_000, seed: seed, moveBytes: false)
            let got = AllocatorWorkload.run(ops: 20_000, seed: seed, moveBytes: false)
            precondition(got == expected, "xenpv chose other slots than the C reference: \(got) vs \(expected)")
            benchmark.startMeasurement()
            blackHole(AllocatorWorkload.run(ops: ops, seed: seed, moveBytes: moveBytes))
        }
        Benchmark("allocator 1M ops\(suffix), C reference", configuration: config) { _ in
            blackHole(AllocatorWorkload.runReference(ops: ops, seed: seed, moveBytes: moveBytes))
        }
    }
}
