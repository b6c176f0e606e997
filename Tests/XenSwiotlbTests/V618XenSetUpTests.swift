import Testing

@testable import Swiotlb
@testable import XenMemory
@testable import XenSwiotlb

/// Linux 6.18.2's xen-swiotlb set-up on a modelled PV dom0 (`pci_xen_swiotlb_init` →
/// `swiotlb_init_remap(true, SWIOTLB_ANY, xen_swiotlb_fixup)`, arch/x86/kernel/pci-dma.c:80-90;
/// `xen_swiotlb_fixup`, drivers/xen/swiotlb-xen.c:116-140: order 6 per 128-slot segment,
/// `dma_bits` from 18 up to `MAX_DMA_BITS` 32 and not reset between segments; kernel/dma/swiotlb.c
/// 377-390: halving to `IO_TLB_MIN_SLABS`, `limit_nareas`). 6.18 has no late (pcifront) set-up.
@Suite("xen-swiotlb 6.18.2 set-up on a PV dom0")
struct V618XenSetUpTests {
    @Test(
        "nothing free below 4 GiB: remaps fail from 64 MiB down to 1 MiB, each trying dma_bits 18…32 on its first segment; no pool; late is the same as early")
    func halvedToNothing() throws {
        let (boot, x) = try expectHalvedToNothing(.v6_18)
        let late = try boot.xenSwiotlb("", kernel: .v6_18, early: false).get()
        #expect(late.log == x.log && late.exchanges.count == x.exchanges.count)
    }

    @Test("the fixup keeps the widened dma_bits for the next segments: a 64 MiB pool whose first segment needs 19 bits")
    func dmaBitsNotReset() throws {
        // Xen keeps the first MiB (MFNs below 0x100) out of its heap: the first exchange fails
        // at 18, 19 and 20 bits and succeeds at 21 (below 2 MiB).
        let boot = try BootedDom0(ramBytes: 6 << 30, dom0Mem: "1G,max:1G")
        let x = try boot.xenSwiotlb("", kernel: .v6_18).get()
        #expect(x.tlb.pools.map(\.nslabs) == [32768])
        let done = x.exchanges.filter { $0.mfn != nil }
        #expect(done.count == 256)
        // Once widened, never narrowed: every later segment starts at the bits the previous one ended with.
        let bits = x.exchanges.map(\.addressBits)
        #expect(zip(bits, bits.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(Array(bits.prefix(4)) == [18, 19, 20, 21] && x.exchanges[3].mfn != nil)
    }
}
