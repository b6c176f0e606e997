import Testing

@testable import Swiotlb
@testable import XenMemory
@testable import XenSwiotlb

/// Linux 6.1.192's xen-swiotlb exchanges a coherent buffer whose pseudo-physical address is
/// aligned to its size but whose machine address is not (`range_requires_alignment`, in alloc
/// and free); 5.11 keeps such a buffer as it is.
@Suite("xen-swiotlb 6.1.192: coherent buffers aligned in machine memory")
struct V61CoherentAlignmentTests {
    /// A dom0 whose top four free pages `a…a+3` (machine-contiguous, frames `f…f+3`) are
    /// re-backed so that `a+2`, `a+3` — where the allocator puts the next 8 KiB buffer — are
    /// contiguous in machine memory but start on an odd frame (`odd`); then an 8 KiB coherent
    /// buffer on a 64-bit device.
    func oddAllocation(_ kernel: SwiotlbKernel) throws -> (x: XenSwiotlb, phys: PhysicalAddress, dma: DMAAddress, odd: UInt64) {
        var boot = try BootedDom0(ramBytes: 6 << 30, dom0Mem: "1G,max:1G", reserved: [0x100..<0x80000])
        boot.reserveKernelTop(dom0Bytes: 1 << 30)
        var x = try boot.xenSwiotlb(kernel: kernel).get()
        let taken = x.memory.allocate(pages: 4, alignPages: 4)
        let block = try #require(taken)
        x.memory.release(block)
        let a = block.lowerBound.rawValue
        let f = x.physToDMA(PFN(a).address).rawValue >> Page.shift
        #expect(x.dom0.p2m.isMachineContiguous(PFN(a).address, size: 4 * 4096))
        let odd = f % 2 == 1 ? f : f + 1
        let rest = (f..<(f + 4)).filter { $0 != odd && $0 != odd + 1 }
        let backing = [rest[0], rest[1], odd, odd + 1]
        for (k, frame) in backing.enumerated() {
            x.dom0.p2m.setPhysToMachine(PFN(a + UInt64(k)), count: 1, machineBase: MFN(frame))
            x.host.m2p.set(MFN(frame), count: 1, to: PFN(a + UInt64(k)))
        }
        let buffer = x.allocCoherent(DMADevice.pci("nvme", bits: 64), size: 8192)
        let (phys, dma) = try #require(buffer)
        #expect(phys.pfn.rawValue == a + 2)
        return (x, phys, dma, odd)
    }

    @Test("5.11 hands out the odd machine frame; 6.1.192 exchanges the pages for an aligned pair and gives it back on free")
    func alignment() throws {
        let old = try oddAllocation(.v5_11)
        #expect(old.dma.rawValue == old.odd << Page.shift)
        #expect(old.x.coherent[old.phys.pfn]?.remapped == false)

        var new = try oddAllocation(.v6_1)
        #expect(new.x.coherent[new.phys.pfn]?.remapped == true)
        #expect(new.dma.rawValue % 8192 == 0 && new.dma.rawValue != new.odd << Page.shift)
        #expect(new.x.dom0.p2m.isMachineContiguous(new.phys, size: 8192))
        let exchanged = new.dma.machine.mfn
        new.x.freeCoherent(DMADevice.pci("nvme", bits: 64), size: 8192, dma: new.dma)
        #expect(new.x.coherent.isEmpty && new.x.host.heap.isFree(exchanged))
    }
}

@Suite("xen-swiotlb 6.1.192 set-up: the pool sized as swiotlb=<N>,<A> sizes it")
struct V61XenSetupTests {
    @Test("swiotlb=128,4: 128 slots per area raise the pool to 512 slots in 4 areas, logged as a roundup to 1MB")
    func raisedToAreas() throws {
        let boot = try BootedDom0(ramBytes: 6 << 30, dom0Mem: "1G,max:1G")
        let x = try boot.xenSwiotlb("128,4", kernel: .v6_1).get()
        #expect(x.tlb.pools.map(\.nslabs) == [512] && x.tlb.pools[0].areas.count == 4 && x.tlb.pools[0].areaSlots == 128)
        #expect(Array(x.log.prefix(2)) == ["software IO TLB: area num 4.", "software IO TLB: SWIOTLB bounce buffer size roundup to 1MB"])
        let one = try boot.xenSwiotlb("100,0", kernel: .v6_1).get()
        #expect(one.tlb.pools.map(\.nslabs) == [128] && one.tlb.pools[0].areas.count == 1)
        #expect(Array(one.log.prefix(2)) == ["software IO TLB: area num 1.", "PCI-DMA: Using software bounce buffering for IO (SWIOTLB)"])
    }

    // 6.1.192 swiotlb_init_remap: while swiotlb_memblock_alloc fails (memblock_alloc, or the
    // remap callback xen_swiotlb_fixup), it prints "%s: Failed to … %zu bytes" with __func__
    // swiotlb_memblock_alloc, returns when nslabs <= IO_TLB_MIN_SLABS (512), else halves to
    // ALIGN(nslabs >> 1, IO_TLB_SEGSIZE); a smaller pool prints "SWIOTLB bounce buffer size
    // adjusted %lu -> %lu slabs". pci_iommu_init then prints the PCI-DMA line and
    // swiotlb_print_info's "mapped" line, or "No low mem" without a pool.
    @Test("40 MiB of dom0 memory free: 64 MiB cannot be allocated, 32 MiB is, and the size is logged as adjusted")
    func halvedOnAllocationFailure() throws {
        var boot = try BootedDom0(ramBytes: 6 << 30, dom0Mem: "1G,max:1G")
        let top = try #require(boot.memory.free.last)
        try #require(top.span > 10240)
        for r in boot.memory.free where r != top { boot.memory.reserve(r) }
        boot.memory.reserve(top.lowerBound..<PFN(top.upperBound.rawValue - 10240))
        let x = try boot.xenSwiotlb("", kernel: .v6_1).get()
        #expect(x.tlb.pools.map(\.nslabs) == [16384] && x.tlb.pools[0].areas.count == 1)
        let start = (top.upperBound.rawValue - 8192) << 12, end = top.upperBound.rawValue << 12
        #expect(
            x.log == [
                "software IO TLB: area num 1.",
                "software IO TLB: swiotlb_memblock_alloc: Failed to allocate 67108864 bytes tlb structure",
                "software IO TLB: SWIOTLB bounce buffer size adjusted 32768 -> 16384 slabs",
                "PCI-DMA: Using software bounce buffering for IO (SWIOTLB)",
                "software IO TLB: mapped [mem 0x\(Hex.padded(start, 16))-0x\(Hex.padded(end, 16))] (32MB)",
            ])
    }

    @Test("nothing free below 4 GiB: every remap fails from 64 MiB down to 1 MiB, then no pool and 'No low mem'")
    func halvedToNothing() throws {
        _ = try expectHalvedToNothing(.v6_1)
    }
}
