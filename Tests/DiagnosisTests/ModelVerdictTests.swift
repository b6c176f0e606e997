import Diagnosis
import Testing
import XenModel

/// Verdicts and sizing advice of model runs.
@Suite struct ModelVerdictTests {
    static let host = "schema: 1\nhost: {ram: 2G}\nxen: {dom0_mem: 768M}\n"

    /// A trace stream that leaves a buffer mapped: the run reports it (still mapped, counted in
    /// the pool's final use) instead of unmapping it, and the verdict is a leak of that device.
    @Test func traceStreamLeftMapped() throws {
        let text =
            Self.host
            + "guest: {type: pv-dom0, cmdline: swiotlb=force}\ndevices: [{name: wifi, dma_bits: 64}]\nworkload: {streams: [{trace: {device: wifi, file: t.trace}}]}"
        let s = try ScenarioParser.parse(text, file: "s.yaml") { _ in
            [
                "pool nslabs=128 start=0x0", "map id=1 orig=0x2000000 size=4096 dir=to_device", "map id=2 orig=0x2100000 size=2048 dir=from_device",
                "unmap id=1",
            ]
        }
        let r = WorkloadRunner.run(s)
        #expect(r.stillMapped == [Evidence.StillMapped(device: "wifi", count: 1, bytes: 2048, firstIDs: ["2"], source: "workload.streams[0] (trace)")])
        #expect(r.pools[0].finalUsed == 1)
        let d = RunEvidence.diagnose(r)
        #expect(d.verdicts.map(\.kind) == [.leak])
        #expect(d.verdicts[0].device == "wifi")
        let report = TextReport.render(r)
        let section = try #require(report.firstIndex(of: "== still mapped at the end (trace streams)"))
        #expect(report[section + 2].split(separator: " ") == ["wifi", "workload.streams[0]", "(trace)", "1", "2048", "2"])
    }

    /// `size`'s advice on a `swiotlb=65536,force` host: the force mode stays, the MB are exact,
    /// and the recommendation has headroom over a margin of 0.
    @Test func sizeKeepsForce() throws {
        let s = try ScenarioParser.parse(
            Self.host + "guest: {type: pv-dom0, kernel: v5.11, cmdline: 'swiotlb=65536,force'}\ndevices: [{name: a, dma_bits: 64}]", file: "s.yaml")
        let advice = SizingAdvice(s, [PoolSizing(pool: "swiotlb", configuredSlots: 65536, slots: 1280, peakUsed: 1280, runs: 9)])
        #expect(
            advice.lines == [
                "swiotlb: smallest without failures 1280 slots = 2621440 bytes (2.5 MB), peak 1280 used (margin 0 slots); configured 65536 slots; 9 runs",
                "swiotlb: recommended 2560 slots = 5242880 bytes (5 MB): 2 × the peak, as the kernel rounds it",
                "paste: swiotlb=2560,force",
            ])
    }

    /// The RFC: both pools named, the high pool's size in the second place.
    @Test func sizeNamesBothRFCPools() throws {
        let s = try ScenarioParser.parse(
            Self.host + "guest: {type: pv-dom0, kernel: rfc-v1, cmdline: 'swiotlb=65536,1048576,force'}\ndevices: [{name: a, dma_bits: 64}]", file: "s.yaml")
        let advice = SizingAdvice(
            s,
            [
                PoolSizing(pool: "Low Mem", configuredSlots: 65536, slots: 1024, peakUsed: 900, runs: 3),
                PoolSizing(pool: "High Mem", configuredSlots: 1_048_576, slots: 16384, peakUsed: 16000, runs: 8),
            ])
        #expect(advice.cmdline == "swiotlb=1920,32000,force")
    }

    /// On 6.1 the area count stays and the size is the power of two 6.1 maps.
    @Test func sizeKeepsAreasOnSixOne() throws {
        let s = try ScenarioParser.parse(
            Self.host + "guest: {type: pv-dom0, kernel: v6.1, cmdline: 'swiotlb=8192,4,force'}\ndevices: [{name: a, dma_bits: 64}]", file: "s.yaml")
        let advice = SizingAdvice(s, [PoolSizing(pool: "swiotlb", configuredSlots: 8192, slots: 1280, peakUsed: 1200, runs: 5)])
        #expect(advice.cmdline == "swiotlb=4096,4,force")
    }
}
