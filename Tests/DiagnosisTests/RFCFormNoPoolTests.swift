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
