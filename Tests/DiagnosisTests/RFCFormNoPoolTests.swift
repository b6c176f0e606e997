import Swiotlb
import Testing

@testable import Diagnosis

/// The RFC's `swiotlb=65536,1048576,force` on a 6.x PV dom0: 1,048,576 areas, the pool rounded
/// up to 262144 MB and halved until every remap failed — no pool. The line to paste is the RFC's
/// low pool alone, not the default with the same absurd area count.
@Suite("no pool after the RFC's command line on 6.x")
struct RFCFormNoPoolTests {
    @Test("6.18 and 6.1: no-pool names the area reading and recommends swiotlb=65536,force; v5.11 keeps the default")
    func rfcFormWithoutPool() throws {
        for release in ["v6.1", "v6.18"] {
            var e = Evidence(kernel: try #require(DiagnosedKernel(release)), kernelSource: "test")
            e.commandLine = ("console=hvc0 swiotlb=65536,1048576,force", "scenario: guest.cmdline")
            e.noPool = ["boot log: software IO TLB: No low mem"]
            let d = Diagnoser.diagnose(e)
            #expect(d.verdicts.map(\.kind) == [.noPool])
            #expect(
                d.verdicts.first?.explanation.hasSuffix(
                    "\(release) reads swiotlb=65536,1048576,force as 1048576 areas (at least 128 slots each), not the RFC's high pool of 1048576 slots: write the pool's size alone"
                ) == true)
            #expect(d.recommendation?.cmdline == "swiotlb=65536,force")
        }
        var old = Evidence(kernel: try #require(DiagnosedKernel("v5.11")), kernelSource: "test")
        old.commandLine = ("swiotlb=noforce", "cmdline")
        old.noPool = ["boot log: no pool"]
        old.failures = [Evidence.Failure(device: "nvme0", size: 4096, neededSlots: 2, used: 0, total: 0, source: "x")]
        #expect(Diagnoser.diagnose(old).recommendation?.cmdline == "swiotlb=32768")
    }
}

/// 6.18's `oversized` recommendation: the areas of the line to paste, not the pool's own
/// `limit_nareas` count; at least 128 slots per area and a power of two.
@Suite("oversized on 6.18: the recommended line's areas")
struct OversizedAreasTests {
    @Test("the RFC's line halved to 524288 slots in 4096 limited areas: swiotlb=32768,force, not 32768,128")
    func rfcFormHalved() throws {
        var e = Evidence(kernel: try #require(DiagnosedKernel("v6.18")), kernelSource: "test")
        e.commandLine = ("swiotlb=4096,65536,force", "scenario: guest.cmdline")
        e.possibleCPUs = 65536  // what the log's `area num 65536.` shows: the command line's count
        e.setupLines = ["boot log:14: software IO TLB: SWIOTLB bounce buffer size roundup to 16384MB"]
        e.allocationFailed = true
        e.pools = [Evidence.Pool(nslabs: 524288, areas: 4096, highWater: 8320, used: 0, source: "swiotlb pool")]
        let d = Diagnoser.diagnose(e)
        #expect(d.verdicts.map(\.kind) == [.cmdlineNotApplied, .oversized])
        // 2 × 8320 = 16640 slots, one area (the form without areas; CPUs unknown), a power of two.
        #expect(d.recommendation?.cmdline == "swiotlb=32768,force")
        #expect(
            d.verdicts.last?.evidence.last
                == "4096 areas: the set-up halved the pool and limit_nareas left one area per 128 slots of it (swiotlb= asked for 65536)")
    }

    @Test("given areas: as many as the smaller pool holds at 128 slots each (64 → 16 for 2048 slots)")
    func givenAreas() throws {
        var e = Evidence(kernel: try #require(DiagnosedKernel("v6.18")), kernelSource: "test")
        e.commandLine = ("swiotlb=262144,64", "cmdline")
        e.pools = [Evidence.Pool(nslabs: 262144, areas: 64, highWater: 1000, used: 0, source: "swiotlb pool")]
        let d = Diagnoser.diagnose(e)
        #expect(d.verdicts.map(\.kind) == [.oversized])
        #expect(d.recommendation?.cmdline == "swiotlb=2048,16")
        let setup = try #require(Linux61PoolSetup(requested: 2048, areas: 16))
        #expect(setup.nslabs == 2048 && setup.areaSlots == 128 && !setup.roundedUp)
    }
}
