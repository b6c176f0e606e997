import Swiotlb
import Testing

@testable import XenModel

#if canImport(Glibc)
    import Glibc
#endif

/// The repository's docs/examples folder, found from this file.
let examplesDirectory: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/") + "/docs/examples"
}()

func readText(_ path: String) throws -> String {
    guard let f = fopen(path, "r") else { throw ScenarioError(file: path, line: nil, path: "", message: "cannot open") }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&buf, 1, buf.count, f)
        bytes += buf[0..<n]
        if n < buf.count { break }
    }
    return String(decoding: bytes, as: UTF8.self)
}

func example(_ name: String) throws -> Scenario {
    try ScenarioParser.parse(try readText("\(examplesDirectory)/\(name)"), file: name)
}

@Suite("example scenarios")
struct ExampleScenarioTests {
    @Test("the embedded default is docs/examples/rfc-xen-dom0.yaml")
    func embeddedDefault() throws {
        #expect(DefaultScenario.yaml == (try readText("\(examplesDirectory)/rfc-xen-dom0.yaml")))
    }

    @Test("RFC Xen PV dom0: 128 MB low and 2048 MB high pool; NVMe in the high pool, the 32-bit NIC in the low one")
    func rfcXenDom0() throws {
        let r = WorkloadRunner.run(try example("rfc-xen-dom0.yaml"))
        #expect(r.boot.failure == nil && r.kernelBug == nil)
        guard case .consumedByRun = r.boot.state else { Issue.record("the run left its engine in the boot"); return }
        let tlb = r.boot.kernelLog.filter { $0.hasPrefix("software IO TLB:") }
        #expect(tlb.count == 2)
        #expect(tlb[0].hasPrefix("software IO TLB: Low Mem mapped [mem 0x") && tlb[0].hasSuffix("] (128MB)"))
        #expect(tlb[1].hasPrefix("software IO TLB: High Mem mapped [mem 0x") && tlb[1].hasSuffix("] (2048MB)"))
        #expect(r.boot.xenLog.contains(" Dom0 alloc.:   0000000438000000->0000000440000000 (2326528 pages to be allocated)"))
        #expect(r.pools.map(\.nslabs) == [65536, 1_048_576])
        // 16 queues × 32 in flight × 128 slots of 256 KiB.
        #expect(r.pools[1].peakUsed == 65536)
        #expect(r.pools[0].peakUsed == 128)  // 128 NIC buffers of 1514 bytes, one slot each
        #expect(r.pools.allSatisfy { $0.fullFailures == 0 && $0.finalUsed == 0 })
        #expect(r.devices[0].bounced == 32000 && r.devices[0].direct == 0 && r.devices[0].bytesCopied == 32000 * 262_144)
        #expect(r.devices[1].bounced == 4000)
        #expect(r.debugfs.map(\.file) == ["io_tlb_nslabs", "io_tlb_used", "io_tlb_nslabs-highmem", "io_tlb_used-highmem"])
        #expect(r.debugfs.map(\.value) == [65536, 0, 1_048_576, 0])
    }

    @Test("RFC SEV guest: io_tlb_used stays 0, the 64-bit device fills the high pool")
    func rfcSEV() throws {
        let r = WorkloadRunner.run(try example("rfc-sev-guest.yaml"))
        #expect(r.boot.failure == nil)
        #expect(r.boot.kernelLog.contains("AMD Memory Encryption Features active: SEV"))
        #expect(r.pools[0].peakUsed == 0 && r.pools[1].peakUsed == 128 * 64)
        #expect(r.devices[0].bounced == 20000 && r.devices[0].direct == 0)
    }

    @Test("little memory below 4 GiB: the first segment climbs dma_bits 18…32")
    func lowMemory() throws {
        let r = WorkloadRunner.run(try example("low-memory-dom0.yaml"))
        #expect(r.boot.failure == nil)
        #expect(r.boot.exchanges.prefix(15).map(\.addressBits) == Array(18...32))
        #expect(r.boot.exchanges.dropFirst(14).allSatisfy { $0.addressBits == 32 && $0.mfn != nil })
        #expect(r.boot.exchanges.count == 14 + 256)
        #expect(r.pools[0].fullFailures == 0)
    }

    @Test("31 MiB free below 4 GiB: halving does not help an early boot; v5.11 panics")
    func lowMemoryExhausted() throws {
        let r = WorkloadRunner.run(try example("low-memory-dom0-exhausted.yaml"))
        #expect(r.boot.failure == .xenSwiotlbSetUp(rc: -12))
        #expect(
            r.boot.kernelLog.filter { $0.hasPrefix("xen:swiotlb_xen: Lowering") } == [
                "xen:swiotlb_xen: Lowering to 32MB", "xen:swiotlb_xen: Lowering to 16MB", "xen:swiotlb_xen: Lowering to 8MB",
            ])
        #expect(
            r.boot.kernelLog.last
                == "You either: don't have the permissions, do not have enough free memory under 4GB, or the hypervisor memory is too fragmented! (rc:-12)")
        // The first attempt got the 123 aligned 256 KiB extents of the last 31 MiB
        // (MFN 0xbe100–0xbffdc); the retries got none.
        #expect(r.boot.exchanges.filter { $0.mfn != nil }.count == 123)
    }

    @Test("fragmentation: full with free slots left")
    func fragmentation() throws {
        let r = WorkloadRunner.run(try example("fragmentation.yaml"))
        #expect(r.pools[0].fullFailures == 299 && r.pools[0].peakUsed == 940)
        #expect(r.messages.first == "0000:00:07.0: swiotlb buffer is full (sz: 262144 bytes), total 1024 (slots), used 517 (slots)")
        #expect(r.devices[1].failed == 299 && r.devices[0].failed == 0)
    }

    @Test("1 TiB dom0 on a 4 TiB host")
    func terabyte() throws {
        let r = WorkloadRunner.run(try example("terabyte-host.yaml"))
        #expect(r.boot.failure == nil)
        #expect(r.boot.kernelLog.contains("software IO TLB: mapped [mem 0x0000010030061000-0x0000010040061000] (256MB)"))
        #expect(r.devices[0].bounced == 5000 && r.devices[1].direct == 5000)
        #expect(r.devices[0].coherentAllocations == 32 && r.devices[0].coherentExchanged == 32)
        #expect((r.boot.p2m?.runs().count ?? .max) < 5000)
    }

    @Test("identical inputs and seed give byte-identical reports; another seed differs")
    func determinism() throws {
        let s = try example("fragmentation.yaml")
        let a = WorkloadRunner.run(s), b = WorkloadRunner.run(s)
        #expect(TextReport.render(a) == TextReport.render(b))
        #expect(JSONReport.render(a) == JSONReport.render(b))
        #expect(SVGPlot.render(a) == SVGPlot.render(b))
        var other = s
        other.workload.seed = 99
        #expect(JSONReport.render(WorkloadRunner.run(other)) != JSONReport.render(a))
    }
}
