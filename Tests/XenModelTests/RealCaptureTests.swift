import Testing
import XenMemory
import XenModel

@testable import XenDumps

@Suite("a real capture is checked as it is made")
struct RealCaptureTests {
    @Test("a pool line over the whole address space, or beyond the captured P2M, is refused with its line")
    func poolLines() throws {
        #expect(throws: DumpError(line: 2, message: "software IO TLB: mapped [mem 0x0-0xffffffffffffffff]: beyond the 52-bit physical address space")) {
            try RealCapture(
                p2m: nil, m2p: nil, xenLog: [], kernelLog: ["[ 0.1] Linux", "[ 1.9] software IO TLB: mapped [mem 0x0000000000000000-0xffffffffffffffff] (0MB)"])
        }
        var entries = ExtentMap<P2MRun>()
        entries.append(start: 0, count: 256, value: .machine(base: MFN(0x1000)))
        let p2m = P2MDumpContents(domid: 0, size: 256, entries: entries, types: ExtentMap<PageTypeRun>())
        #expect(
            throws: DumpError(
                line: 1, message: "software IO TLB: mapped [mem 0x0-…]: pfns 0x0-0x1ff reach beyond the P2M (256 entries): a log of another domain?")
        ) {
            try RealCapture(p2m: p2m, m2p: nil, xenLog: [], kernelLog: ["software IO TLB: mapped [mem 0x0000000000000000-0x0000000000200000] (2MB)"])
        }
        let fits = try RealCapture(p2m: p2m, m2p: nil, xenLog: [], kernelLog: ["software IO TLB: mapped [mem 0x0000000000000000-0x0000000000100000] (1MB)"])
        #expect(fits.pools == [SwiotlbPoolLocation(start: PhysicalAddress(0), nslabs: 512, line: 1)])
    }
}
