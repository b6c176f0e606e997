import XenMemory

/// A message the kernel would print.
public struct KernelMessage: Sendable, Hashable, CustomStringConvertible {
    /// The device name `dev_warn` puts first, if any.
    public var device: String?
    /// The device's driver (`dev_driver_string`), which `dev_warn` puts before its name, when known.
    public var driver: String? = nil
    /// The text, without the trailing newline.
    public var text: String
    /// The line as it appears in the log: `dev_printk`'s `"%s %s: "` prefix, driver and device
    /// name (the name alone when the driver is not known), then the text.
    public var description: String {
        guard let device else { return text }
        return driver.map { "\($0) \(device): \(text)" } ?? "\(device): \(text)"
    }
}

/// Why a map did not return a bounce buffer.
public enum SwiotlbMapError: Error, Sendable, Hashable {
    /// `mapping_size > alloc_size`: "Invalid sizes".
    case invalidSize
    /// No run of free slots fits: "swiotlb buffer is full".
    case full
}

/// Where the kernel would `BUG()` or `panic()`, or never return.
public enum SwiotlbBug: Error, Sendable, Hashable, CustomStringConvertible {
    /// Linux 6.1.192's slot search in `area` loops forever with the area lock held (its index
    /// stepped past the wrap point; later kernels bound the loop): a hang of the map on `device`.
    case searchNeverEnds(area: Int, device: String?)
    /// A sync whose direction contradicts the target (`BUG_ON` in `swiotlb_tbl_sync_single`).
    case syncDirection(DMADirection, SyncTarget)
    /// A mapping of zero slots.
    case zeroSize
    /// An address that is in no pool.
    case notABounceBuffer(PhysicalAddress)
    /// A segment boundary that is not a power of two (`iommu_is_span_boundary`'s `BUG_ON`).
    case boundaryNotPowerOfTwo(UInt64)

    /// What happened, in the kernel's words where it has them.
    public var description: String {
        switch self {
        case .searchNeverEnds(let area, let device):
            return
                "kernel hang: Linux 6.1.192 would never return from a map\(device.map { " on \($0)" } ?? "") (its slot search loops in area \(area) with the area lock held)"
        case .syncDirection(let d, let t): return "kernel BUG: sync for \(t.rawValue) with direction \(d.rawValue)"
        case .zeroSize: return "kernel BUG: mapping of 0 slots"
        case .notABounceBuffer(let a): return "kernel BUG: \(a) is not in any swiotlb pool"
        case .boundaryNotPowerOfTwo(let m): return "kernel BUG: segment boundary mask \(Hex.plain(m)) is not 2^n-1"
        }
    }
}

/// Why a write to a swiotlb debugfs file fails.
public enum DebugfsWriteError: Error, Sendable, Hashable {
    /// The kernel has no such file (`ENOENT`).
    case noSuchFile
    /// The kernel refuses the value (`EINVAL`).
    case invalidValue
}

/// A successful bounce mapping.
public struct BounceMapping: Sendable, Hashable {
    /// The bounce buffer's address (`tlb_addr`).
    public var address: PhysicalAddress
    /// Which pool it came from.
    public var pool: Int
    /// Its first slot.
    public var slot: Int
    /// Slots taken.
    public var nslots: Int
}

/// The software IO TLB of one kernel: its pools, force mode, messages and the bytes it copies.
/// What the kernel does with them is its type's (``SwiotlbKernelModel``); this holds the state
/// and the steps every kernel shares.
///
/// v5.11 and 6.1 have one pool; rfc-v1 has a low pool and optionally a high (64-bit) pool,
/// chosen per mapping by the device's `min_not_zero(dma_mask, bus_dma_limit)`.
public struct SoftwareIOTLB: Sendable {
    /// The kernel whose behaviour is modelled.
    public let kernel: SwiotlbKernel
    /// The pools: the low (or only) pool first.
    public internal(set) var pools: [SlotPool]
    /// `swiotlb_force`.
    public var force: SwiotlbForce
    /// The physical memory the pools and the original buffers live in.
    public var memory = PhysicalMemory()
    /// Whether map/unmap/sync copy bytes (off for trace replay, which carries no data).
    public var copiesData = true
    /// Bytes the kernel's bounces moved (or would have, with ``copiesData`` off).
    public private(set) var bytesBounced: UInt64 = 0
    /// Messages printed so far.
    public private(set) var messages: [KernelMessage] = []
    /// Whether `Invalid sizes` was printed (`dev_warn_once`: once per boot, whatever the device).
    private var warnedInvalidSize = false
    /// The once-per-boot warnings already printed (``warnOnce(site:device:_:)``).
    private var warnedSites: Set<String> = []
    /// The model's clock in jiffies (``KernelRateLimit/hz``), which the rate-limited messages
    /// (``RateLimitedMessage``) are checked against; nil: no clock (trace replay, whose trace
    /// carries no time), and every such message is printed.
    public var jiffies: UInt64?
    /// Each rate-limited message's `ratelimit_state`.
    private var rateLimits = [KernelRateLimit](repeating: KernelRateLimit(), count: RateLimitedMessage.allCases.count)
    /// Messages the rate limits held back so far.
    public private(set) var suppressedMessages = 0
    /// `cc_platform_has(CC_ATTR_MEM_ENCRYPT)` (v5.11: `mem_encrypt_active()`): a confidential
    /// guest, whose first map prints `Memory encryption is active and system is using DMA
    /// bounce buffers` (`pr_warn_once`).
    public var memoryEncrypted = false
    /// 6.18's `used_hiwater`: the most slots used at once over every pool (debugfs
    /// `io_tlb_used_hiwater`), which a write of 0 resets (``resetUsedHighWater(to:)``).
    public internal(set) var usedHighWater = 0
    /// 6.18's `CONFIG_SWIOTLB_DYNAMIC` state (nil: a kernel without it, whose pools never grow).
    public var growth: PoolGrowth?
    /// `max_segment` (what `swiotlb_max_segment()` returns while memory exists).
    public var maxSegment: UInt64

    /// A TLB over the given pools (the kernel's `swiotlb_init_with_tbl` for each).
    public init(kernel: SwiotlbKernel = .default, pools: [SlotPool], force: SwiotlbForce = .normal) {
        self.kernel = kernel
        self.pools = pools
        self.force = force
        let bytes = pools.first?.bytes ?? 0
        maxSegment = force == .force ? 1 : bytes / 4096 * 4096
    }

    /// The `software IO TLB: mapped [mem %pa-%pa] (%luMB)` lines (a named pool, as the RFC's:
    /// `<name> mapped …`).
    public var infoLines: [String] { pools.map(Self.mappedLine) }

    /// `swiotlb_print_info` for `pool`.
    public static func mappedLine(_ pool: SlotPool) -> String {
        SwiotlbKernelText.messagePrefix + namePrefix(pool) + SwiotlbKernelText.mappedMemory
            + "0x\(Hex.padded(pool.start.rawValue, 16))-0x\(Hex.padded(pool.end.rawValue, 16))] (\(pool.bytes >> 20)MB)"
    }

    /// `<name> ` for a named pool (the RFC's messages put it first), else nothing.
    static func namePrefix(_ pool: SlotPool) -> String { pool.name.map { "\($0) " } ?? "" }

    /// The debugfs files and values (``SwiotlbKernelModel/debugfs(_:)``).
    public var debugfs: [(file: String, value: Int)] { kernel.model.debugfs(self) }

    /// The index of the pool `address` lies in.
    @inline(__always)
    func pool(holding address: PhysicalAddress) -> Int? {
        var p = 0
        while p < pools.count {
            if address.rawValue &- pools[p].start.rawValue < pools[p].bytes { return p }
            p &+= 1
        }
        return nil
    }

    /// `is_swiotlb_buffer(paddr)`.
    public func isBounceBuffer(_ address: PhysicalAddress) -> Bool { pools.contains { $0.contains(address) } }

    /// `swiotlb_max_segment()`.
    public var maxSegmentSize: UInt64 { pools.isEmpty ? 0 : maxSegment }

    /// The pool the RFC rule picks: the high pool iff it exists and the device's
    /// `min_not_zero(dma_mask, bus_dma_limit)` is exactly `DMA_BIT_MASK(64)` (with one pool, it).
    /// Pools added after boot (6.18's dynamic pools) are no high pool: with them, the first.
    @inline(__always)
    public func poolIndex(for device: DMADevice) -> Int {
        pools.count > 1 && pools[1].origin == .boot && device.effectiveLimit == ~0 ? 1 : 0
    }

    /// The boot pool whose counts an op on pool `p` reports: `p` itself, or the first pool for
    /// a pool added after boot.
    @inline(__always)
    public func homePool(of p: Int) -> Int { p < pools.count && pools[p].origin == .boot ? p : 0 }

    /// The used slots a kernel reports after an op on boot pool `p` (`io_tlb_used`, the "full"
    /// message's `used`): that pool's, plus every pool added after boot (6.18's `mem_used`
    /// counts grown and transient pools alike).
    @inline(__always)
    public func usedSlots(reportedFor p: Int) -> Int {
        var n = pools[p].used
        for q in pools where q.origin != .boot { n &+= q.used }
        return n
    }

    /// The total slots a kernel reports for boot pool `p` (`io_tlb_nslabs`, the "full" message's
    /// `total`): that pool's, plus the grown pools (6.18's `mem->nslabs`; transient pools are
    /// not counted).
    public func totalSlots(reportedFor p: Int) -> Int {
        var n = pools[p].nslabs
        for q in pools where q.origin == .grown { n &+= q.nslabs }
        return n
    }

    /// 6.18's `io_tlb_transient_nslabs`: the slots of the transient pools now mapped.
    public var transientSlots: Int { pools.reduce(0) { $0 &+ ($1.origin == .transient ? $1.nslabs : 0) } }

    /// `swiotlb_tbl_map_single(dev, orig, mapping_size, alloc_size, [alloc_align_mask,] dir, attrs)`
    /// of the TLB's kernel (`alignMask` is 6.1's `alloc_align_mask`, `cpu` the processor the map
    /// runs on). Throws where the kernel would BUG, and
    /// ``SwiotlbBug/searchNeverEnds(area:device:)`` where its search would loop forever.
    public mutating func map(
        device: DMADevice, original: PhysicalAddress, mappingSize: Int, allocSize: Int,
        direction: DMADirection, attributes: DMAAttributes = [],
        tableDMAAddress: DMAAddress? = nil, alignMask: UInt64 = 0, cpu: Int = 0
    ) throws(SwiotlbBug) -> Result<BounceMapping, SwiotlbMapError> {
        let request = MapRequest(
            device: device, original: original, mappingSize: mappingSize, allocSize: allocSize,
            direction: direction, attributes: attributes, tableDMAAddress: tableDMAAddress,
            alignMask: alignMask, cpu: cpu)
        return try kernel.model.mapSingle(&self, request)
    }

    /// `swiotlb_tbl_unmap_single(dev, tlb, mapping_size, alloc_size, dir, attrs)` of the TLB's
    /// kernel: the copy back, then the release. Returns the pool it freed from.
    @discardableResult
    public mutating func unmap(
        _ tlb: PhysicalAddress, mappingSize: Int, allocSize: Int, direction: DMADirection,
        attributes: DMAAttributes = [], minAlignMask: UInt64 = 0
    ) throws(SwiotlbBug) -> Int {
        guard let p = pool(holding: tlb) else { throw .notABounceBuffer(tlb) }
        let request = UnmapRequest(
            mappingSize: mappingSize, allocSize: allocSize, direction: direction,
            attributes: attributes, minAlignMask: minAlignMask)
        try kernel.model.unmapSingle(&self, tlb, pool: p, request)
        return p
    }

    /// `swiotlb_tbl_sync_single(dev, tlb, size, dir, target)` of the TLB's kernel: for the CPU
    /// copy back (FROM_DEVICE/BIDIRECTIONAL), for the device copy out (TO_DEVICE/BIDIRECTIONAL);
    /// any other combination but the no-op one is the kernel's BUG.
    public mutating func sync(
        _ tlb: PhysicalAddress, size: Int, direction: DMADirection, target: SyncTarget,
        minAlignMask: UInt64 = 0
    ) throws(SwiotlbBug) {
        guard let p = pool(holding: tlb) else { throw .notABounceBuffer(tlb) }
        try kernel.model.syncSingle(&self, tlb, pool: p, size: size, direction: direction, target: target, minAlignMask: minAlignMask)
    }

    /// `swiotlb_max_mapping_size(dev)` of the TLB's kernel.
    public func maxMappingSize(for device: DMADevice) -> Int { kernel.model.maxMappingSize(minAlignMask: device.minAlignMask) }

    // MARK: Steps the kernels share

    /// The frame of every kernel's `swiotlb_tbl_map_single` around its slot search, in the
    /// kernels' order: `Invalid sizes` (when the kernel takes an `alloc_size`; warned once per
    /// boot), no pool at all (``MapFrame/noPool``), a mapping of no slots (the kernel's BUG),
    /// then `search`; a search that finds nothing prints the "buffer is full" line (its `sz`:
    /// `fullSize`) and fails.
    @inline(__always)
    mutating func runMap(
        _ r: MapRequest, _ frame: MapFrame, nslots: Int, fullSize: Int,
        _ search: (inout SoftwareIOTLB) throws(SwiotlbBug) -> BounceMapping?
    ) throws(SwiotlbBug) -> Result<BounceMapping, SwiotlbMapError> {
        if frame.checksSizes && r.mappingSize > r.allocSize {
            if !warnedInvalidSize {
                warnedInvalidSize = true
                messages.append(
                    KernelMessage(
                        device: r.device.name, driver: r.device.driver, text: "Invalid sizes (mapping: \(r.mappingSize) bytes, alloc: \(r.allocSize) bytes)"))
            }
            return .failure(.invalidSize)
        }
        guard !pools.isEmpty else {
            switch frame.noPool {
            case .fullMessage:
                if !r.attributes.contains(.noWarn) {
                    warnRateLimited(
                        .bufferFull,
                        KernelMessage(
                            device: r.device.name, driver: r.device.driver,
                            text: "swiotlb buffer is full (sz: \(r.allocSize) bytes), total 0 (slots), used 0 (slots)"))
                }
            case .cannotAllocate:
                warnRateLimited(
                    .noPool,
                    KernelMessage(
                        device: r.device.name, driver: r.device.driver,
                        text: "Can not allocate SWIOTLB buffer earlier and can't now provide you with the DMA bounce buffer"))
            }
            return .failure(.full)
        }
        if memoryEncrypted {
            warnOnce(
                site: "swiotlb_tbl_map_single", device: nil,
                SwiotlbKernelText.messagePrefix + "Memory encryption is active and system is using DMA bounce buffers")
        }
        guard nslots > 0 else { throw .zeroSize }
        guard let mapping = try search(&self) else {
            reportFull(r, size: fullSize, pool: poolIndex(for: r.device))
            return .failure(.full)
        }
        return .success(mapping)
    }

    /// Where a map on pool `p` searches: the device's segment boundary counted from the pool's
    /// DMA address (`tbl_dma_addr`, `offset_slots`, `max_slots`; `iommu_is_span_boundary`'s
    /// power-of-two `BUG_ON`). `tableDMAAddress` is the address the device sees for the first
    /// pool (nil: its pseudo-physical start); other pools are seen at their start.
    @inline(__always)
    func window(pool p: Int, for r: MapRequest) throws(SwiotlbBug) -> MapWindow {
        let mask = r.device.segmentBoundaryMask
        let tblDMA = ((p == poolIndex(for: r.device) ? r.tableDMAAddress : nil) ?? pools[p].start.directDMA).rawValue & mask
        let offsetSlots = (tblDMA &+ UInt64(IOTLB.slotSize - 1)) >> UInt64(IOTLB.shift)
        let maxSlots: UInt64 = mask &+ 1 != 0 ? ((mask &+ 1) &+ UInt64(IOTLB.slotSize - 1)) >> UInt64(IOTLB.shift) : 1 << UInt64(64 - IOTLB.shift)
        guard maxSlots & (maxSlots &- 1) == 0, maxSlots != 0 else { throw .boundaryNotPowerOfTwo(mask) }
        return MapWindow(pool: p, tableDMAAddress: tblDMA, offsetSlots: offsetSlots, maxSlots: maxSlots)
    }

    /// `swiotlb buffer is full (sz: …), total … (slots), used … (slots)` with the counts of
    /// boot pool `p` (``totalSlots(reportedFor:)``, ``usedSlots(reportedFor:)``; a named pool's
    /// name first), unless the map asked for no warning.
    mutating func reportFull(_ r: MapRequest, size: Int, pool p: Int) {
        guard !r.attributes.contains(.noWarn) else { return }
        warnRateLimited(
            .bufferFull,
            KernelMessage(
                device: r.device.name, driver: r.device.driver,
                text: Self.namePrefix(pools[p])
                    + "swiotlb buffer is full (sz: \(size) bytes), total \(totalSlots(reportedFor: p)) (slots), used \(usedSlots(reportedFor: p)) (slots)"))
    }

    /// `inc_used_and_hiwater` (6.18): the high-water mark raised to the slots now used.
    @inline(__always)
    mutating func noteUsed() {
        let now = usedSlots(reportedFor: 0)
        if now > usedHighWater { usedHighWater = now }
    }

    /// A write of `value` to 6.18's debugfs `io_tlb_used_hiwater` (`io_tlb_hiwater_set`): only 0
    /// is accepted (the mark is reset to it); anything else is the kernel's `-EINVAL`, and a
    /// kernel without the file refuses the write too.
    public mutating func writeUsedHighWater(_ value: UInt64) throws(DebugfsWriteError) {
        guard debugfs.contains(where: { $0.file == SwiotlbKernelText.highWaterFile }) else { throw .noSuchFile }
        guard value == 0 else { throw .invalidValue }
        usedHighWater = 0
    }

    /// Records a message the kernel prints every time (a `WARN`).
    mutating func warn(_ message: KernelMessage) { messages.append(message) }

    /// Records `message` as its rate limit lets it through at ``jiffies``, after the
    /// `callbacks suppressed` line that limit prints first (``KernelRateLimit``); without a
    /// clock, always.
    mutating func warnRateLimited(_ site: RateLimitedMessage, _ message: KernelMessage) {
        guard let now = jiffies else { messages.append(message); return }
        let (prints, suppressed) = rateLimits[site.rawValue].check(at: now)
        if suppressed > 0 { messages.append(KernelMessage(device: nil, text: "\(site.function): \(suppressed) callbacks suppressed")) }
        if prints { messages.append(message) } else { suppressedMessages &+= 1 }
    }

    /// Records a message the kernel prints once per boot from one place (`dev_WARN_ONCE`,
    /// `pr_warn_once`): printed the first time `text`'s call site (`site`) is reached.
    mutating func warnOnce(site: StaticString, device: String?, driver: String? = nil, _ text: String) {
        let key = site.description
        guard !warnedSites.contains(key) else { return }
        warnedSites.insert(key)
        messages.append(KernelMessage(device: device, driver: driver, text: text))
    }

    /// A bounce copy of `count` bytes, counted, and made when ``copiesData`` is on.
    @inline(__always)
    mutating func bounce(from source: PhysicalAddress, to destination: PhysicalAddress, count: Int) {
        guard count > 0 else { return }
        bytesBounced &+= UInt64(count)
        if copiesData { memory.copy(from: source, to: destination, count: count) }
    }

    /// Drops the messages collected so far and returns them.
    public mutating func takeMessages() -> [KernelMessage] {
        defer { messages.removeAll() }
        return messages
    }
}
