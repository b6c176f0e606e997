import Testing
import XenDumps
import XenMemory

@Suite("a bounce pool's segments placed in a P2M (one analysis for the summary and the real comparison)")
struct PoolSegmentTests {
    /// pfns 0x100… : 64 pages at mfn 0x2000, 64 pages split at mfn 0x3000/0x5020, 16 identity,
    /// then the P2M ends at 0x1b0 while the pool (three segments, 0x100-0x1bf) goes on.
    func p2m() -> P2MDumpContents {
        var entries = ExtentMap<P2MRun>()
        entries.append(start: 0, count: 0x100, value: .machine(base: MFN(0x10000)))
        entries.append(start: 0x100, count: 64, value: .machine(base: MFN(0x2000)))
        entries.append(start: 0x140, count: 32, value: .machine(base: MFN(0x3000)))
        entries.append(start: 0x160, count: 32, value: .machine(base: MFN(0x5020)))
        entries.append(start: 0x180, count: 0x30, value: .identity)
        return P2MDumpContents(domid: 0, size: 0x1b0, entries: entries, types: ExtentMap<PageTypeRun>())
    }

    @Test("contiguous, split and identity segments; the last cut at the end of the P2M")
    func placements() {
        let pool = SwiotlbPoolLocation(start: PhysicalAddress(0x100000), nslabs: 0xc0 * 2)
        let segments = pool.segments(in: p2m())
        #expect(
            segments == [
                SegmentPlacement(pfn: PFN(0x100), pages: 64, firstEntry: .machine(base: MFN(0x2000)), uniform: true),
                SegmentPlacement(pfn: PFN(0x140), pages: 64, firstEntry: .machine(base: MFN(0x3000)), uniform: false),
                SegmentPlacement(pfn: PFN(0x180), pages: 0x30, firstEntry: .identity, uniform: true),
            ])
        #expect(segments.map(\.contiguous) == [true, false, false])
        #expect(segments.map { $0.mfn?.rawValue } == [0x2000, 0x3000, nil])
        #expect(segments.map(\.below4G) == [true, true, false])
        #expect(segments[0].placesAlike(segments[0]) && !segments[1].placesAlike(segments[1]))
    }

    @Test("a segment reaching past 4 GiB of machine memory is not below it")
    func straddles4G() {
        var entries = ExtentMap<P2MRun>()
        entries.append(start: 0, count: 128, value: .machine(base: MFN(0xfffe0)))
        let p2m = P2MDumpContents(domid: 0, size: 128, entries: entries, types: ExtentMap<PageTypeRun>())
        let segments = SwiotlbPoolLocation(start: PhysicalAddress(0), nslabs: 256).segments(in: p2m)
        #expect(segments.map(\.below4G) == [false, false])
        #expect(segments.map(\.contiguous) == [true, true])
        #expect(segments.map { $0.mfn?.rawValue } == [0xfffe0, 0x100020])
    }

    @Test("a pool that starts beyond the P2M has no segments in it")
    func beyond() {
        #expect(SwiotlbPoolLocation(start: PhysicalAddress(0x1b0000), nslabs: 128).segments(in: p2m()).isEmpty)
    }
}
