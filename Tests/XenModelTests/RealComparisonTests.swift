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
        let real = try RealCapture(
            p2m: try PFNListDump.read(iterator(commandOutputLines("xz -dc '\(realXenDefaultFixture)/dom0-p2m.txt.xz'"))),
            m2p: try M2PDump.read(iterator(commandOutputLines("xz -dc '\(realXenDefaultFixture)/dump-m2p.txt.xz'"))),
            xenLog: commandOutputLines("cat '\(realXenDefaultFixture)/serial.log'").filter { $0.hasPrefix("(XEN)") },
            kernelLog: commandOutputLines("cat '\(realXenDefaultFixture)/dom0-dmesg.txt'"),
            debugfs: try SwiotlbDebugfs.read(lines: commandOutputLines("cat '\(realXenDefaultFixture)/swiotlb-debugfs-after.txt'")))
        let run = WorkloadRunner.run(try example("real-xen-default.yaml"))
        let agreements = RealComparison.compare(run, real)
        #expect(agreements.map(\.name) == ["P2M entries", "P2M runs", "swiotlb segments", "M2P entries of domain frames", "log lines", "debugfs values"])
        #expect(agreements.map(\.identical) == [196705, 657, 256, 196608, 13, 2])
        #expect(agreements.map(\.total) == [196705, 657, 256, 196608, 13, 2])
        #expect(agreements.allSatisfy { $0.differences.isEmpty })
        #expect(run.boot.xenLog.contains(" Dom0 alloc.:   0000000070000000->0000000078000000 (162927 pages to be allocated)"))
        // Linux 6.1's lines, in its order.
        #expect(
            Array(run.boot.kernelLog.suffix(3)) == [
                "software IO TLB: area num 2.",
                "PCI-DMA: Using software bounce buffering for IO (SWIOTLB)",
                "software IO TLB: mapped [mem 0x000000002ac00000-0x000000002ec00000] (64MB)",
            ])
    }

    @Test("swiotlb segments: alike only when both sides place the whole segment the same way; a model P2M cut short differs")
    func segments() {
        let real = [
            SegmentPlacement(pfn: PFN(0x100), pages: 64, firstEntry: .machine(base: MFN(0x2000)), uniform: true),
            SegmentPlacement(pfn: PFN(0x140), pages: 64, firstEntry: .machine(base: MFN(0x3000)), uniform: true),
            SegmentPlacement(pfn: PFN(0x180), pages: 64, firstEntry: .machine(base: MFN(0x4000)), uniform: true),
        ]
        let model = [real[0], SegmentPlacement(pfn: PFN(0x140), pages: 64, firstEntry: .machine(base: MFN(0x3000)), uniform: false)]
        let a = RealComparison.segmentAgreement(real: real, model: model)
        #expect(a.line == "swiotlb segments: 1 of 3 identical (33.33%)")
        #expect(
            a.differences == [
                "segment at pfn 0x140: real machine(base: 12288), model machine(base: 12288)",
                "segment at pfn 0x180: real machine(base: 16384), model none",
            ])
    }

    @Test("debugfs captures: values read, listings skipped, a bad count named by line and file")
    func debugfs() throws {
        let capture = commandOutputLines("cat '\(realXenDefaultFixture)/swiotlb-debugfs.txt'")
        let values = try SwiotlbDebugfs.read(lines: capture)
        #expect(values.map(\.file) == ["io_tlb_nslabs", "io_tlb_used"])
        #expect(values.map(\.value) == [32768, 0])
        let rfc = try SwiotlbDebugfs.read(lines: ["/sys/kernel/debug/swiotlb/io_tlb_nslabs-highmem: 1048576", "rc=0"])
        #expect(rfc.map(\.file) == ["io_tlb_nslabs-highmem"] && rfc.map(\.value) == [1_048_576])
        do {
            _ = try SwiotlbDebugfs.read(lines: ["/sys/kernel/debug/swiotlb/io_tlb_nslabs: 32768", "/sys/kernel/debug/swiotlb/io_tlb_used: 12x"])
            Issue.record("a bad count was read")
        } catch {
            #expect(error.description == "line 2: io_tlb_used: expected a decimal count, got '12x'")
        }
        // The model's own values after a run agree with themselves and differ where they should.
        let a = RealComparison.debugfsAgreement(real: [("io_tlb_nslabs", 32768), ("io_tlb_used", 5)], model: [("io_tlb_nslabs", 32768), ("io_tlb_used", 0)])
        #expect(a.identical == 1 && a.total == 2 && a.differences == ["io_tlb_used: real 5, model 0"])
    }

    @Test("a repeated M2P chunk over a RAM hole is recognised")
    func repeatedChunk() {
        var m2p = HostM2P(maxPage: 3 << 18)
        m2p.set(MFN(5), count: 10, to: PFN(100))
        m2p.set(MFN((1 << 18) + 5), count: 10, to: PFN(100))  // chunk 1 repeats chunk 0
        m2p.set(MFN((2 << 18) + 7), count: 3, to: PFN(900))
        #expect(M2PDump.repeatedChunks(m2p) == [(1 << 18)..<(2 << 18)])
        // `xenpv import` counts the valid entries without the copy: 10 + 3 of 23.
        #expect(
            M2PDump.summaryLines(m2p) == [
                "M2P: 786432 entries (max_page), 13 valid",
                "  mfn 0x40000-0x7ffff: repeated chunk (not RAM): a copy of the previous 262144 entries, as Xen reports a hole in its M2P",
            ])
    }
}
