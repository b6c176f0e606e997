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
                "segment at pfn 0x140: real mfn 0x3000, model mfn 0x3000",
                "segment at pfn 0x180: real mfn 0x4000, model none",
            ])
    }

    @Test("P2M runs: a real run is alike only when the model holds it whole; each other one named in Xen's words")
    func runs() {
        var real = ExtentMap<P2MRun>(), model = ExtentMap<P2MRun>()
        real.append(start: 0, count: 0x9f, value: .machine(base: MFN(0x7_0000)))
        real.append(start: 0x9f, count: 0x61, value: .identity)
        real.append(start: 0x100, count: 0x10, value: .foreign(base: MFN(0x1234)))
        real.append(start: 0x110, count: 0x10, value: .missing)
        model.append(start: 0, count: 0x9f, value: .machine(base: MFN(0x7_0000)))
        model.append(start: 0x9f, count: 0x60, value: .identity)
        model.append(start: 0xff, count: 0x21, value: .machine(base: MFN(0x1234)))
        let p2m = { (e: ExtentMap<P2MRun>) in P2MDumpContents(domid: 0, size: 0x120, entries: e, types: ExtentMap<PageTypeRun>()) }
        let a = RealComparison.p2mRunAgreement(real: p2m(real), model: p2m(model))
        #expect(a.line == "P2M runs: 1 of 4 identical (25.00%)")
        #expect(
            a.differences == [
                "real run pfn 0x9f ×97 → identity is not in the model",
                "real run pfn 0x100 ×16 → foreign mfn 0x1234 is not in the model",
                "real run pfn 0x110 ×16 → missing is not in the model",
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
        var m2p = HostM2P(maxPage: MFN(3 << 18))
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
