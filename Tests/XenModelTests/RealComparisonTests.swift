import Testing
import XenDumps
import XenMemory
@testable import XenModel
#if canImport(Glibc)
import Glibc
#endif

/// shared/fixtures/real-xen-default beside the repository.
let realFixture: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/") + "/../shared/fixtures/real-xen-default"
}()

func commandLines(_ command: String) -> [Substring] {
    guard let p = popen(command, "r") else { return [] }
    defer { pclose(p) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let k = fread(&buf, 1, buf.count, p)
        out += buf[0..<k]
        if k < buf.count { break }
    }
    return String(decoding: out, as: UTF8.self).split(whereSeparator: { $0.isNewline })
}

func iterator(_ lines: [Substring]) -> () -> Substring? {
    var it = lines.makeIterator()
    return { it.next() }
}

@Suite("the model against the real capture")
struct RealComparisonTests {
    @Test("compare-real: every P2M entry, run, swiotlb segment, M2P entry and log line identical")
    func frameForFrame() throws {
        #expect(access("\(realFixture)/dom0-p2m.txt.xz", R_OK) == 0, "shared/ must sit beside the repository")
        let real = RealCapture(
            p2m: try PFNListDump.read(iterator(commandLines("xz -dc '\(realFixture)/dom0-p2m.txt.xz'"))),
            m2p: try M2PDump.read(iterator(commandLines("xz -dc '\(realFixture)/dump-m2p.txt.xz'"))),
            xenLog: commandLines("cat '\(realFixture)/serial.log'").filter { $0.hasPrefix("(XEN)") },
            kernelLog: commandLines("cat '\(realFixture)/dom0-dmesg.txt'"))
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
