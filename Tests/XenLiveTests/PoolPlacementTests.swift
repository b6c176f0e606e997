import Testing
import XenDumps
import XenMemory

@Suite("pool placement in machine memory")
struct PoolPlacementTests {
    /// A P2M of `size` entries holding `parts` (pfn, count, run) and missing entries elsewhere.
    func p2m(_ size: UInt64, _ parts: [(UInt64, UInt64, P2MRun)]) -> P2MDumpContents {
        var entries = ExtentMap<P2MRun>()
        var next: UInt64 = 0
        for (pfn, count, run) in parts {
            entries.append(start: next, count: pfn - next, value: .missing)
            entries.append(start: pfn, count: count, value: run)
            next = pfn + count
        }
        entries.append(start: next, count: size - next, value: .missing)
        return P2MDumpContents(domid: 0, size: size, entries: entries, types: ExtentMap())
    }

    /// A pool of `pages` pages from `pfn`.
    func pool(_ pfn: UInt64, pages: UInt64) -> SwiotlbPoolLocation { SwiotlbPoolLocation(start: PFN(pfn).address, nslabs: pages * 2) }

    @Test("segments exchanged one by one: pieces merge only when pfn and mfn both continue")
    func pieces() {
        let m = p2m(0x2000, [(0x1000, 64, .machine(base: MFN(0x2000))), (0x1040, 64, .machine(base: MFN(0x2040))), (0x1080, 64, .machine(base: MFN(0x8000)))])
        let p = PoolPlacement(pool(0x1000, pages: 192), in: m)
        #expect(p.pieces == [.init(pfn: PFN(0x1000), mfn: MFN(0x2000), pages: 128), .init(pfn: PFN(0x1080), mfn: MFN(0x8000), pages: 64)])
        #expect(p.segmentCount == 3 && p.contiguousSegments == 3)
        #expect(p.lowestFrame == MFN(0x2000) && p.frameEnd == MFN(0x8040) && p.allBelow4G && p.notRAMPages == 0)
    }

    @Test("a break inside a segment makes that segment, and only it, not contiguous")
    func brokenSegment() {
        let p = PoolPlacement(pool(0, pages: 128), in: p2m(256, [(0, 96, .machine(base: MFN(0x100))), (96, 32, .machine(base: MFN(0x900)))]))
        #expect(p.contiguousSegments == 1 && p.pieces.count == 2 && p.frameEnd == MFN(0x920))
    }

    @Test("frames across the 4 GiB line and pages that are not RAM")
    func fourGiBAndHoles() {
        // 100 pages from pfn 0x40: 64 from mfn 0xfffe0 (32 below 4 GiB, 32 above), then 36 missing.
        let p = PoolPlacement(pool(0x40, pages: 100), in: p2m(0x200, [(0, 0x80, .machine(base: MFN(0xfffa0)))]))
        #expect(p.pagesAbove4G == 32 && p.notRAMPages == 36 && !p.allBelow4G)
        #expect(p.segmentCount == 2 && p.contiguousSegments == 1)
        #expect(p.lowestFrame == MFN(0xfffe0) && p.frameEnd == MFN(0x100020))
    }

    @Test("only the part of a pool within the P2M is placed")
    func clippedToP2M() {
        let p = PoolPlacement(pool(0x80, pages: 256), in: p2m(0x100, [(0, 0x100, .machine(base: MFN(0x1000)))]))
        #expect(p.pages == 0x80 && p.segmentCount == 2 && p.pieces == [.init(pfn: PFN(0x80), mfn: MFN(0x1080), pages: 0x80)])
    }
}
