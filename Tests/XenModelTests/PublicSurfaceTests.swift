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
        #expect(boot.failure == nil)
        var engine = try #require(boot.engine)
        let pool = try #require(engine.tlb.pools.first)
        #expect(boot.kernelLog.last == "software IO TLB: mapped [mem 0x\(Hex.padded(pool.start, 16))-0x\(Hex.padded(pool.end, 16))] (64MB)")
        let mapped = try engine.map(scenario.devices[0].dma, 0x2000000, size: 4096, direction: .toDevice).get()
        #expect(mapped.dma == pool.start && mapped.pool == 0)
        #expect(engine.tlb.pools[0].used == 2)
        try engine.unmap(scenario.devices[0].dma, mapped)
        #expect(engine.tlb.pools[0].used == 0)
    }
}
