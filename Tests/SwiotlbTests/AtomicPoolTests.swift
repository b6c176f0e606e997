import Testing
import XenMemory

@testable import Swiotlb

/// 6.18.2's DMA atomic pools (kernel/dma/pool.c) and the transient swiotlb pools a confidential
/// guest takes from them (swiotlb.c:612-650 `swiotlb_alloc_tlb`), values worked from the source.
@Suite("DMA atomic pools (kernel/dma/pool.c)")
struct AtomicPoolTests {
    // dma_atomic_pool_init: totalram_pages() / (SZ_1G / SZ_128K) pages, at most
    // MAX_ORDER_NR_PAGES (1024), at least SZ_128K; coherent_pool= wins.
    @Test("atomic_pool_size: 128 KiB per GiB, between 128 KiB and 4 MiB; coherent_pool= as given")
    func sizes() {
        #expect(AtomicPools.size(totalPages: 524_288, coherentPool: nil) == 256 << 10)  // 2 GiB: 64 pages
        #expect(AtomicPools.size(totalPages: 500_000, coherentPool: nil) == 61 << 12)  // 61 pages
        #expect(AtomicPools.size(totalPages: 131_072, coherentPool: nil) == 128 << 10)  // 512 MiB: 16 pages, raised
        #expect(AtomicPools.size(totalPages: 16_777_216, coherentPool: nil) == 4 << 20)  // 64 GiB: 2048, capped at 1024
        #expect(AtomicPools.size(totalPages: 524_288, coherentPool: 1 << 20) == 1 << 20)
    }

    /// Blocks handed out top-down below each zone's limit from a 2 GiB guest.
    static func pools(size: UInt64) -> AtomicPools {
        var top: [AtomicPools.Zone: UInt64] = [.kernel: 0x8000_0000, .dma32: 0x7000_0000, .dma: 0x100_0000]
        return AtomicPools(size: size) { order, zone in
            let bytes = UInt64(4096) << UInt64(order)
            top[zone]! -= bytes
            return top[zone].map(PhysicalAddress.init(rawValue:))
        }
    }

    // atomic_pool_expand: 1 << min(get_order(size), MAX_PAGE_ORDER) pages; 61 pages → order 6.
    @Test("the boot lines: GFP_KERNEL, GFP_KERNEL|GFP_DMA, GFP_KERNEL|GFP_DMA32, each get_order(size) pages")
    func bootLines() {
        let a = Self.pools(size: 61 << 12)
        #expect(
            a.bootLines == [
                "DMA: preallocated 256 KiB GFP_KERNEL pool for atomic allocations",
                "DMA: preallocated 256 KiB GFP_KERNEL|GFP_DMA pool for atomic allocations",
                "DMA: preallocated 256 KiB GFP_KERNEL|GFP_DMA32 pool for atomic allocations",
            ])
        let none = AtomicPools(size: 128 << 10) { _, _ in nil }
        #expect(none.bootLines.first == "DMA: failed to allocate 128 KiB GFP_KERNEL pool for atomic allocation")
    }

    // dma_guess_pool with no zone flag: kernel, then dma32, then dma; gen_pool_first_fit_order_align
    // aligns a run to its size rounded up to a power of two; dma_coherent_ok against the limit.
    @Test("allocation: kernel pool first, order-aligned first fit, then DMA32, then DMA; the coherent limit")
    func allocation() {
        var a = Self.pools(size: 128 << 10)  // 32-page chunks
        var got: [UInt64?] = []
        got.append(a.allocate(bytes: 4096, limit: .max)?.rawValue)  // page 0
        got.append(a.allocate(bytes: 3 * 4096, limit: .max)?.rawValue)  // 3 pages aligned to 4: pages 4-6
        got.append(a.allocate(bytes: 64 << 10, limit: .max)?.rawValue)  // pages 16-31
        got.append(a.allocate(bytes: 64 << 10, limit: .max)?.rawValue)  // no aligned 16-page run left: DMA32
        // A 24-bit coherent limit: the kernel and DMA32 pools' runs fail dma_coherent_ok, DMA's fits.
        got.append(a.allocate(bytes: 4096, limit: 0xff_ffff)?.rawValue)
        #expect(got == [0x7ffe_0000, 0x7ffe_4000, 0x7fff_0000, 0x6ffe_0000, 0xfe_0000])
        let freed = a.free(start: PhysicalAddress(0x7fff_0000), bytes: 64 << 10)
        let again = a.allocate(bytes: 64 << 10, limit: .max)
        #expect(freed && again == PhysicalAddress(0x7fff_0000))
        #expect(a.workScheduled)
    }

    // atomic_pool_work_fn: a pool with less than atomic_pool_size free grows by gen_pool_size;
    // the new chunk is searched first (gen_pool_add: list_add_rcu at the head).
    @Test("growth: the pool short of its size gains a chunk of its whole size, searched first")
    func growth() {
        var a = Self.pools(size: 128 << 10)
        _ = a.allocate(bytes: 64 << 10, limit: .max)
        _ = a.allocate(bytes: 64 << 10, limit: .max)
        var memory = DynamicPoolMemory(Range(raw: 0x4000_0000..<0x4040_0000))
        a.grow(from: &memory)
        #expect(!a.workScheduled)
        #expect(a.chunks[AtomicPools.Zone.kernel.rawValue].map(\.start.rawValue) == [0x4000_0000, 0x7ffe_0000])
        #expect(a.chunks[AtomicPools.Zone.kernel.rawValue].first?.used.count == 32)
        let next = a.allocate(bytes: 4096, limit: .max)
        #expect(next == PhysicalAddress(0x4000_0000))
    }

    // swiotlb_find_slots (1204-1227) → swiotlb_alloc_pool(dev, …, GFP_NOWAIT) → swiotlb_alloc_tlb:
    // force_dma_unencrypted → dma_alloc_from_pool; none → WARN "Failed to get suitable pool for %s".
    @Test("a confidential guest's transient pools come from the atomic pools; exhausted: the WARN and a full map")
    func transientFromAtomicPools() throws {
        var t = SoftwareIOTLB(kernel: .v6_18, pools: [SlotPool(start: PhysicalAddress(0x10_0000), nslabs: 128, areas: 1)], force: .force)
        t.copiesData = false
        var g = PoolGrowth(
            canGrow: true, physLimit: PhysicalAddress(0xffff_ffff), defaultNslabs: 128, defaultAreas: 1,
            memory: DynamicPoolMemory(Range(raw: 0x4000_0000..<0x4000_0000)))
        g.atomicPools = Self.pools(size: 128 << 10)
        t.growth = g
        let dev = DMADevice(name: "virtio1", coherentDMAMask: ~0)
        _ = try t.map(device: dev, original: PhysicalAddress(0x800_0000), mappingSize: 262_144, allocSize: 262_144, direction: .toDevice).get()
        var got: [UInt64] = []
        for i in 0..<6 {
            if case .success(let m) = try t.map(
                device: dev, original: PhysicalAddress(0x900_0000 + UInt64(i) << 16), mappingSize: 65536, allocSize: 65536, direction: .toDevice)
            {
                got.append(m.address.rawValue)
            }
        }
        // Two 64 KiB runs in each 128 KiB pool: kernel, DMA32, DMA; the seventh map finds none.
        #expect(got == [0x7ffe_0000, 0x7fff_0000, 0x6ffe_0000, 0x6fff_0000, 0xfe_0000, 0xff_0000])
        #expect(t.transientSlots == 6 * 32)
        let failed = try t.map(device: dev, original: PhysicalAddress(0xa00_0000), mappingSize: 65536, allocSize: 65536, direction: .toDevice)
        guard case .failure(.full) = failed else { Issue.record("the seventh map did not fail"); return }
        // The WARN, the map's "full" line, then the worker (nothing to grow from) after the map.
        let lines = t.takeMessages().map(\.description)
        #expect(
            lines.suffix(3) == [
                "Failed to get suitable pool for virtio1", "virtio1: swiotlb buffer is full (sz: 65536 bytes), total 128 (slots), used 320 (slots)",
                "software IO TLB: Failed to allocate new pool",
            ])
        try t.unmap(PhysicalAddress(got[0]), mappingSize: 65536, allocSize: 65536, direction: .toDevice)
        let reused = t.growth?.atomicPools?.allocate(bytes: 65536, limit: .max)

        #expect(reused == PhysicalAddress(0x7ffe_0000))
    }
}
