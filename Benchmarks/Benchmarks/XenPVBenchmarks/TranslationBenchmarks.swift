import Benchmark
import XenMemory

/// P2M and M2P lookups on the captured host's dom0 layout (657 runs) and a 20 GiB host's
/// 9 GiB dom0. Each iteration is one million lookups (so microseconds / 1000 read as nanoseconds
/// per lookup); the sums go to `blackHole` so that nothing is optimised away.
func translationBenchmarks() {
    let config = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal], timeUnits: .microseconds,
        warmupIterations: 2, maxDuration: .seconds(10), maxIterations: 50)
    let lookups = 1_000_000

    Benchmark("P2M lookup, random pfns (captured dom0 layout, 1M lookups)", configuration: config) { (_: Benchmark, context: Lookups) in
        var sum: UInt64 = 0
        let snapshot = context.snapshot
        for pfn in context.keys { sum &+= snapshot.pfnToMFN(PFN(pfn)).rawValue }
        blackHole(sum)
    } setup: { () -> Lookups in
        let boot = Inputs.boot(example: "real-xen-default.yaml")
        let p2m = boot.p2m!
        var rng = SplitMix64(seed: 1)
        let limit = p2m.lastPfnHint.rawValue
        return Lookups(snapshot: TranslationSnapshot(p2m: p2m, m2p: boot.host!.m2p), keys: (0..<lookups).map { _ in rng.next() % limit })
    }

    Benchmark("P2M lookup, sequential pfns (9 GiB dom0, 1M lookups)", configuration: config) { (_: Benchmark, context: Lookups) in
        var sum: UInt64 = 0
        let start = context.keys[0]
        let snapshot = context.snapshot
        for pfn in start..<(start + UInt64(lookups)) { sum &+= snapshot.pfnToMFN(PFN(pfn)).rawValue }
        blackHole(sum)
    } setup: { () -> Lookups in
        let (host, d) = Inputs.dom0(ramGiB: 20, option: "9G,max:9G")
        return Lookups(snapshot: TranslationSnapshot(p2m: d.p2m, m2p: host.m2p), keys: [0x10000])
    }

    Benchmark("P2M bulk read, sequential (9 GiB dom0, 1M pfns)", configuration: config) { (_: Benchmark, context: Scratch) in
        context.words.withUnsafeMutableBufferPointer { context.snapshot.p2m.lookup(from: 0x10000, into: $0) }
        blackHole(context.words[lookups / 2])
    } setup: { () -> Scratch in
        let (host, d) = Inputs.dom0(ramGiB: 20, option: "9G,max:9G")
        return Scratch(snapshot: TranslationSnapshot(p2m: d.p2m, m2p: host.m2p), words: [UInt64](repeating: 0, count: lookups))
    }

    Benchmark("M2P validated lookup mfn_to_pfn, random dom0 mfns (captured layout, 1M lookups)", configuration: config) { (_: Benchmark, context: Lookups) in
        var sum: UInt64 = 0
        let snapshot = context.snapshot
        for mfn in context.keys { sum &+= snapshot.mfnToPFN(MFN(mfn)).rawValue }
        blackHole(sum)
    } setup: { () -> Lookups in
        let boot = Inputs.boot(example: "real-xen-default.yaml")
        let p2m = boot.p2m!
        let snapshot = TranslationSnapshot(p2m: p2m, m2p: boot.host!.m2p)
        var rng = SplitMix64(seed: 2)
        // The dom0's own frames: what a DMA completion hands back to translate.
        let ram = p2m.runs().compactMap { r -> (UInt64, UInt64)? in
            if case .machine(let base) = r.value { return (base.rawValue, r.count) }
            return nil
        }
        let total = ram.reduce(0) { $0 + $1.1 }
        let mfns: [UInt64] = (0..<lookups).map { _ in
            var k = rng.next() % total
            for (base, count) in ram { if k < count { return base + k }; k -= count }
            return 0
        }
        return Lookups(snapshot: snapshot, keys: mfns)
    }
}

/// A snapshot and the keys to look up.
struct Lookups {
    let snapshot: TranslationSnapshot
    let keys: [UInt64]
}

/// A snapshot with a reusable output buffer.
final class Scratch {
    let snapshot: TranslationSnapshot
    var words: [UInt64]
    init(snapshot: TranslationSnapshot, words: [UInt64]) { self.snapshot = snapshot; self.words = words }
}
