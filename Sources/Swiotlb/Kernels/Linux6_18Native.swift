import XenMemory

extension Linux6_18 {
    /// x86 6.18 without Xen (kernel/dma/swiotlb.c, arch/x86/kernel/pci-dma.c,
    /// arch/x86/mm/mem_encrypt.c of 6.18.2), in the kernel's order:
    /// - `swiotlb=<n>,<areas>`: `swiotlb_adjust_nareas` while the command line is parsed
    ///   (swiotlb.c:152-166, 185-203): `area num %d.` and, when the size grows,
    ///   `SWIOTLB bounce buffer size roundup to %luMB`;
    /// - SEV/TDX (`mem_encrypt_setup_arch`, mem_encrypt.c:102-137): `swiotlb_adjust_size` of 6 %
    ///   of memory clamped to 64 MiB – 1 GiB while `default_nslabs` is 32768 (swiotlb.c:212-227,
    ///   ``encryptedGuestSizing``);
    /// - `swiotlb_init(x86_swiotlb_enable, flags)` (pci-dma.c:98-110 → swiotlb.c:354-425): no
    ///   pool unless RAM reaches above 4 GiB, memory is encrypted, `iommu=soft` or
    ///   `swiotlb=force`, none with `noforce`; `area num` for `num_possible_cpus()` when the
    ///   command line gave no areas; `memblock_alloc_low` of the pool, halved (`ALIGN(nslabs >> 1,
    ///   128)`, `limit_nareas`) after each `swiotlb_memblock_alloc: Failed to allocate %zu bytes
    ///   tlb structure` down to 512 slots, then no pool (no panic); `SWIOTLB bounce buffer size
    ///   adjusted %lu -> %lu slabs`; with `CONFIG_SWIOTLB_DYNAMIC` (the platform gives
    ///   ``NativePoolPlatform/dynamicPoolMemory()``) `can_grow` (no remap callback) with
    ///   `phys_limit` `ARCH_LOW_ADDRESS_LIMIT`, 4 GiB − 1 (no `SWIOTLB_ANY`), the halved size as
    ///   `default_nslabs` and the unlimited `default_nareas`;
    /// - `Memory Encryption Features active: AMD SEV` / `Intel TDX` (`mem_encrypt_init`,
    ///   mem_encrypt.c:45-84);
    /// - `pci_iommu_init` (pci-dma.c:172-186): when `x86_swiotlb_enable`, `PCI-DMA: Using
    ///   software bounce buffering for IO (SWIOTLB)` and the `mapped` line, or `No low mem`.
    /// Encrypted memory forces bouncing (`SWIOTLB_FORCE`). Never nil: 6.18 boots without a pool.
    public static func setUpNativePools<Platform: NativePoolPlatform>(
        commandLine c: SwiotlbCommandLine, guest g: NativeGuestFacts, platform: inout Platform
    ) -> NativePoolSetup? {
        NativeAreaPoolSetup.run(commandLine: c, guest: g, sizing: encryptedGuestSizing, limitsAreas: true, growsPools: true, platform: &platform)
    }

}
