import Testing
import XenLive
import XenMemory

@testable import XenDumps

@Suite("swiotlb pool lines: validated, and placed in linear time")
struct PoolLocationTests {
    func parse(_ line: String) -> DumpError? {
        do { _ = try SwiotlbPoolLocation.parse(kernelLog: ["[    0.1] other", Substring(line)]); return nil } catch { return error }
    }

    @Test("a mapped line whose range is reversed, too wide, unaligned, empty or malformed is an error naming its line")
    func refused() {
        #expect(
            parse("software IO TLB: mapped [mem 0x0000000000000000-0xffffffffffffffff] (0MB)")
                == DumpError(line: 2, message: "software IO TLB: mapped [mem 0x0-0xffffffffffffffff]: beyond the 52-bit physical address space"))
        #expect(
            parse("software IO TLB: mapped [mem 0x000000002ec00000-0x000000002ac00000] (64MB)")
                == DumpError(line: 2, message: "software IO TLB: mapped [mem 0x2ec00000-0x2ac00000]: the end is not above the start"))
        #expect(
            parse("software IO TLB: mapped [mem 0x000000002ac00800-0x000000002ec00000] (64MB)")
                == DumpError(line: 2, message: "software IO TLB: mapped [mem 0x2ac00800-0x2ec00000]: the start is not page aligned (4 KiB)"))
        #expect(
            parse("software IO TLB: mapped [mem 0x2ac00000-0x2ac00800] (0MB)")
                == DumpError(line: 2, message: "software IO TLB: mapped [mem 0x2ac00000-0x2ac00800]: smaller than one page (two 2 KiB slots)"))
        #expect(
            parse("software IO TLB: mapped [mem 0x2ac00000-0x12345678901234567] (64MB)")
                == DumpError(
                    line: 2,
                    message:
                        "software IO TLB: mapped [mem …]: expected '0x<start>-0x<end>]' (up to 16 hex digits each), got '0x2ac00000-0x12345678901234567] (64MB)'"
                ))
        #expect(parse("software IO TLB: mapped [mem 0x000000002ac00000-0x000000002ec00000] (64MB)") == nil)
    }

    @Test("a pool beyond the P2M is refused; the summary places only what lies within, at once")
    func beyondTheP2M() throws {
        let pool = try #require(try SwiotlbPoolLocation.parse(kernelLog: ["software IO TLB: mapped [mem 0x0000000000000000-0x0010000000000000] (x)"]).first)
        #expect(pool == SwiotlbPoolLocation(start: PhysicalAddress(0), nslabs: 1 << 41, line: 1))
        var entries = ExtentMap<P2MRun>()
        entries.append(start: 0, count: 1024, value: .machine(base: MFN(0x1000)))
        var types = ExtentMap<PageTypeRun>()
        types.append(start: 0, count: 1024, value: PageTypeRun(0))
        let p2m = P2MDumpContents(domid: 0, size: 1024, entries: entries, types: types)
        do {
            try pool.check(p2mSize: p2m.size)
            Issue.record("a pool of 2^40 pages fits a P2M of 1024 entries")
        } catch {
            #expect(
                error
                    == DumpError(
                        line: 1,
                        message: "software IO TLB: mapped [mem 0x0-…]: pfns 0x0-0xffffffffff reach beyond the P2M (1024 entries): a log of another domain?"))
        }
        let s = P2MSummary(p2m, source: .dump, m2p: nil, pools: [pool])
        #expect(s.poolSegments.map(\.count) == [16])
        #expect(s.poolSegments[0].allSatisfy { $0.contiguous && $0.pages == 64 && $0.below4G })
    }

    @Test("without an M2P the round trip is not checked, and the report says so", .timeLimit(.minutes(1)))
    func noM2P() {
        var entries = ExtentMap<P2MRun>()
        entries.append(start: 0, count: 4, value: .machine(base: MFN(0x100)))
        // A vast stretch of missing entries: counted per extent, not per entry.
        entries.append(start: 4, count: 1 << 40, value: .missing)
        let p2m = P2MDumpContents(domid: 3, size: 4 + 1 << 40, entries: entries, types: ExtentMap<PageTypeRun>())
        let s = P2MSummary(p2m, source: .dump, m2p: nil)
        #expect(!s.m2pChecked)
        #expect(s.lines.contains("  M2P round trip: not checked (no dump-m2p given)"))
        #expect(!s.lines.contains { $0.contains("every RAM entry maps back") })
        #expect(s.linearRuns == 1 + 1 << 40)
        #expect(s.missing == 1 << 40)
    }

    @Test("the first RAM frame at or above a limit")
    func firstFrame() {
        var entries = ExtentMap<P2MRun>()
        entries.append(start: 0, count: 16, value: .machine(base: MFN(0x100)))
        entries.append(start: 16, count: 4, value: .identity)
        entries.append(start: 20, count: 8, value: .machine(base: MFN(0x7fff8)))
        let p2m = P2MDumpContents(domid: 1, size: 28, entries: entries, types: ExtentMap<PageTypeRun>())
        #expect(p2m.firstFrame(notBelow: MFN(0x7fffc)).map { [$0.pfn.rawValue, $0.mfn.rawValue] } == [24, 0x7fffc])
        #expect(p2m.firstFrame(notBelow: MFN(0x110)).map { [$0.pfn.rawValue, $0.mfn.rawValue] } == [20, 0x7fff8])
        #expect(p2m.firstFrame(notBelow: MFN(0x10f)).map { [$0.pfn.rawValue, $0.mfn.rawValue] } == [15, 0x10f])
        #expect(p2m.firstFrame(notBelow: MFN(0x100000)) == nil)
    }
}
