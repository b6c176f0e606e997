import XenMemory

/// How Linux 6.1 sizes its default pool for `swiotlb=<N>[,<A>]`: N aligned up to 128 slots;
/// the area count (A, or the possible CPUs when A is not given) 0 → 1 and rounded up to a power
/// of two; the slots then raised to 128 per area and rounded up to a power of two — with one
/// area too (`setup_io_tlb_npages`, `swiotlb_adjust_nareas`, `round_up_default_nslabs`).
public struct Linux61PoolSetup: Sendable, Hashable {
    /// Slots of the pool (`default_nslabs` after the round-ups).
    public let nslabs: UInt64
    /// Areas (`default_nareas`).
    public let areas: UInt64
    /// Whether the slot count was rounded up after the areas were known (the kernel then logs
    /// `SWIOTLB bounce buffer size roundup to <M>MB`).
    public let roundedUp: Bool

    /// The set-up for `requested` slots (the number after `swiotlb=`) and `areas` (the number
    /// after the comma; nil: `possibleCPUs`). Nil when the result would exceed `limit` slots
    /// (the arithmetic is checked, so no input can overflow it).
    public init?(requested: UInt64, areas: UInt64?, possibleCPUs: UInt64 = 1, limit: UInt64 = UInt64(IOTLB.maxModelSlots)) {
        let segment = UInt64(IOTLB.segmentSlots)
        guard requested <= limit else { return nil }
        let aligned = IOTLB.alignToSegment(requested)
        let wanted = max(areas ?? possibleCPUs, 1)
        guard wanted <= limit / segment, let nareas = Self.powerOfTwoAtLeast(wanted) else { return nil }
        var n = aligned
        var rounded = false
        if n < segment * nareas {
            n = segment * nareas
            rounded = true
        } else if n & (n - 1) != 0 {
            guard let up = Self.powerOfTwoAtLeast(n) else { return nil }
            n = up
            rounded = true
        }
        guard n <= limit else { return nil }
        self.nslabs = n
        self.areas = nareas
        self.roundedUp = rounded
    }

    /// Slots per area (`area_nslabs`).
    public var areaSlots: UInt64 { nslabs / areas }

    /// A trace's pool line set up this way (6.1 and 6.18 alike): any size from 1; refused when
    /// `kernel` (its title, for the message) would set it up beyond what the model holds.
    static func tracePool(nslabs: UInt64, areas: UInt64?, line: Int, kernel: String) throws(TraceError) -> TracePoolShape {
        guard nslabs > 0, nslabs <= UInt64(IOTLB.maxModelSlots) else {
            throw TraceError(line: line, token: "nslabs=\(nslabs)", message: "nslabs must be 1 to \(IOTLB.maxModelSlots)")
        }
        guard areas.map({ $0 <= UInt64(IOTLB.maxModelSlots / IOTLB.segmentSlots) }) ?? true,
            let setup = Linux61PoolSetup(requested: nslabs, areas: areas)
        else {
            throw TraceError(
                line: line, token: "areas=\(areas ?? 1)",
                message: "\(kernel) would set this pool up with more than \(IOTLB.maxModelSlots) slots (128 per area, rounded up to a power of two)")
        }
        return TracePoolShape(nslabs: Int(setup.nslabs), areas: Int(setup.areas))
    }

    /// `roundup_pow_of_two(n)` for n ≥ 1; nil beyond 2^63.
    public static func powerOfTwoAtLeast(_ n: UInt64) -> UInt64? {
        if n <= 1 { return 1 }
        let bits = 64 - (n - 1).leadingZeroBitCount
        return bits < 64 ? 1 << UInt64(bits) : nil
    }
}

extension Linux61PoolSetup {
    /// `swiotlb_adjust_nareas(nareas)` (6.18 swiotlb.c:152-166, as 6.1): the areas (0 → 1, else rounded up
    /// to a power of two) as `default_nareas`, `area num %d.`, and `round_up_default_nslabs`
    /// on `nslabs` (at least 128 per area, a power of two) with its `roundup to` line. A size
    /// beyond what the model can round is left as it is.
    static func adjustNareas(_ nslabs: inout UInt64, _ nareas: UInt64, _ log: inout [String]) -> UInt64 {
        let prefix = SwiotlbKernelText.messagePrefix
        guard let setup = Linux61PoolSetup(requested: nslabs, areas: nareas, limit: 1 << 52) else {
            let areas = Linux61PoolSetup.powerOfTwoAtLeast(max(nareas, 1)) ?? 1
            log.append(prefix + SwiotlbKernelText.areaCount + "\(areas).")
            return areas
        }
        log.append(prefix + SwiotlbKernelText.areaCount + "\(setup.areas).")
        if setup.roundedUp {
            nslabs = setup.nslabs
            log.append(prefix + "SWIOTLB bounce buffer size roundup to \((nslabs << UInt64(IOTLB.shift)) >> 20)MB")
        }
        return setup.areas
    }
}

/// `swiotlb_init_remap(true, SWIOTLB_ANY, xen_swiotlb_fixup)` as 6.1.192 and 6.18 run it for a
/// PV dom0 (`pci_xen_swiotlb_init`), then `pci_iommu_init`'s lines:
/// - `area num %d.` and, when the size changed, `SWIOTLB bounce buffer size roundup to %luMB`
///   (`swiotlb_adjust_nareas`; the size as ``Linux61PoolSetup`` gives it);
/// - `swiotlb_memblock_alloc`: the buffer top-down anywhere, then the fixup per segment; a
///   failure of either prints `swiotlb_memblock_alloc: Failed to allocate %zu bytes tlb
///   structure` or `…: Failed to remap %zu bytes` (the buffer freed) and, while the size is
///   above `IO_TLB_MIN_SLABS` (512 slots), the size is halved (`ALIGN(nslabs >> 1, 128)`)
///   and tried again; at 512 or below the set-up gives up without a pool (no panic);
/// - a pool of another size than the default prints `SWIOTLB bounce buffer size adjusted
///   %lu -> %lu slabs`; its areas are `default_nareas` (6.1.192) or, with `limitsAreas`,
///   `limit_nareas` of them for each size tried (6.18: at most one area per 128 slots);
/// - `PCI-DMA: Using software bounce buffering for IO (SWIOTLB)`, then `swiotlb_print_info`:
///   the `mapped` line, or `No low mem` without a pool.
/// A size the model cannot hold (beyond 2^52 slots) fails every allocation, as memory that
/// large would.
enum RemapPoolSetup {
    /// `IO_TLB_MIN_SLABS`: the size (1 MiB) at or below which `swiotlb_init_remap` stops halving.
    static let minSlabs: UInt64 = (1 << 20) >> UInt64(IOTLB.shift)

    /// `limit_nareas(nareas, nslots)` (6.18 swiotlb.c:177): at most `nslots / 128` areas, the
    /// product `nareas * IO_TLB_SEGSIZE` in the kernel's `unsigned int`.
    static func limitAreas(_ nareas: UInt64, slots: UInt64) -> UInt64 {
        let product = UInt64(UInt32(truncatingIfNeeded: nareas) &* UInt32(IOTLB.segmentSlots))
        return slots < product ? slots / UInt64(IOTLB.segmentSlots) : nareas
    }

    /// The set-up for `commandLine` on a dom0 with `cpus` possible CPUs.
    static func run<Platform: XenPoolPlatform>(
        commandLine: SwiotlbCommandLine, cpus: Int, limitsAreas: Bool,
        platform: inout Platform
    ) -> XenPoolSetup {
        let setup = Linux61PoolSetup(
            requested: commandLine.effectiveNslabs, areas: commandLine.areas,
            possibleCPUs: UInt64(max(cpus, 1)), limit: 1 << 52)
        let defaultAreas = setup?.areas ?? 1
        let prefix = SwiotlbKernelText.messagePrefix
        var log = [prefix + SwiotlbKernelText.areaCount + "\(defaultAreas)."]
        let defaultNslabs = setup?.nslabs ?? commandLine.effectiveNslabs
        if setup?.roundedUp == true {
            log.append(prefix + "SWIOTLB bounce buffer size roundup to \((defaultNslabs &<< 11) >> 20)MB")
        }
        var nslabs = defaultNslabs
        var nareas = limitsAreas ? limitAreas(defaultAreas, slots: nslabs) : defaultAreas
        var pool: SlotPool?
        while pool == nil {
            let bytes = (nslabs &<< UInt64(IOTLB.shift) &+ 4095) & ~4095
            if setup != nil, let start = platform.allocateEarly(bytes: bytes) {
                if platform.remap(start: start, nslabs: Int(nslabs), pool: 0, firstBits: 18, maxBits: XenPoolType.maxDMABits) {
                    pool = SlotPool(start: start, nslabs: Int(nslabs), areas: Int(nareas))
                    break
                }
                platform.free(start: start, bytes: bytes)
                log.append(prefix + "swiotlb_memblock_alloc: Failed to remap \(bytes) bytes")
            } else {
                log.append(prefix + "swiotlb_memblock_alloc: Failed to allocate \(bytes) bytes tlb structure")
            }
            if nslabs <= minSlabs { break }
            nslabs = IOTLB.alignToSegment(nslabs >> 1)
            if limitsAreas { nareas = limitAreas(nareas, slots: nslabs) }
        }
        if let pool, nslabs != defaultNslabs {
            log.append(prefix + "SWIOTLB bounce buffer size adjusted \(defaultNslabs) -> \(pool.nslabs) slabs")
        }
        log.append(SwiotlbKernelText.softwareBounceBuffering)
        log.append(pool.map(SoftwareIOTLB.mappedLine) ?? prefix + "No low mem")
        return XenPoolSetup(pools: pool.map { [$0] } ?? [], log: log)
    }
}
