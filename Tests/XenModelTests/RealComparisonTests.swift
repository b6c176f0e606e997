import Testing
import XenDumps
import XenMemory
import XenPVTestSupport
@testable import XenModel
#if canImport(Glibc)
import Glibc
#endif

func iterator(_ lines: [Substring]) -> () -> Substring? {
    var it = lines.makeIterator()
    return { it.next() }
}

@Suite("the model against the real capture")
struct RealComparisonTests {
    @Test("compare-real: every P2M entry, run, swiotlb segment, M2P entry and log line identical")
    func frameForFrame() throws {
        #expect(isReadable("\(realXenDefaultFixture)/dom0-p2m.txt.xz"), "shared/ must sit beside the repository")
        let real = RealCapture(
            p2m: try PFNListDump.read(iterator(commandOutputLines("xz -dc '\(realXenDefaultFixture)/dom0-p2m.txt.xz'"))),
            m2p: try M2PDump.read(iterator(commandOutputLines("xz -dc '\(realXenDefaultFixture)/dump-m2p.txt.xz'"))),
            xenLog: commandOutputLines("cat '\(realXenDefaultFixture)/serial.log'").filter { $0.hasPrefix("(XEN)") },
            kernelLog: commandOutputLines("cat '\(realXenDefaultFixture)/dom0-dmesg.txt'"))
        let run = WorkloadRunner.run(try example("real-xen-default.yaml"))
        let agreements = RealComparison.compare(run, real)
        #expect(agreements.map(\.name) == ["P2M entries", "P2M runs", "swiotlb segments", "M2P entries of domain frames", "log lines"])
        #expect(agreements.map(\.identical) == [196705, 657, 256, 196608, 13])
        #expect(agreements.map(\.total) == [196705, 657, 256, 196608, 13])
        #expect(agreements.allSatisfy { $0.differences.isEmpty })
        #expect(run.boot.xenLog.contains(" Dom0 alloc.:   0000000070000000->0000000078000000 (162927 pages to be allocated)"))
        // Linux 6.1's lines, in its order.
        #expect(Array(run.boot.kernelLog.suffix(3)) == ["software IO TLB: area num 2.",
                                                        "PCI-DMA: Using software bounce buffering for IO (SWIOTLB)",
                                                        "software IO TLB: mapped [mem 0x000000002ac00000-0x000000002ec00000] (64MB)"])
    }

    @Test("a repeated M2P chunk over a RAM hole is recognised")
    func repeatedChunk() {
        var m2p = HostM2P(maxPage: 3 << 18)
        m2p.set(MFN(5), count: 10, to: PFN(100))
        m2p.set(MFN((1 << 18) + 5), count: 10, to: PFN(100))   // chunk 1 repeats chunk 0
        m2p.set(MFN((2 << 18) + 7), count: 3, to: PFN(900))
        #expect(M2PDump.repeatedChunks(m2p) == [(1 << 18)..<(2 << 18)])
    }
}
