import XenMemory

/// x86 `pci_iommu_alloc` → `swiotlb_init` (dma-direct) of the kernels with areas, in a guest
/// without Xen: 6.1.192 and 6.18.2 run the same steps (``Linux6_18/setUpNativePools(commandLine:guest:platform:)``
/// names them with their lines), and differ in two: 6.18 limits the areas of a halved pool to one
/// per 128 slots (`limit_nareas`, passed to `swiotlb_init_io_tlb_pool`) where 6.1.192 computes the
/// limit but gives the pool `default_nareas` (6.1.192 swiotlb.c:382-387, 411-412), and only 6.18 has
/// `CONFIG_SWIOTLB_DYNAMIC`.
enum NativeAreaPoolSetup {
    /// The set-up for `c` in guest `g`: `sizing` is the kernel's `swiotlb_adjust_size` rule,
    /// `limitsAreas` 6.18's `limit_nareas`, `growsPools` whether the kernel has dynamic pools
    /// (then the platform's ``NativePoolPlatform/dynamicPoolMemory()`` gives them memory, and a
    /// confidential guest's DMA atomic pools, ``AtomicPools``, are set up at `postcore_initcall`,
    /// after `mem_encrypt_init`'s line and before `pci_iommu_init`'s).
    static func run<Platform: NativePoolPlatform>(
        commandLine c: SwiotlbCommandLine, guest g: NativeGuestFacts, sizing: EncryptedGuestSizing, limitsAreas: Bool, growsPools: Bool,
        platform: inout Platform
    ) -> NativePoolSetup {
        let prefix = SwiotlbKernelText.messagePrefix
        var log: [String] = []
        var nslabs = c.effectiveNslabs
        let givenAreas = c.areas.map { Linux61PoolSetup.adjustNareas(&nslabs, $0, &log) }
        if g.encryption != nil, let adjusted = sizing.adjust(ramBytes: g.ramBytes, commandLine: c) {
            nslabs = adjusted.nslabs
            log.append(prefix + adjusted.line)
        }
        var pool: SlotPool?
        var growth: PoolGrowth?
        if (g.swiotlbEnabled || c.force == .force) && c.force != .noForce {
            let defaultAreas = givenAreas ?? Linux61PoolSetup.adjustNareas(&nslabs, UInt64(max(g.cpus, 1)), &log)
            let requested = nslabs
            var nareas = limitsAreas ? RemapPoolSetup.limitAreas(defaultAreas, slots: nslabs) : defaultAreas
            while pool == nil {
                let (shifted, overflow) = nslabs.multipliedReportingOverflow(by: UInt64(IOTLB.slotSize))
                let bytes = overflow ? UInt64.max & ~4095 : (shifted &+ 4095) & ~4095
                if !overflow, let start = platform.allocateEarly(bytes: bytes, belowFourGiB: true) {
                    pool = SlotPool(start: start, nslabs: Int(nslabs), areas: Int(nareas))
                    break
                }
                log.append(prefix + "swiotlb_memblock_alloc: Failed to allocate \(bytes) bytes tlb structure")
                if nslabs <= RemapPoolSetup.minSlabs { break }
                nslabs = IOTLB.alignToSegment(nslabs >> 1)
                if limitsAreas { nareas = RemapPoolSetup.limitAreas(nareas, slots: nslabs) }
            }
            if pool != nil {
                if nslabs != requested { log.append(prefix + "SWIOTLB bounce buffer size adjusted \(requested) -> \(nslabs) slabs") }
                growth = (growsPools ? platform.dynamicPoolMemory() : nil).map {
                    PoolGrowth(canGrow: true, physLimit: PhysicalAddress(0xffff_ffff), defaultNslabs: Int(nslabs), defaultAreas: Int(defaultAreas), memory: $0)
                }
            }
        }
        switch g.encryption {
        case .sev: log.append("Memory Encryption Features active: AMD SEV")
        case .tdx: log.append("Memory Encryption Features active: Intel TDX")
        case nil: break
        }
        if growsPools && g.encryption != nil {
            let atomic = AtomicPools(size: AtomicPools.size(totalPages: platform.managedPages(), coherentPool: g.coherentPool)) {
                platform.allocatePages(order: $0, limit: $1.limit)
            }
            log += atomic.bootLines
            growth?.atomicPools = atomic
        }
        if g.swiotlbEnabled {
            log.append(SwiotlbKernelText.softwareBounceBuffering)
            log.append(pool.map(SoftwareIOTLB.mappedLine) ?? prefix + "No low mem")
        }
        let force: SwiotlbForce = c.force == .noForce ? .noForce : g.encryption != nil ? .force : c.force
        return NativePoolSetup(pools: pool.map { [$0] } ?? [], log: log, force: force, growth: growth)
    }
}
