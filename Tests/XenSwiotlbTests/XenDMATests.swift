import Swiotlb
import Testing
import XenMemory
import XenPVTestSupport

@testable import XenSwiotlb

@Suite("xen-swiotlb DMA decisions")
struct XenDMATests {
    func system(_ cmdline: String = "") throws -> XenSwiotlb {
        var boot = try BootedDom0.realDefault()
        boot.reserveKernelTop(dom0Bytes: 768 << 20)
        return try boot.xenSwiotlb(cmdline).get()
    }

    @Test("direct, non-contiguous, beyond the mask, forced")
    func decisions() throws {
        var x = try system()
        let nic32 = DMADevice.pci("nic32", bits: 32)
        // pfn 0x1000.. → mfn 0x71000.. contiguously: a 16 KiB buffer goes straight to the device.
        let direct = try x.mapPage(nic32, PhysicalAddress(0x100_0800), size: 16384, direction: .toDevice).get()
        #expect(direct == DMAHandle(address: DMAAddress(0x7100_0800), bounced: false, pool: nil))
        // pfn 0x9e → 0x7009e, pfn 0x9f is 1:1: two frames that are not machine-adjacent.
        let split = try x.mapPage(nic32, PhysicalAddress(0x9e800), size: 4096, direction: .toDevice).get()
        #expect(split.bounced && x.isXenBounceBuffer(split.address))
        #expect(x.tlb.pools[0].used == 2)
        try x.unmapPage(nic32, split.address, size: 4096, direction: .toDevice)
        #expect(x.tlb.pools[0].used == 0)
        // A 30-bit device: machine 0x71000000 is above 2^30 − 1; the pool's segments are below 128 MiB.
        let old = DMADevice(name: "old", dmaMask: 0x3fff_ffff, coherentDMAMask: 0x3fff_ffff)
        let low = try x.mapPage(old, PhysicalAddress(0x100_0000), size: 4096, direction: .fromDevice).get()
        #expect(low.bounced && low.address.rawValue < 0x800_0000)
        #expect(old.isCapable(low.address, size: 4096))
        // swiotlb=force bounces even the direct case.
        var f = try system("force")
        let forced = try f.mapPage(nic32, PhysicalAddress(0x100_0800), size: 16384, direction: .toDevice).get()
        #expect(forced.bounced && forced.pool == 0)
    }

    @Test("bounced bytes go out and come back through machine addresses")
    func bounceBytes() throws {
        var x = try system("force")
        let dev = DMADevice.pci("nvme", bits: 64)
        let buf = PhysicalAddress(0x300_0000)
        x.tlb.memory.write(Array("hello, device".utf8), at: buf)
        let h = try x.mapPage(dev, buf, size: 13, direction: .bidirectional).get()
        let bounce = x.dmaToPhys(h.address)
        #expect(x.tlb.memory.read(bounce, count: 13) == Array("hello, device".utf8))
        x.tlb.memory.write(Array("HELLO".utf8), at: bounce)
        try x.sync(dev, h.address, size: 13, direction: .bidirectional, target: .cpu)
        #expect(x.tlb.memory.read(buf, count: 13) == Array("HELLO, device".utf8))
        try x.unmapPage(dev, h.address, size: 13, direction: .bidirectional)
        #expect(x.tlb.pools[0].used == 0)
        // An unrelated machine address is not a bounce buffer.
        #expect(!x.isXenBounceBuffer(DMAAddress(0x7010_0000)))
        // Nor is another domain's frame whose M2P entry happens to name a pool pfn: the P2M
        // round trip of bfn_to_local_pfn rejects it, so unmap leaves the pool alone.
        x.host.addDomain(DomainState(id: DomID(5), maxPages: 16))
        let foreign = x.host.populatePhysmap(DomID(5), gpfns: [PFN(0x2ac00)], order: 0)[0]
        #expect(x.host.m2p.entry(foreign) == 0x2ac00)
        #expect(!x.isXenBounceBuffer(foreign.address.bus))
        let held = try x.mapPage(dev, buf, size: 4096, direction: .toDevice).get()
        try x.unmapPage(dev, foreign.address.bus, size: 4096, direction: .toDevice)
        #expect(x.tlb.pools[0].used == 2)
        try x.unmapPage(dev, held.address, size: 4096, direction: .toDevice)
        #expect(x.tlb.pools[0].used == 0)
    }

    @Test("scatter-gather: a failure undoes what was mapped")
    func scatterGather() throws {
        var x = try system("force")
        let dev = DMADevice.pci("hba", bits: 64)
        let ok = try x.mapSG(dev, [(PhysicalAddress(0x100_0000), 4096), (PhysicalAddress(0x200_0000), 8192)], direction: .toDevice)
        #expect(ok?.count == 2 && x.tlb.pools[0].used == 6)
        // 262145 bytes never fit: the whole list fails and the first element is released.
        let bad = try x.mapSG(dev, [(PhysicalAddress(0x300_0000), 4096), (PhysicalAddress(0x400_0000), 262_145)], direction: .toDevice)
        #expect(bad == nil && x.tlb.pools[0].used == 6)
    }

    @Test("coherent memory above the mask is exchanged below it and given back on free")
    func coherent() throws {
        var boot = try BootedDom0(ramBytes: 6 << 30, dom0Mem: "1G,max:1G", reserved: [0x100..<0x80000])
        boot.reserveKernelTop(dom0Bytes: 1 << 30)
        var x = try boot.xenSwiotlb().get()
        let dev = DMADevice(name: "legacy", dmaMask: 0xffff_ffff)  // coherent mask unset: 32 bits
        let first = x.allocCoherent(dev, size: 3 * 4096)
        let (phys, dma) = try #require(first)
        #expect(dma.rawValue + 4 * 4096 - 1 <= 0xffff_ffff)
        #expect(x.coherent[phys.pfn]?.remapped == true && x.coherent[phys.pfn]?.order == 2)
        #expect(x.dom0.p2m.isMachineContiguous(phys, size: 4 * 4096))
        #expect(x.host.m2p.entry(dma.machine.mfn) == phys.pfn.rawValue)
        let mfnBefore = dma.machine.mfn
        x.freeCoherent(dev, size: 3 * 4096, dma: dma)
        #expect(x.coherent.isEmpty)
        #expect(x.host.heap.isFree(mfnBefore) && x.host.m2p.entry(mfnBefore) == HostM2P.invalidEntry)
        // A 64-bit coherent mask keeps the pages as they are.
        let wide = DMADevice.pci("nvme", bits: 64)
        let second = x.allocCoherent(wide, size: 4096)
        let (p2, d2) = try #require(second)
        #expect(x.coherent[p2.pfn]?.remapped == false && d2 == x.physToDMA(p2))
    }

    @Test("P2M and M2P stay consistent and every bounce is capable, over random hosts")
    func property() throws {
        var rng = SplitMix64(seed: 77)
        for _ in 0..<8 {
            let ram = UInt64(1 + rng.next() % 6) << 30
            let dom0 = 256 + rng.next() % 512
            let taken = rng.next() % 3 == 0 ? [0x100..<(0x100 + rng.next() % 0x6000)] : []
            var boot = try BootedDom0(ramBytes: ram, dom0Mem: "\(dom0)M,max:\(dom0)M", reserved: taken)
            boot.memory.reserve(PFN(dom0 << 8 - 0x3000)..<PFN(dom0 << 8 + 0x1000))
            let slabs = [0, 4096, 16384][Int(rng.next() % 3)]
            guard case .success(var x) = boot.xenSwiotlb(slabs == 0 ? "force" : "\(slabs),force") else { continue }
            #expect(checkPools(x))
            let devices = [DMADevice.pci("d32", bits: 32), .pci("d64", bits: 64), DMADevice(name: "d30", dmaMask: 0x3fff_ffff)]
            var live: [(DMADevice, DMAHandle, Int)] = []
            for _ in 0..<300 {
                if !live.isEmpty && rng.next() % 2 == 0 {
                    let (d, h, n) = live.remove(at: Int(rng.next() % UInt64(live.count)))
                    try x.unmapPage(d, h.address, size: n, direction: .toDevice)
                    continue
                }
                let d = devices[Int(rng.next() % 3)]
                let n = Int(1 + rng.next() % 65536)
                let p = PhysicalAddress(0x100_000 + rng.next() % ((dom0 << 20) / 2))
                if case .success(let h) = try x.mapPage(d, p, size: n, direction: .toDevice) {
                    #expect(d.isCapable(h.address, size: UInt64(n)))
                    #expect(x.dom0.p2m.isMachineContiguous(x.dmaToPhys(h.address), size: UInt64(n)))
                    live.append((d, h, n))
                }
            }
            if let c = x.allocCoherent(DMADevice(name: "c", dmaMask: 0xffff_ffff), size: 8192) {
                x.freeCoherent(DMADevice(name: "c", dmaMask: 0xffff_ffff), size: 8192, dma: c.1)
            }
            #expect(checkPools(x))
            for run in x.dom0.p2m.runs() {
                guard case .machine(let base) = run.value else { continue }
                let m = x.host.m2p.runs.extents(start: base.rawValue, count: run.count)
                #expect(m.count == 1 && m.first?.value == .pfn(base: PFN(run.start)))
            }
        }
    }
}
