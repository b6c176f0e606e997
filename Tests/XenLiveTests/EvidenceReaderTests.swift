import Testing
import XenDumps
import XenLive
import XenMemory
import XenModel

/// What the command layer used to hold: dump sniffing, the kmsg record text, capture names, the
/// P2M and agreement JSON.
@Suite("evidence readers and reports in the libraries")
struct EvidenceReaderTests {
    @Test("a dump's format from its first line")
    func sniffing() {
        #expect(DumpFormat(firstLine: " --- Dumping M2P ---") == .m2p)
        #expect(DumpFormat(firstLine: " --- Dumping P2M for domain 0 ---") == .p2m)
        #expect(DumpFormat(firstLine: "# pfn raw_entry") == .pfnList)
        #expect(DumpFormat(firstLine: "0 1c0") == .pfnList)
        #expect(DumpFormat(firstLine: "--- Dumping M2P ---") == nil)
        #expect(DumpFormat(firstLine: "") == nil)
    }

    @Test("a pfn list read through its format")
    func readThroughFormat() throws {
        let buffers = ["# pfn raw_entry", "0 1c0", "1 1c1"].map { line in
            let b = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: line.utf8.count)
            _ = b.initialize(from: line.utf8)
            return UnsafeBufferPointer(b)
        }
        defer { for b in buffers { b.deallocate() } }
        var lines = buffers.makeIterator()
        let source: DumpLineSource = { lines.next() }
        guard case .p2m(let p2m) = try DumpFormat.pfnList.read(lines: source) else { Issue.record("not a P2M"); return }
        #expect(p2m.size == 2)
        #expect(p2m.entries.extents == [Extent(start: 0, count: 2, value: .machine(base: MFN(0x1c0)))])
    }

    @Test("a /dev/kmsg record's message text")
    func kmsgRecord() {
        let record = Array("6,339,5140900,-;software IO TLB: mapped [mem 0x2ac00000-0x2ec00000] (64MB)\n".utf8)
        #expect(KernelMessages.messageText(ofRecord: record[...]) == "software IO TLB: mapped [mem 0x2ac00000-0x2ec00000] (64MB)\n")
        #expect(KernelMessages.messageText(ofRecord: Array("no separator".utf8)[...]) == "")
    }

    @Test("capture file names: the dumps may be compressed, the logs may not")
    func captureNames() {
        #expect(CaptureFileKind.of("dump-p2m.txt.xz") == .p2m)
        #expect(CaptureFileKind.of("dom0-p2m.txt") == .p2m)
        #expect(CaptureFileKind.of("dump-m2p.txt.gz") == .m2p)
        #expect(CaptureFileKind.of("serial.log.xz") == nil)
        #expect(CaptureFileKind.of("swiotlb-debugfs-after.txt") == .debugfsAfter)
        #expect(CaptureFileKind.expected.hasPrefix("dom0-p2m.txt[.xz|.gz] or dump-p2m.txt[.xz|.gz], dump-m2p.txt[.xz|.gz], serial.log, "))
    }

    @Test("the P2M summary's JSON and the agreement JSON, schema 1")
    func json() {
        var entries = ExtentMap<P2MRun>()
        entries.append(start: 0, count: 64, value: .machine(base: MFN(0x1c0)))
        entries.append(start: 64, count: 1, value: .identity)
        let p2m = P2MDumpContents(domid: 0, size: 65, entries: entries, types: ExtentMap<PageTypeRun>())
        let s = P2MSummary(p2m, source: .dump, m2p: nil, pools: [SwiotlbPoolLocation(start: PhysicalAddress(0), nslabs: 128)])
        #expect(
            s.json.rendered() == """
                {
                  "schema": 1,
                  "domain": 0,
                  "entries": 65,
                  "source": "read from an xen-mfndump dump",
                  "ram": 64,
                  "identity": 1,
                  "missing": 0,
                  "foreign": 0,
                  "ram_below_4g": 64,
                  "contiguous_runs": 1,
                  "longest_run": {
                    "pfn": 0,
                    "mfn": 448,
                    "pages": 64
                  },
                  "run_length_histogram": [\((0..<41).map { $0 == 6 ? "1" : "0" }.joined(separator: ", "))],
                  "m2p_mismatches": null,
                  "pools": [
                    [
                      {
                        "pfn": 0,
                        "mfn": 448,
                        "pages": 64,
                        "contiguous": true,
                        "below_4g": true
                      }
                    ]
                  ]
                }
                """)
        let a = Agreement(name: "log lines", identical: 12, total: 13, differences: ["E820 line 1: real 'a', model 'b'"])
        #expect(
            RealComparison.json(scenario: "s", [a]).rendered() == """
                {
                  "schema": 1,
                  "scenario": "s",
                  "categories": [
                    {
                      "name": "log lines",
                      "identical": 12,
                      "total": 13,
                      "first_differences": ["E820 line 1: real 'a', model 'b'"]
                    }
                  ]
                }
                """)
    }
}
