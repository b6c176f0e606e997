import Testing
import XenMemory
import XenPVTestSupport

@testable import XenModel

/// Drivers' coherent allocations at probe: where they show in dom0's P2M, how a scenario names
/// them, and the exchange the model makes for them.
@Suite("boot-time coherent allocations")
struct BootCoherentTests {
    /// The runs of the 6 GiB capture (Tests/Fixtures/real-captures/bigmem-1) around its two
    /// virtio-blk rings: the run from pfn 0x100061 maps even pfns to odd frames, so each order-1
    /// ring was exchanged (range_requires_alignment) and punched into it.
    static func bigmemRuns(ring: UInt64 = 0x1b962a) -> ExtentMap<P2MRun> {
        var m = ExtentMap<P2MRun>()
        m.append(start: 0x100000, count: 0x61, value: .machine(base: MFN(0x1a809f)))
        m.append(start: 0x100061, count: 0x925, value: .machine(base: MFN(0x75c7c)))
        m.append(start: 0x100986, count: 2, value: .machine(base: MFN(ring)))
        m.append(start: 0x100988, count: 0xe, value: .machine(base: MFN(0x765a3)))
        m.append(start: 0x100996, count: 2, value: .machine(base: MFN(0x1b9c18)))
        m.append(start: 0x100998, count: 0x9a4d, value: .machine(base: MFN(0x765b3)))
        return m
    }

    @Test("an exchanged block shows as a hole punched in a machine-contiguous run; nothing else does")
    func punchedBlocks() {
        #expect(
            BootCoherentEvidence.exchangedBlocks(in: Self.bigmemRuns())
                == [BootCoherentAllocation(pfn: PFN(0x100986), size: 0x2000), BootCoherentAllocation(pfn: PFN(0x100996), size: 0x2000)])
        // A block whose frames are not aligned to its size is no Xen extent.
        #expect(BootCoherentEvidence.exchangedBlocks(in: Self.bigmemRuns(ring: 0x1b962b)) == [BootCoherentAllocation(pfn: PFN(0x100996), size: 0x2000)])
        // A 64-page bounce-pool segment is not a driver's allocation; neighbours that do not
        // continue each other are no punched run.
        var m = ExtentMap<P2MRun>()
        m.append(start: 0x2ac00, count: 0x40, value: .machine(base: MFN(0x5000)))
        m.append(start: 0x2ac40, count: 0x40, value: .machine(base: MFN(0x1c0)))
        m.append(start: 0x2ac80, count: 0x40, value: .machine(base: MFN(0x5080)))
        m.append(start: 0x2acc0, count: 2, value: .machine(base: MFN(0x9000)))
        m.append(start: 0x2acc2, count: 0x3e, value: .machine(base: MFN(0x50c3)))
        #expect(BootCoherentEvidence.exchangedBlocks(in: m).isEmpty)
    }

    static let scenario = """
        schema: 1
        host: {ram: 2G}
        xen: {dom0_mem: "768M,max:768M"}
        guest: {type: pv-dom0, kernel: v6.1, cmdline: "swiotlb=8192"}
        devices:
          - name: "0000:00:03.0"
            dma_bits: 64
            boot_coherent:
              - {pfn: PFN, size: 6726}
        """

    @Test("boot_coherent is read with its pfn and size; a pfn off the allocation's alignment is refused with its line")
    func parsed() throws {
        let s = try ScenarioParser.parse(Self.scenario.replacingOccurrences(of: "PFN", with: "0x1000"), file: "s.yaml")
        #expect(s.devices[0].bootCoherent == [BootCoherentAllocation(pfn: PFN(0x1000), size: 6726)])
        #expect(
            errorMessage { try ScenarioParser.parse(Self.scenario.replacingOccurrences(of: "PFN", with: "0x1001"), file: "s.yaml") }
                == "s.yaml:9: devices[0].boot_coherent[0].pfn: 0x1001 is not aligned to the allocation's 2 pages")
    }

    @Test("the model exchanges an allocation whose frames are not size-aligned (6.1.192) and keeps one whose frames are")
    func exchangedAtBoot() throws {
        // dom0's memory from pfn 0x100 is one run from an even frame (0x70100): an order-1 block
        // at an even pfn is machine-contiguous and aligned, and kept (the bigmem capture's rings,
        // whose frames are odd, are exchanged: ScenarioFromCaptureTests).
        let kept = WorkloadRunner.run(try ScenarioParser.parse(Self.scenario.replacingOccurrences(of: "PFN", with: "0x1000"), file: "s.yaml"))
        #expect(kept.boot.failure == nil)
        #expect(kept.boot.p2m?.entries.value(at: 0x1000) == .machine(base: MFN(0x71000)))
        #expect(kept.boot.p2m?.entries.value(at: 0x1001) == .machine(base: MFN(0x71001)))
        // Pages that are not dom0's free memory (beyond its 768 MiB) are the field's fault.
        let beyond = try ScenarioParser.parse(Self.scenario.replacingOccurrences(of: "PFN", with: "0x100000"), file: "s.yaml")
        let boot = ModelBoot.boot(beyond)
        #expect(
            beyond.refusal(for: boot)?.message
                == "pfn 0x100000 (6726 bytes): not free dom0 memory aligned to the allocation's pages, or Xen refused the exchange")
    }
}
