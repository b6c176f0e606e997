import Testing
import XenPVTestSupport

@testable import XenMemory

@Suite("translation snapshot: lookup tables agree with the P2M and M2P they freeze")
struct TranslationSnapshotTests {
    /// A dom0 after the Linux set-up on a QEMU host of `ramMiB`, with `dom0_mem=<option>`.
    func dom0(ramMiB: UInt64, option: String) throws -> (XenHost, PVDomain)? {
        var host = try XenHost(e820: .qemuPC(ramBytes: ramMiB << 20))
        var cfg = Dom0BuildConfig()
        cfg.memory = try Dom0MemoryOption(parsing: option)
        guard let layout = try? host.buildDom0(cfg) else { return nil }
        var d = layout.domain
        _ = LinuxPVMemorySetup.run(
            host: &host, domain: &d, nrPages: layout.nrPages,
            maxReservation: layout.maxPages, map: GuestE820(dom0Layout: host.machineMemoryMap))
        return (host, d)
    }

    /// Keys worth checking: each run's edges, the table's special values and random keys.
    func keys(_ runs: [UInt64], _ rng: inout SplitMix64, span: UInt64) -> [UInt64] {
        var out: [UInt64] = [0, 1, ~0, ~0 - 1, 1 << 62, (1 << 62) - 1, 1 << 63, (1 << 63) | (1 << 62), 0x100000, 0xfffff]
        for s in runs { out += [s &- 1, s, s &+ 1] }
        for _ in 0..<2000 { out.append(rng.next() % span) }
        return out
    }

    @Test(
        "every run edge and random pfns and mfns, with and without ballooned extra memory",
        arguments: [(2048, "768M,max:768M"), (2048, "512M,max:1G"), (6144, "4G,max:4G"), (20480, "8G"), (3000, "-1G")])
    func agrees(ramMiB: UInt64, option: String) throws {
        guard let (host, d) = try dom0(ramMiB: ramMiB, option: option) else {
            Issue.record("dom0 did not build"); return
        }
        let snap = TranslationSnapshot(p2m: d.p2m, m2p: host.m2p)
        var rng = SplitMix64(seed: ramMiB)
        var edges = d.p2m.entries.extents.flatMap { [$0.start, $0.end] } + [d.p2m.p2mSize, d.p2m.maxP2MPfn.rawValue]
        edges += d.p2m.extraMemory.flatMap { [$0.lowerBound.rawValue, $0.upperBound.rawValue] }
        for pfn in keys(edges, &rng, span: d.p2m.maxP2MPfn.rawValue + 4096) {
            #expect(snap.pfnToMFNWord(PFN(pfn)) == d.p2m.pfnToMFNWord(PFN(pfn)), "pfn \(Hex.plain(pfn))")
            #expect(snap.pfnToMFN(PFN(pfn)) == d.p2m.pfnToMFN(PFN(pfn)), "pfn \(Hex.plain(pfn))")
        }
        // mfn_to_pfn is one table, whose own run edges are checked too.
        let validated = try #require(snap.validatedM2P)
        // Above the last frame every key is 1:1, so the quarter pieces merge and the table's
        // directory spans only real frames.
        #expect(try #require(validated.runList.last).start <= Swift.max(host.maxPage.rawValue, d.p2m.maxP2MPfn.rawValue))
        let m2pEdges = host.m2p.runs.extents.flatMap { [$0.start, $0.end] } + [host.maxPage.rawValue] + validated.runList.map(\.start)
        for mfn in keys(m2pEdges, &rng, span: host.maxPage.rawValue + 4096) {
            #expect(snap.m2p.lookup(mfn) == host.m2p.lookup(MFN(mfn)), "M2P mfn \(Hex.plain(mfn))")
            #expect(snap.mfnToPFN(MFN(mfn)) == d.p2m.mfnToPFN(MFN(mfn), m2p: host.m2p), "mfn_to_pfn \(Hex.plain(mfn))")
        }
        // A bulk read equals single lookups, across run edges.
        let start = d.p2m.entries.extents[min(2, d.p2m.entries.extents.count - 1)].start &- 3
        var words = [UInt64](repeating: 0, count: 70_000)
        words.withUnsafeMutableBufferPointer { snap.p2m.lookup(from: start, into: $0) }
        #expect(words.enumerated().allSatisfy { $0.element == d.p2m.pfnToMFNWord(PFN(start + UInt64($0.offset))).rawValue })
    }

    @Test("a bucket holding many runs (the physmap's single pages) is searched, not scanned past")
    func denseBucket() {
        var runs: [FrameTranslationTable.Run] = [.constant(start: 0, ~0)]
        for k in 0..<600 { runs.append(.linear(start: 0x8000 + UInt64(k), base: 0x7fff - UInt64(k))) }
        runs.append(.keyWithBits(start: 0x8000 + 600, 1 << 62))
        let t = FrameTranslationTable(runs: runs)
        #expect(t.lookup(0x7fff) == ~0)
        for k in 0..<600 { #expect(t.lookup(0x8000 + UInt64(k)) == 0x7fff - UInt64(k)) }
        #expect(t.lookup(0x8000 + 600) == (0x8000 + 600) | (1 << 62))
        #expect(t.lookup(~0) == ~0)
    }
}
