import Benchmark
import XenMemory

/// Building the host M2P (an extent map, through `HostM2P`, as the model builds it) with 10^4,
/// 10^5 and 10^6 one-frame runs that do not merge (pfns going down as frames go up, as a
/// debug-build dom0 or a domU's order-0 pages give them), written in random frame order and top
/// down; beside them, in the same run, a plain sorted array built by appending the same runs (the
/// floor: no search, no edit) and, up to 10^5, the single sorted array the map used to be,
/// inserting each run at its place (what made P2M building quadratic). Each iteration builds one
/// table; the time per run is the figure divided by the run count. Then lookups of random frames
/// in a table of 10^6 runs, against a binary search of the flat array.
func extentMapBenchmarks() {
    let config = Benchmark.Configuration(
        metrics: [.wallClock, .peakMemoryResident], timeUnits: .milliseconds,
        warmupIterations: 1, maxDuration: .seconds(10), maxIterations: 10)
    let top: UInt64 = 1 << 40
    for n in [10_000, 100_000, 1_000_000] {
        Benchmark("M2P build, \(n) runs in random order", configuration: config) { (_: Benchmark, keys: [UInt64]) in
            var m2p = HostM2P(maxPage: MFN(top))
            for k in keys { m2p.set(MFN(k), count: 1, to: PFN(top - k)) }
            precondition(m2p.runs.extentCount == n, "the runs merged")
            blackHole(m2p)
        } setup: { () -> [UInt64] in
            var rng = SplitMix64(seed: UInt64(n))
            var keys = (0..<UInt64(n)).map { $0 }
            for i in stride(from: n - 1, to: 0, by: -1) { keys.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            return keys
        }
        Benchmark("M2P build, \(n) runs top down", configuration: config) { _ in
            var m2p = HostM2P(maxPage: MFN(top))
            for k in (0..<UInt64(n)).reversed() { m2p.set(MFN(k), count: 1, to: PFN(top - k)) }
            blackHole(m2p)
        }
        Benchmark("sorted array append (floor), \(n) runs", configuration: config) { _ in
            var runs: [Extent<M2PRun>] = []
            for k in 0..<UInt64(n) { runs.append(Extent(start: k, count: 1, value: .pfn(base: PFN(top - k)))) }
            blackHole(runs)
        }
        if n <= 100_000 {
            Benchmark("sorted array insert (the old map), \(n) runs top down", configuration: config) { _ in
                var runs: [Extent<M2PRun>] = []
                for k in (0..<UInt64(n)).reversed() { SortedRuns.insert(Extent(start: k, count: 1, value: .pfn(base: PFN(top - k))), into: &runs) }
                blackHole(runs)
            }
        }
    }

    let lookups = Benchmark.Configuration(
        metrics: [.wallClock], timeUnits: .microseconds,
        warmupIterations: 2, maxDuration: .seconds(10), maxIterations: 50)
    Benchmark("M2P lookup, 10^6 runs, 1M random frames", configuration: lookups) { (_: Benchmark, context: MapLookups) in
        var sum: UInt64 = 0
        for k in context.keys { sum &+= context.m2p.lookup(MFN(k)) }
        blackHole(sum)
    } setup: {
        MapLookups(runs: 1_000_000)
    }
    Benchmark("sorted array lookup (the old map), 10^6 runs, 1M random frames", configuration: lookups) { (_: Benchmark, context: MapLookups) in
        var sum: UInt64 = 0
        for k in context.keys { sum &+= SortedRuns.value(at: k, in: context.array)?.rawEntry ?? HostM2P.invalidEntry }
        blackHole(sum)
    } setup: {
        MapLookups(runs: 1_000_000)
    }
}

/// An M2P of one-frame runs with gaps, the same runs as a flat array, and random frames.
struct MapLookups {
    let m2p: HostM2P
    let array: [Extent<M2PRun>]
    let keys: [UInt64]
    init(runs: Int) {
        var m2p = HostM2P(maxPage: MFN(2 * UInt64(runs)))
        for k in 0..<UInt64(runs) { m2p.set(MFN(2 * k), count: 1, to: PFN(1 << 40 - k)) }
        self.m2p = m2p
        array = m2p.runs.extents
        var rng = SplitMix64(seed: 3)
        keys = (0..<1_000_000).map { _ in rng.next() % (2 * UInt64(runs)) }
    }
}

/// The extent map as a single sorted array (before the chunks): binary search, then an insert
/// that moves every run after it.
enum SortedRuns {
    /// Index of the first run starting after `key`.
    static func upperBound(_ key: UInt64, in runs: [Extent<M2PRun>]) -> Int {
        var lo = 0, hi = runs.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if runs[mid].start <= key { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
    /// Inserts a run of one key that no run covers yet.
    static func insert(_ run: Extent<M2PRun>, into runs: inout [Extent<M2PRun>]) {
        runs.insert(run, at: upperBound(run.start, in: runs))
    }
    /// The value at `key`.
    static func value(at key: UInt64, in runs: [Extent<M2PRun>]) -> M2PRun? {
        let i = upperBound(key, in: runs)
        guard i > 0, key < runs[i - 1].end else { return nil }
        return runs[i - 1].value.advanced(by: key - runs[i - 1].start)
    }
}
