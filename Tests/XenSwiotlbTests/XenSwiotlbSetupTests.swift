import Swiotlb
import Testing
import XenMemory

@testable import XenSwiotlb

@Suite("xen-swiotlb set-up")
struct XenSwiotlbSetupTests {
    @Test("the captured host: 256 segments exactly where the real Xen put them")
    func realDefault() throws {
        var boot = try BootedDom0.realDefault()
        boot.reserveKernelTop(dom0Bytes: 768 << 20)
        let x = try boot.xenSwiotlb().get()
        #expect(x.log == ["software IO TLB: mapped [mem 0x000000002ac00000-0x000000002ec00000] (64MB)"])
        #expect(x.tlb.pools[0].nslabs == 32768 && x.tlb.maxSegmentSize == 4096)
        // The segment placement formula (docs/xen-swiotlb.md), which the capture follows (DumpTests).
        for i in 0..<256 {
            let z = 7 + BitMath.floorLog2(UInt64(i + 4))
            let r = UInt64(i + 4) - (1 << UInt64(z - 7))
            let mfn = (UInt64(1) << UInt64(z)) - 64 * (r + 1)
            #expect(x.dom0.p2m.pfnToMFN(PFN(0x2ac00 + UInt64(i) * 64)).rawValue == mfn, "segment \(i)")
            #expect(x.exchanges.last(where: { $0.slot == i * 128 })?.addressBits == z + 12)
        }
        // Spot values of the captured dom0's P2M (../shared/fixtures/real-xen-default/dom0-p2m.txt.xz).
        let spot: [(UInt64, UInt64)] = [(0x2ac00, 0x1c0), (0x2ac40, 0x180), (0x2ac80, 0x140), (0x2acc0, 0x100), (0x2ad00, 0x3c0), (0x2aec0, 0x200)]
        for (pfn, mfn) in spot { #expect(x.dom0.p2m.pfnToMFN(PFN(pfn)).rawValue == mfn) }
        // 18, 19 and 20 bits fail once (zones ≤ 8 are DOMID_IO's), then one exchange per segment.
        #expect(Array(x.exchanges.prefix(4).map(\.addressBits)) == [18, 19, 20, 21])
        #expect(x.exchanges.filter { $0.mfn == nil }.count == 3 + 6)
        #expect(checkPools(x))
        #expect(x.dmaSupported(0xffff_ffff) && !x.dmaSupported(0x7f_ffff))
    }

    @Test("low memory mostly taken: dma_bits climbs to 27 and stays there")
    func escalation() throws {
        var boot = try BootedDom0(ramBytes: 2 << 30, dom0Mem: "768M,max:768M", reserved: [0x100..<0x4000])
        boot.reserveKernelTop(dom0Bytes: 768 << 20)
        let x = try boot.xenSwiotlb().get()
        #expect(x.exchanges.count == 10 + 255)
        #expect(x.exchanges.prefix(10).map(\.addressBits) == Array(18...27))
        #expect(x.exchanges.prefix(9).allSatisfy { $0.mfn == nil })
        #expect(x.exchanges.dropFirst(9).allSatisfy { $0.addressBits == 27 && $0.mfn != nil })
        #expect(x.exchanges[9].mfn == MFN(0x7fc0) && x.exchanges.last?.mfn == MFN(0x4000))
        #expect(checkPools(x))
    }

    @Test("nothing free below 4 GiB: three halvings, then the EFIXUP text and the panic")
    func exhausted() throws {
        let boot = try BootedDom0(ramBytes: 6 << 30, dom0Mem: "1G,max:1G", reserved: [0x100..<0x100000])
        guard case .failure(let e) = boot.xenSwiotlb() else { Issue.record("set-up succeeded"); return }
        #expect(e.rc == -12 && e.panicked)
        #expect(
            e.log == [
                "xen:swiotlb_xen: Lowering to 32MB",
                "xen:swiotlb_xen: Lowering to 16MB",
                "xen:swiotlb_xen: Lowering to 8MB",
                "xen:swiotlb_xen: Failed to get contiguous memory for DMA from Xen!",
                "You either: don't have the permissions, do not have enough free memory under 4GB, or the hypervisor memory is too fragmented! (rc:-12)",
                "Kernel panic - not syncing: Failed to get contiguous memory for DMA from Xen!",
                "You either: don't have the permissions, do not have enough free memory under 4GB, or the hypervisor memory is too fragmented! (rc:-12)",
            ])
        #expect(e.exchanges.count == 4 * 15)
        #expect(e.exchanges.prefix(15).map(\.addressBits) == Array(18...32))
        // Late init returns the error instead, after the page allocator's 4 MB.
        guard case .failure(let late) = boot.xenSwiotlb(early: false) else { Issue.record("late set-up succeeded"); return }
        #expect(!late.panicked)
        #expect(late.log.first == "xen:swiotlb_xen: Warning: only able to allocate 4 MB for software IO TLB")
        #expect(late.log.filter { $0.hasPrefix("xen:swiotlb_xen: Lowering to") } == Array(repeating: "xen:swiotlb_xen: Lowering to 2MB", count: 3))
        #expect(!late.log.contains { $0.hasPrefix("Kernel panic") })
    }

    @Test("swiotlb=65536 and late init sizes")
    func sizes() throws {
        var boot = try BootedDom0.realDefault()
        boot.reserveKernelTop(dom0Bytes: 768 << 20)
        let big = try boot.xenSwiotlb("65536,force").get()
        #expect(big.log == ["software IO TLB: mapped [mem 0x0000000026c00000-0x000000002ec00000] (128MB)"])
        #expect(big.tlb.force == .force && checkPools(big))
        let late = try boot.xenSwiotlb(early: false).get()
        #expect(late.log.first == "xen:swiotlb_xen: Warning: only able to allocate 4 MB for software IO TLB")
        #expect(late.tlb.pools[0].nslabs == 2048 && late.tlb.pools[0].start.rawValue % (4 << 20) == 0)
    }
}
