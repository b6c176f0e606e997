import Benchmark
import SwiotlbReference

/// The seed of the allocator workload's draws.
let allocatorSeed: UInt64 = 0x5107_2026

/// The slot allocator under the issue-10 workload, beside the C reference on the same machine.
/// Each iteration is one million operations; the Swift runs first check that they chose the
/// reference's slots. "allocator" is `SlotPool` itself, the counterpart of the reference's
/// `pool_alloc`/`pool_free`; "map/unmap" is the whole `SoftwareIOTLB` call a replay makes (device
/// checks, pool choice, bounce bookkeeping around the same allocator); "workload alone" is the
/// random draws and the live-mapping table without an allocator, the floor under all of them.
/// The "pre-drawn" runs take the same operations drawn in advance, which leaves the allocator
/// and the live table: the allocator's own time, on `SlotPool` and on the C reference.
func allocatorBenchmarks() {
    let ops = 1_000_000
    let seed = allocatorSeed
    let config = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal, .peakMemoryResident],
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
    Benchmark("allocator 1M pre-drawn ops, SlotPool", configuration: config) { benchmark in
        let ops = drawnAllocatorOperations
        benchmark.startMeasurement()
        blackHole(AllocatorWorkload.runDrawnPool(ops))
    }
    Benchmark("allocator 1M pre-drawn ops, C reference", configuration: config) { benchmark in
        let ops = drawnAllocatorOperations
        benchmark.startMeasurement()
        blackHole(AllocatorWorkload.runDrawnReference(ops))
    }
    Benchmark("allocator 1M pre-drawn ops, slots known in advance", configuration: config) { benchmark in
        let ops = drawnAllocatorOperations
        let chosen = AllocatorWorkload.chosenSlots(ops)
        let expected = AllocatorWorkload.runDrawnPool(ops)
        precondition(AllocatorWorkload.runDrawnKnownSlots(ops, chosen: chosen) == expected, "the known slots are not SlotPool's")
        benchmark.startMeasurement()
        blackHole(AllocatorWorkload.runDrawnKnownSlots(ops, chosen: chosen))
    }
    Benchmark("allocator 1M pre-drawn ops, live table alone", configuration: config) { benchmark in
        let ops = drawnAllocatorOperations
        benchmark.startMeasurement()
        blackHole(AllocatorWorkload.runDrawnFloor(ops))
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

/// The allocator workload's million operations drawn in advance, once; checked first to give
/// the same slots on `SlotPool` and on the C reference as the run that draws as it goes.
let drawnAllocatorOperations: [swiotlb_ref_op] = {
    let ops = AllocatorWorkload.drawn(ops: 1_000_000, seed: allocatorSeed)
    var expected = AllocatorWorkload.runReference(ops: 1_000_000, seed: allocatorSeed, moveBytes: false)
    expected.bytesCopied = 0
    precondition(AllocatorWorkload.runDrawnReference(ops) == expected, "the C reference's pre-drawn run differs from its run")
    precondition(AllocatorWorkload.runDrawnPool(ops) == expected, "SlotPool chose other slots than the C reference on the pre-drawn run")
    return ops
}()
