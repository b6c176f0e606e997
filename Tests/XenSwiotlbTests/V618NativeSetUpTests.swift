import Swiotlb
import Testing
import XenBoot
import XenMemory
import XenSwiotlb

/// 6.18 on a guest without Xen, each value read from 6.18.2's kernel/dma/swiotlb.c,
/// arch/x86/kernel/pci-dma.c and arch/x86/mm/mem_encrypt.c (line numbers of those files).
@Suite("6.18 native and confidential guests: swiotlb_init, swiotlb_adjust_size, dynamic pools")
struct V618NativeSetUpTests {
    static let prefix = "software IO TLB: "

    /// A QEMU pc guest of `ram` bytes with free memory below 4 GiB cut to `freeBelow4G` bytes
    /// (from 1 MiB up) when given.
    static func guest(ram: UInt64, freeBelow4G: UInt64? = nil) -> NativeGuestBoot {
        var g = NativeGuestBoot(e820: .qemuPC(ramBytes: ram))
        if let freeBelow4G { g.memory.reserve(PhysicalAddress((1 << 20) + freeBelow4G).pfn..<PhysicalAddress(1 << 32).pfn) }
        return g
    }

    @Test("SEV, 20 GiB, no swiotlb=: 6 % clamped to 1 GiB, adjusted before swiotlb_init's area line, the feature line, forced bouncing")
    func sevDefault() throws {
        var g = Self.guest(ram: 20 << 30)
        let dBooted = g.swiotlb(commandLine: SwiotlbCommandLine(parsing: "", kernel: .v6_18), kernel: .v6_18, encryption: .sev, cpus: 2)
        let d = try #require(dBooted)
        // mem_encrypt.c:134-136 → swiotlb.c:226 (no newline), then swiotlb_init_remap's
        // swiotlb_adjust_nareas(num_possible_cpus()) (swiotlb.c:379-380, 161), mem_encrypt_init's
        // line (mem_encrypt.c:47, 54, 67), dma_atomic_pool_init (pool.c: about 19 GiB left,
        // totalram_pages() / 8192 ≈ 600 pages → get_order: 1024 pages), pci_iommu_init
        // (pci-dma.c:179-180).
        #expect(
            Array(d.log.prefix(7)) == [
                Self.prefix + "SWIOTLB bounce buffer size adjusted to 1024MB", Self.prefix + "area num 2.",
                "Memory Encryption Features active: AMD SEV", "DMA: preallocated 4096 KiB GFP_KERNEL pool for atomic allocations",
                "DMA: preallocated 4096 KiB GFP_KERNEL|GFP_DMA pool for atomic allocations",
                "DMA: preallocated 4096 KiB GFP_KERNEL|GFP_DMA32 pool for atomic allocations",
                "PCI-DMA: Using software bounce buffering for IO (SWIOTLB)",
            ])
        #expect(d.log.count == 8 && d.log[7].hasPrefix(Self.prefix + "mapped [mem ") && d.log[7].hasSuffix("(1024MB)"))
        #expect(d.tlb.pools.map(\.nslabs) == [524288] && d.tlb.pools[0].areas.count == 2 && d.tlb.pools[0].end <= PhysicalAddress(1 << 32))
        #expect(d.tlb.force == .force && d.tlb.growth == nil)
        #expect(d.tlb.debugfs.map(\.file) == ["io_tlb_nslabs", "io_tlb_used", "io_tlb_used_hiwater"])
    }

    @Test("TDX, 2 GiB, 4 CPUs: 122 MB adjusted (62976 slots), then swiotlb_init's areas round it up to 128 MB")
    func tdxRoundedUp() throws {
        var g = Self.guest(ram: 2 << 30)
        // memblock_phys_mem_size: 524156 pages of QEMU's E820 = 2146942976 bytes; 6 % =
        // 128816578, ALIGN(…, 2048) = 128817152 (122 MB), ALIGN(62899, 128) = 62976 slots.
        #expect(g.e820.ramPages == 524156)
        let dBooted = g.swiotlb(commandLine: SwiotlbCommandLine(), kernel: .v6_18, encryption: .tdx, cpus: 4)
        let d = try #require(dBooted)
        // dma_atomic_pool_init: about 1.9 GiB left, ≈ 60 pages → get_order: 64 pages (256 KiB).
        #expect(
            Array(d.log.prefix(8)) == [
                Self.prefix + "SWIOTLB bounce buffer size adjusted to 122MB", Self.prefix + "area num 4.",
                Self.prefix + "SWIOTLB bounce buffer size roundup to 128MB", "Memory Encryption Features active: Intel TDX",
                "DMA: preallocated 256 KiB GFP_KERNEL pool for atomic allocations",
                "DMA: preallocated 256 KiB GFP_KERNEL|GFP_DMA pool for atomic allocations",
                "DMA: preallocated 256 KiB GFP_KERNEL|GFP_DMA32 pool for atomic allocations",
                "PCI-DMA: Using software bounce buffering for IO (SWIOTLB)",
            ])
        #expect(d.tlb.pools.map(\.nslabs) == [65536] && d.tlb.pools[0].areas.count == 4)
    }

    @Test("areas on the command line are set while it is parsed: area num first; an explicit 32768 is still adjusted, a size raised by >256 areas is not")
    func areasBeforeAdjust() throws {
        var g = Self.guest(ram: 20 << 30)
        let givenBooted = g.swiotlb(commandLine: SwiotlbCommandLine(parsing: "32768,4", kernel: .v6_18), kernel: .v6_18, encryption: .sev)
        let given = try #require(givenBooted)
        #expect(Array(given.log.prefix(2)) == [Self.prefix + "area num 4.", Self.prefix + "SWIOTLB bounce buffer size adjusted to 1024MB"])
        #expect(given.tlb.pools.map(\.nslabs) == [524288] && given.tlb.pools[0].areas.count == 4)
        // swiotlb=,512: round_up_default_nslabs raises 32768 to 128 × 512 = 65536 (swiotlb.c:135-136)
        // while parsing, so swiotlb_adjust_size returns at once (swiotlb.c:219-220).
        var h = Self.guest(ram: 20 << 30)
        let raisedBooted = h.swiotlb(commandLine: SwiotlbCommandLine(parsing: ",512", kernel: .v6_18), kernel: .v6_18, encryption: .sev)
        let raised = try #require(raisedBooted)
        #expect(
            Array(raised.log.prefix(3)) == [
                Self.prefix + "area num 512.", Self.prefix + "SWIOTLB bounce buffer size roundup to 128MB", "Memory Encryption Features active: AMD SEV",
            ])
        #expect(raised.tlb.pools.map(\.nslabs) == [65536])
    }

    @Test("little memory below 4 GiB: memblock_alloc_low halved to 1024 slots, limit_nareas 16 → 8, default_nareas kept for growth")
    func halving() throws {
        var g = Self.guest(ram: 3 << 30, freeBelow4G: 3 << 20)
        let mem = 0x8000_0000..<0x8040_0000 as Range<UInt64>
        g.memory.reserve(PhysicalAddress(mem.lowerBound).pfn..<PhysicalAddress(mem.upperBound).pfn)
        let dBooted = g.swiotlb(commandLine: SwiotlbCommandLine(), kernel: .v6_18, iommuSoft: true, cpus: 16, dynamicPools: Range(raw: mem))
        let d = try #require(dBooted)
        // swiotlb.c:336-337 per failure, ALIGN(nslabs >> 1, 128) and limit_nareas (397-401), then 393.
        #expect(
            d.log == [
                Self.prefix + "area num 16.",
                Self.prefix + "swiotlb_memblock_alloc: Failed to allocate 67108864 bytes tlb structure",
                Self.prefix + "swiotlb_memblock_alloc: Failed to allocate 33554432 bytes tlb structure",
                Self.prefix + "swiotlb_memblock_alloc: Failed to allocate 16777216 bytes tlb structure",
                Self.prefix + "swiotlb_memblock_alloc: Failed to allocate 8388608 bytes tlb structure",
                Self.prefix + "swiotlb_memblock_alloc: Failed to allocate 4194304 bytes tlb structure",
                Self.prefix + "SWIOTLB bounce buffer size adjusted 32768 -> 1024 slabs",
                "PCI-DMA: Using software bounce buffering for IO (SWIOTLB)", SoftwareIOTLB.mappedLine(d.tlb.pools[0]),
            ])
        #expect(d.tlb.pools[0].nslabs == 1024 && d.tlb.pools[0].areas.count == 8 && d.tlb.force == .normal)
        // can_grow without a remap callback, phys_limit ARCH_LOW_ADDRESS_LIMIT (swiotlb.c:372-377);
        // default_nslabs becomes the halved size (swiotlb.c:394), default_nareas stays 16.
        let growth = try #require(d.tlb.growth)
        #expect(growth.canGrow && growth.physLimit == PhysicalAddress(0xffff_ffff) && growth.defaultNslabs == 1024 && growth.defaultAreas == 16)
        #expect(growth.memory.free == [mem])
    }

    @Test("no memory even for 512 slots: no pool and no panic, 'No low mem'; noforce sets none up either")
    func noPool() throws {
        var g = Self.guest(ram: 3 << 30, freeBelow4G: 512 << 10)
        let dBooted = g.swiotlb(commandLine: SwiotlbCommandLine(), kernel: .v6_18, iommuSoft: true)
        let d = try #require(dBooted)
        #expect(d.log.first == Self.prefix + "area num 1.")
        #expect(d.log.filter { $0.hasSuffix("bytes tlb structure") }.count == 7)  // 64 MiB … 1 MiB
        #expect(d.log.suffix(2) == ["PCI-DMA: Using software bounce buffering for IO (SWIOTLB)", Self.prefix + "No low mem"])
        #expect(d.tlb.pools.isEmpty)
        var h = Self.guest(ram: 20 << 30)
        let offBooted = h.swiotlb(commandLine: SwiotlbCommandLine(parsing: "noforce", kernel: .v6_18), kernel: .v6_18)
        let off = try #require(offBooted)
        #expect(off.log == ["PCI-DMA: Using software bounce buffering for IO (SWIOTLB)", Self.prefix + "No low mem"] && off.tlb.force == .noForce)
    }

    @Test("a miss: a transient pool under the device's mask counted in io_tlb_used, not in io_tlb_nslabs; the worker's pool after it")
    func transientAndGrown() throws {
        // Unencrypted (swiotlb=force): transient pools from the page allocator, the range.
        var g = Self.guest(ram: 2 << 30)
        let mem = 0x4000_0000..<0x4040_0000 as Range<UInt64>
        g.memory.reserve(PhysicalAddress(mem.lowerBound).pfn..<PhysicalAddress(mem.upperBound).pfn)
        let dBooted = g.swiotlb(commandLine: SwiotlbCommandLine(parsing: "512,force", kernel: .v6_18), kernel: .v6_18, dynamicPools: Range(raw: mem))
        var d = try #require(dBooted)
        let disk = DMADevice(name: "virtio1", dmaMask: ~0, segmentBoundaryMask: ~0)
        var mapped: [DMAAddress] = []
        for k in 0..<5 {
            let r = try d.mapPage(disk, PhysicalAddress(0x1000_0000 + UInt64(k) << 18), size: 256 << 10, direction: .toDevice).get()
            #expect(r.bounced)
            mapped.append(r.address)
        }
        // The fifth: every area of the 512-slot pool is full; swiotlb_find_slots (1206-1227)
        // schedules the worker, then a transient pool of nr_slots(256 KiB) = 128 slots, its
        // block the lowest 256 KiB of the memory; the worker's pool of default_nslabs 512
        // (swiotlb_alloc_pool, 683-731: below 2048, kept) takes the next 1 MiB-aligned block.
        #expect(mapped[4] == DMAAddress(mem.lowerBound))
        #expect(d.tlb.pools.map(\.origin) == [.boot, .transient, .grown])
        #expect(d.tlb.pools[2].start == PhysicalAddress(mem.lowerBound + (1 << 20)) && d.tlb.pools[2].nslabs == 512)
        let files = Dictionary(uniqueKeysWithValues: d.tlb.debugfs.map { ($0.file, $0.value) })
        #expect(files == ["io_tlb_nslabs": 1024, "io_tlb_used": 640, "io_tlb_used_hiwater": 640, "io_tlb_transient_nslabs": 128])
        // The transient pool is freed at unmap (swiotlb_del_transient): its slots leave both counts.
        try d.unmapPage(disk, mapped[4], size: 256 << 10, direction: .toDevice)
        let after = Dictionary(uniqueKeysWithValues: d.tlb.debugfs.map { ($0.file, $0.value) })
        #expect(after == ["io_tlb_nslabs": 1024, "io_tlb_used": 512, "io_tlb_used_hiwater": 640, "io_tlb_transient_nslabs": 0])
    }

    @Test("the worker halves 2048 → 1024 → 512 slots with limit_nareas, then 'Failed to allocate new pool'")
    func workerHalving() throws {
        var g = Self.guest(ram: 2 << 30)
        let mem = 0x4000_0000..<0x4020_0000 as Range<UInt64>  // 2 MiB
        g.memory.reserve(PhysicalAddress(mem.lowerBound).pfn..<PhysicalAddress(mem.upperBound).pfn)
        let dBooted = g.swiotlb(commandLine: SwiotlbCommandLine(parsing: "4096,force", kernel: .v6_18), kernel: .v6_18, cpus: 4, dynamicPools: Range(raw: mem))
        var d = try #require(dBooted)
        #expect(d.tlb.pools[0].nslabs == 4096 && d.tlb.pools[0].areas.count == 4)
        let disk = DMADevice(name: "virtio1", dmaMask: ~0, segmentBoundaryMask: ~0)
        for k in 0..<33 { _ = try d.mapPage(disk, PhysicalAddress(0x1000_0000 + UInt64(k) << 18), size: 256 << 10, direction: .toDevice).get() }
        // 32 maps fill the 4096 slots; the 33rd takes a transient pool at the memory's start and
        // the worker asks min(4096, 2048) slots in limit_nareas(4, 2048) = 4 areas (swiotlb.c:
        // 692-695): no 4 MiB block in 2 MiB, the one 2 MiB block holds the transient pool, so
        // 1024 → 512 slots (1 MiB) at 1 MiB (swiotlb.c:704-710).
        let grown = d.tlb.pools.filter { $0.origin == .grown }
        #expect(grown.map(\.nslabs) == [512] && grown.map(\.start) == [PhysicalAddress(mem.lowerBound + (1 << 20))] && grown[0].areas.count == 4)
        // Four more maps fill the grown pool; the fifth misses again: a transient pool at 256 KiB,
        // and a worker with no free 1 MiB block left (swiotlb.c:741-744).
        for k in 33..<38 { _ = try d.mapPage(disk, PhysicalAddress(0x1000_0000 + UInt64(k) << 18), size: 256 << 10, direction: .toDevice).get() }
        #expect(d.tlb.takeMessages().map(\.text).contains("software IO TLB: Failed to allocate new pool"))
    }
}
