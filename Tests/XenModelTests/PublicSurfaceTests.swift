import Swiotlb
import Testing
import XenMemory
import XenModel

/// Only the public surface: a scenario written in code, booted, and its DMA engine driven.
@Suite("XenModel from outside: public scenario initialisers and the DMA engine")
struct PublicSurfaceTests {
    @Test("a native guest with swiotlb=force: map bounces into the pool's first slot, unmap frees it")
    func nativeForced() throws {
        let scenario = Scenario(
            name: "forced", host: HostSpec(e820: .qemuPC(ramBytes: 1 << 30)), xen: XenSpec(),
            guest: GuestSpec(kind: .native, cmdline: "swiotlb=force", memory: 1 << 30),
            devices: [DeviceSpec(name: "nvme0", dma: DMADevice(name: "nvme0"))],
            workload: WorkloadSpec(seed: 1, streams: [.fio(device: "nvme0", blockSize: 4096, queueDepth: 1, readPercent: 100, ops: 1)]))
        let boot = ModelBoot.boot(scenario)
        guard case .ready(var engine) = boot.state, case .native = engine else {
            Issue.record("a native guest's engine is dma-direct: \(String(describing: boot.state))"); return
        }
        let pool = try #require(engine.tlb.pools.first)
        #expect(boot.kernelLog.last == "software IO TLB: mapped [mem 0x\(Hex.padded(pool.start.rawValue, 16))-0x\(Hex.padded(pool.end.rawValue, 16))] (64MB)")
        let mapped = try engine.map(scenario.devices[0].dma, PhysicalAddress(0x200_0000), size: 4096, direction: .toDevice).get()
        #expect(mapped.dma == pool.start.directDMA && mapped.pool == 0)
        #expect(engine.tlb.pools[0].used == 2)
        try engine.unmap(scenario.devices[0].dma, mapped)
        #expect(engine.tlb.pools[0].used == 0)
    }

    @Test("the default scenario's PV dom0 (rfc-v1, swiotlb=force): xen-swiotlb maps next-fit in each pool and unmaps in place")
    func pvDom0Forced() throws {
        let scenario = try ScenarioParser.parse(DefaultScenario.yaml, file: DefaultScenario.fileName)
        let boot = ModelBoot.boot(scenario)
        guard case .ready(var engine) = boot.state, case .xen = engine else {
            Issue.record("a PV dom0's engine is xen-swiotlb: \(String(describing: boot.state))"); return
        }
        let nic = scenario.devices[1].dma, nvme = scenario.devices[0].dma
        // The 32-bit NIC's maps go to the low pool: a page takes slots 0-1 (stride 2), 1500
        // bytes the next slot, 2 (4096 bytes on, the pool being machine-contiguous).
        let page = try engine.map(nic, PhysicalAddress(0x200_0000), size: 4096, direction: .toDevice).get()
        let small = try engine.map(nic, PhysicalAddress(0x210_0000), size: 1500, direction: .fromDevice).get()
        #expect(page.pool == 0 && page.slots == 2 && small.pool == 0 && small.slots == 1)
        #expect(small.dma == page.dma.advanced(by: 4096))
        // The 64-bit NVMe's go to the high pool.
        let high = try engine.map(nvme, PhysicalAddress(0x220_0000), size: 8192, direction: .bidirectional).get()
        #expect(high.pool == 1 && high.slots == 4)
        #expect(engine.tlb.pools.map(\.used) == [3, 4])
        try engine.sync(nvme, high, target: .cpu)
        try engine.unmap(nic, page)
        try engine.unmap(nic, small)
        try engine.unmap(nvme, high)
        #expect(engine.tlb.pools.map(\.used) == [0, 0])
        #expect(engine.tlb.pools.map(\.index) == [3, 4])
    }
}
