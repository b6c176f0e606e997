import Testing

@testable import Swiotlb
@testable import XenMemory
@testable import XenSwiotlb

/// `xen_create_contiguous_region` above order 9: v5.11 refuses it (`MAX_CONTIG_ORDER` 9, 2 MiB);
/// the Feb 2025 change "x86/xen: allow larger contiguous memory regions in PV guests" replaced
/// the fixed frame array by one grown on demand (`alloc_discontig_frames`, 6.18.2
/// `arch/x86/xen/mmu_pv.c`; Debian's 6.1.192 has it as a backport), so megaraid_sas's 2.3 MB
/// coherent buffer (order 10) is exchanged there.
@Suite("xen-swiotlb coherent buffers above 2 MiB")
struct ContiguousOrderTests {
    @Test("a 2.3 MB coherent buffer on a 30-bit device: v5.11 fails (order 10 > 9), 6.1.192 and 6.18 exchange 4 MiB below 1 GiB")
    func orderTen() throws {
        #expect(Linux5_11.xenCoherentRules.maxContiguousOrder == 9 && RFCv1.xenCoherentRules.maxContiguousOrder == 9)
        #expect(Linux6_1.xenCoherentRules.maxContiguousOrder == nil && Linux6_18.xenCoherentRules.maxContiguousOrder == nil)
        let device = DMADevice.pci("megaraid_sas", bits: 30)
        var old = try BootedDom0(ramBytes: 6 << 30, dom0Mem: "1G,max:1G").xenSwiotlb(kernel: .v5_11).get()
        let free = old.memory.free
        #expect(old.allocCoherent(device, size: 2_300_000) == nil)
        #expect(old.memory.free == free)
        for kernel in [SwiotlbKernel.v6_1, .v6_18] {
            var new = try BootedDom0(ramBytes: 6 << 30, dom0Mem: "1G,max:1G").xenSwiotlb(kernel: kernel).get()
            let buffer = new.allocCoherent(device, size: 2_300_000)
            let (phys, dma) = try #require(buffer)
            #expect(dma.rawValue % (4 << 20) == 0 && dma.rawValue + (4 << 20) <= 1 << 30)
            #expect(new.dom0.p2m.isMachineContiguous(phys, size: 4 << 20))
            new.freeCoherent(device, size: 2_300_000, dma: dma)
            // Given back: order-0 frames again, from the top of the heap (above 4 GiB on this host).
            #expect(new.physToDMA(phys).rawValue >= 1 << 32)
        }
    }
}
