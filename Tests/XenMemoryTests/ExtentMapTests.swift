import Testing
import XenPVTestSupport

@testable import XenMemory

@Suite("ExtentMap: chunked runs against a key-by-key model")
struct ExtentMapTests {
    /// The canonical runs of a key-by-key table: maximal stretches whose values continue.
    static func runs(of table: [P2MRun?]) -> [Extent<P2MRun>] {
        var out: [Extent<P2MRun>] = []
        for (k, v) in table.enumerated() {
            guard let v else { continue }
            if let last = out.last, last.end == UInt64(k), last.value.advanced(by: last.count) == v {
                out[out.count - 1].count += 1
            } else {
                out.append(Extent(start: UInt64(k), count: 1, value: v))
            }
        }
        return out
    }

    /// Whether the chunks stay within their bounds (a single chunk may be small).
    static func chunksBalanced<V>(_ map: ExtentMap<V>) -> Bool {
        let sizes = map.chunkSizes
        guard sizes.count > 1 else { return sizes.allSatisfy { $0 > 0 } }
        return sizes.allSatisfy { $0 >= ExtentMap<V>.minChunk && $0 <= ExtentMap<V>.maxChunk }
    }

    @Test("random sets, removes and appends give exactly the model's runs, with chunks in bounds")
    func randomEditsMatchModel() {
        let keys = 20_000
        var rng = SplitMix64(seed: 19)
        var table = [P2MRun?](repeating: nil, count: keys)
        var map = ExtentMap<P2MRun>()
        var mostChunks = 0
        for step in 0..<4_000 {
            let kind = rng.next() % 10
            // Mostly short edits (many runs, so chunks split), some long ones (so they join).
            let long = rng.next() % 100 == 0
            let count = long ? 1 + rng.next() % 3_000 : 1 + rng.next() % 4
            let start = rng.next() % UInt64(keys - Int(count))
            switch kind {
            case 0...5:
                let value: P2MRun =
                    switch rng.next() % 4 {
                    case 0: .identity
                    case 1: .missing
                    case 2: .foreign(base: MFN(rng.next() % 1_000_000))
                    default: .machine(base: MFN(rng.next() % 1_000_000))
                    }
                map.set(start: start, count: count, to: value)
                for i in 0..<count { table[Int(start + i)] = value.advanced(by: i) }
            case 6...8:
                map.remove(start: start, count: count)
                for i in 0..<count { table[Int(start + i)] = nil }
            default:
                // Continue the last run, then start one past a gap.
                let end = map.extents.last?.end ?? 0
                guard end + 2 * count < UInt64(keys) else { break }
                let last = map.extents.last
                let v = last.map { $0.value.advanced(by: $0.count) } ?? .machine(base: MFN(7))
                map.append(start: end, count: count, value: v)
                map.append(start: end + count + 1, count: count, value: .machine(base: MFN(5)))
                for i in 0..<count {
                    table[Int(end + i)] = v.advanced(by: i)
                    table[Int(end + count + 1 + i)] = P2MRun.machine(base: MFN(5)).advanced(by: i)
                }
            }
            if step % 200 == 0 || step == 3_999 {
                #expect(map.extents == Self.runs(of: table), "step \(step)")
                #expect(map.extentCount == map.extents.count)
                #expect(Self.chunksBalanced(map), "step \(step): chunks \(map.chunkSizes)")
            }
            mostChunks = max(mostChunks, map.chunkSizes.count)
        }
        for k in 0..<keys { #expect(map.value(at: UInt64(k)) == table[k]) }
        #expect(mostChunks > 3)
    }

    @Test("a run written next to its continuation merges; one written inside a run splits it")
    func mergesAndSplits() {
        var map = ExtentMap<P2MRun>()
        map.set(start: 100, count: 10, to: .machine(base: MFN(1000)))
        map.set(start: 110, count: 5, to: .machine(base: MFN(1010)))
        map.set(start: 90, count: 10, to: .machine(base: MFN(990)))
        #expect(map.extents == [Extent(start: 90, count: 25, value: .machine(base: MFN(990)))])
        map.set(start: 100, count: 2, to: .identity)
        #expect(
            map.extents == [
                Extent(start: 90, count: 10, value: .machine(base: MFN(990))),
                Extent(start: 100, count: 2, value: .identity),
                Extent(start: 102, count: 13, value: .machine(base: MFN(1002))),
            ])
        map.set(start: 100, count: 2, to: .machine(base: MFN(1000)))
        #expect(map.extents == [Extent(start: 90, count: 25, value: .machine(base: MFN(990)))])
        map.remove(start: 95, count: 10)
        #expect(
            map.extents == [
                Extent(start: 90, count: 5, value: .machine(base: MFN(990))),
                Extent(start: 105, count: 10, value: .machine(base: MFN(1005))),
            ])
        #expect(map.value(at: 94) == .machine(base: MFN(994)) && map.value(at: 95) == nil && map.value(at: 104) == nil)
        #expect(map.run(from: 107) == Extent(start: 107, count: 8, value: .machine(base: MFN(1007))))
        #expect(map.extent(containing: 107) == Extent(start: 105, count: 10, value: .machine(base: MFN(1005))))
    }

    @Test("runs merge and split across chunk boundaries")
    func acrossChunks() {
        // 3000 one-key runs that do not continue one another (machine frames going down).
        var map = ExtentMap<P2MRun>()
        for k: UInt64 in 0..<3_000 { map.append(start: k, count: 1, value: .machine(base: MFN(10_000 - k))) }
        #expect(map.extentCount == 3_000 && map.chunkSizes.count > 2)
        let boundary = UInt64(map.chunkSizes[0])
        // Rewrite the two runs either side of the first chunk boundary so that they continue
        // their left neighbour: one run over three keys.
        map.set(start: boundary - 1, count: 2, to: .machine(base: MFN(10_000 - boundary + 2 + 1)))
        #expect(map.extent(containing: boundary) == Extent(start: boundary - 2, count: 3, value: .machine(base: MFN(10_000 - boundary + 2))))
        #expect(map.extentCount == 2_998)
        // One write over most of the map joins the chunks it covers.
        map.set(start: 10, count: 2_980, to: .identity)
        #expect(map.extentCount == 10 + 1 + 10)
        #expect(map.chunkSizes == [21])
        #expect(
            map.extents(start: 8, count: 4) == [
                Extent(start: 8, count: 1, value: .machine(base: MFN(9_992))),
                Extent(start: 9, count: 1, value: .machine(base: MFN(9_991))),
                Extent(start: 10, count: 2, value: .identity),
            ])
    }

    @Test("consecutive runs set in one edit give what setting each in turn gives")
    func contiguousSet() {
        var rng = SplitMix64(seed: 7)
        var one = ExtentMap<P2MRun>(), each = ExtentMap<P2MRun>()
        for k: UInt64 in stride(from: 0, to: 6_000, by: 3) {
            one.append(start: k, count: 2, value: .machine(base: MFN(k * 7)))
            each.append(start: k, count: 2, value: .machine(base: MFN(k * 7)))
        }
        for _ in 0..<50 {
            var start = rng.next() % 5_000
            var runs: [Extent<P2MRun>] = []
            for _ in 0..<(1 + rng.next() % 700) {
                let count = 1 + rng.next() % 3
                // Frames going down (no merging) or on (merging with the run before).
                let base =
                    rng.next() % 2 == 0
                    ? 100_000 - start
                    : (runs.last.map { r -> UInt64 in
                        if case .machine(let b) = r.value { return b.rawValue + r.count }
                        return 0
                    } ?? 5)
                runs.append(Extent(start: start, count: count, value: .machine(base: MFN(base))))
                start += count
            }
            one.set(contiguous: runs)
            for r in runs { each.set(start: r.start, count: r.count, to: r.value) }
            #expect(one == each)
            #expect(one.extents == each.extents)
            #expect(Self.chunksBalanced(one))
        }
    }

    @Test("keys at the top of the 64-bit space: ends saturate, nothing wraps")
    func topOfKeySpace() {
        var map = ExtentMap<P2MRun>()
        map.set(start: .max - 10, count: 10, to: .identity)
        #expect(map.extents == [Extent(start: .max - 10, count: 10, value: .identity)])
        #expect(map.value(at: .max - 1) == .identity && map.value(at: .max) == nil)
        #expect(map.extents(start: .max - 3, count: .max) == [Extent(start: .max - 3, count: 3, value: .identity)])
        map.remove(start: .max - 5, count: 100)
        #expect(map.extents == [Extent(start: .max - 10, count: 5, value: .identity)])
        map.remove(start: 0, count: .max)
        #expect(map.extents.isEmpty && map.extentCount == 0 && map.chunkSizes.isEmpty)
    }

    @Test("maps with the same runs are equal however they were chunked")
    func equalityIgnoresChunks() {
        var a = ExtentMap<P2MRun>(), b = ExtentMap<P2MRun>()
        for k: UInt64 in 0..<1_000 { a.append(start: 2 * k, count: 1, value: .identity) }
        for k: UInt64 in (0..<1_000).reversed() { b.set(start: 2 * k, count: 1, to: .identity) }
        #expect(a.chunkSizes != b.chunkSizes)
        #expect(a == b)
        b.remove(start: 1_000, count: 1)
        #expect(a != b)
    }

    @Test("a million one-page runs written top down (a debug build's pattern) build in one pass")
    func millionRunsTopDown() {
        // Before the chunks, each write moved every run after it: about 10^12 moves here.
        var map = ExtentMap<P2MRun>()
        let n: UInt64 = 1_000_000
        for k in (0..<n).reversed() { map.set(start: k, count: 1, to: .machine(base: MFN(5 * n - k))) }
        #expect(map.extentCount == Int(n))
        #expect(map.value(at: 0) == .machine(base: MFN(5 * n)) && map.value(at: n - 1) == .machine(base: MFN(4 * n + 1)))
        #expect(Self.chunksBalanced(map))
    }
}

@Suite("large domUs build in time linear in their runs")
struct LargeDomUTests {
    @Test("a 64 GiB domU: 2 MiB superpages, one P2M run per superpage at most, M2P and ownership whole")
    func sixtyFourGiB() throws {
        // Before meminit_pv's superpages and the chunked maps: 16 M order-0 pages, hours.
        var host = try XenHost(e820: .qemuPC(ramBytes: 80 << 30))
        let pages: UInt64 = 16 << 20
        let guest = try host.buildPVDomU(id: DomID(1), pages: pages)
        let runs = guest.p2m.runs(count: pages)
        #expect(host.domains[DomID(1)]?.totPages == pages)
        #expect(runs.reduce(0) { $0 + $1.count } == pages)
        // Superpages come from the top of their blocks downwards: no two continue each other.
        #expect(runs.count == 32768)
        #expect(
            runs.allSatisfy { r in
                guard case .machine(let b) = r.value else { return false }
                return r.start % 512 == 0 && r.count % 512 == 0 && b.rawValue % 512 == 0
            })
        // Zone 25's blocks are dirty: the clean pass rotates its first (0x1000000) to the tail,
        // the second pass takes 0x1040000 and hands out its top 2 MiB.
        #expect(guest.p2m.pfnToMFN(PFN(0)).rawValue == 0x107_fe00)
        for pfn in [UInt64(0), 511, 512, pages / 2, pages - 1] {
            #expect(host.m2p.entry(guest.p2m.pfnToMFN(PFN(pfn))) == pfn)
        }
    }

    @Test("200000 order-0 pages from 256-frame blocks: one run each, the M2P inserted top down per block")
    func orderZeroPages() throws {
        // 1024 blocks of 256 frames, 512 apart: no 2 MiB superpage anywhere.
        let regions: [Range<UInt64>] = (0..<UInt64(1024)).map { i in
            let base: UInt64 = 0x1000 + 512 * i
            return base..<(base + 256)
        }
        var host = try XenHost(e820: .qemuPC(ramBytes: 4 << 30), bootRegions: regions.map { Range(raw: $0) }, inventory: [])
        let pages: UInt64 = 200_000
        let guest = try host.buildPVDomU(id: DomID(1), pages: pages)
        let runs = guest.p2m.runs(count: pages)
        #expect(runs.count == Int(pages))
        #expect(host.m2p.runs.extentCount == Int(pages))
        #expect(host.heap.freePages == 1024 * 256 - pages)
        // The highest zone's (20: frames 0x80000 on) first block on its list, from its top
        // frame down: block 1016 at 0x80000.
        #expect(guest.p2m.pfnToMFN(PFN(0)).rawValue == 0x800ff)
        #expect(guest.p2m.pfnToMFN(PFN(255)).rawValue == 0x80000)
        for pfn in [UInt64(0), 255, 256, pages - 1] {
            #expect(host.m2p.entry(guest.p2m.pfnToMFN(PFN(pfn))) == pfn)
        }
    }
}
