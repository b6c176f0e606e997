import XenMemory

/// The DMA atomic pools of kernel/dma/pool.c (6.18.2), from which a confidential guest's
/// transient swiotlb pools take their memory: `swiotlb_alloc_tlb` cannot wait to decrypt pages
/// for a map (`GFP_NOWAIT` with `force_dma_unencrypted`), so it calls `dma_alloc_from_pool`.
///
/// - Size: `coherent_pool=`, else `totalram_pages() / (SZ_1G / SZ_128K)` pages, at most
///   `MAX_ORDER_NR_PAGES` (1024: 4 MiB), at least 128 KiB (`dma_atomic_pool_init`); each pool
///   gets one chunk of `1 << min(get_order(size), MAX_PAGE_ORDER)` pages (`atomic_pool_expand`,
///   halving the order while no block is free), `DMA: preallocated %zu KiB %pGg pool for atomic
///   allocations` for GFP_KERNEL, then GFP_KERNEL|GFP_DMA (when ZONE_DMA has managed pages),
///   then GFP_KERNEL|GFP_DMA32.
/// - Allocation (`dma_alloc_from_pool` with no zone flag): the GFP_KERNEL pool, then DMA32, then
///   DMA (`dma_guess_pool`); in each, the chunks newest first (`gen_pool_add` puts a chunk at
///   the head), the first run of free pages aligned to its own size rounded up to a power of
///   two (`gen_pool_first_fit_order_align`), kept only when its last byte is within the
///   device's `min_not_zero(coherent_dma_mask, bus_dma_limit)` (`dma_coherent_ok`); none:
///   `Failed to get suitable pool for %s` (a `WARN`, every time). A pool left with less than
///   the size free schedules the work that grows it.
/// - Growth (`atomic_pool_work_fn`, the model's moment: after the map, after swiotlb's own
///   worker): DMA, DMA32, then GFP_KERNEL, each with less than the size free grows by a chunk of
///   its whole size (`gen_pool_size`), at most order 10, taken from the run-time memory under
///   the zone's limit (16 MiB for DMA, 4 GiB for DMA32, none for GFP_KERNEL); a failure is
///   silent (`__GFP_NOWARN`).
public struct AtomicPools: Sendable, Hashable {
    /// A zone's pool.
    public enum Zone: Int, Sendable, CaseIterable {
        /// `atomic_pool_kernel` (`GFP_KERNEL`).
        case kernel
        /// `atomic_pool_dma` (`GFP_KERNEL | GFP_DMA`): below 16 MiB.
        case dma
        /// `atomic_pool_dma32` (`GFP_KERNEL | GFP_DMA32`): below 4 GiB.
        case dma32

        /// `%pGg` of the pool's flags.
        public var flags: String {
            switch self {
            case .kernel: return "GFP_KERNEL"
            case .dma: return "GFP_KERNEL|GFP_DMA"
            case .dma32: return "GFP_KERNEL|GFP_DMA32"
            }
        }

        /// The highest byte the zone's pages may end at.
        public var limit: PhysicalAddress {
            switch self {
            case .kernel: return PhysicalAddress(.max)
            case .dma: return PhysicalAddress((16 << 20) - 1)
            case .dma32: return PhysicalAddress(0xffff_ffff)
            }
        }
    }

    /// One `gen_pool` chunk: its bytes and its pages in use.
    public struct Chunk: Sendable, Hashable {
        /// Its first byte.
        public var start: PhysicalAddress
        /// Its pages' in-use bits, one per page.
        public var used: [Bool]
    }

    /// `atomic_pool_size`.
    public let size: UInt64
    /// Each zone's chunks, newest first (by ``Zone`` raw value); a zone without a pool has none.
    public private(set) var chunks: [[Chunk]] = [[], [], []]
    /// Whether an allocation scheduled `atomic_pool_work` and it has not run.
    public private(set) var workScheduled = false

    /// `MAX_PAGE_ORDER` on x86.
    static let maxOrder = 10

    /// `atomic_pool_size`: `coherentPool` bytes when given, else 128 KiB per GiB of
    /// `totalPages`, between 128 KiB and 4 MiB.
    public static func size(totalPages: UInt64, coherentPool: UInt64?) -> UInt64 {
        if let coherentPool, coherentPool > 0 { return coherentPool }
        let pages = min(totalPages / ((1 << 30) / (128 << 10)), 1 << UInt64(maxOrder))
        return max(pages << 12, 128 << 10)
    }

    /// `get_order(bytes)` capped at `MAX_PAGE_ORDER`.
    static func order(_ bytes: UInt64) -> Int {
        let pages = max((bytes &+ 4095) >> 12, 1)
        let order = pages == 1 ? 0 : 64 - (pages &- 1).leadingZeroBitCount
        return min(order, maxOrder)
    }

    /// `dma_atomic_pool_init`: each zone's first chunk from `allocate(order, zone)` (a block of
    /// 2^order pages, its first byte, or nil), the lines it prints.
    public init(size: UInt64, allocate: (Int, Zone) -> PhysicalAddress?) {
        self.size = size
        var lines: [String] = []
        for zone in [Zone.kernel, .dma, .dma32] {
            if let chunk = Self.expand(bytes: size, zone: zone, allocate: allocate) {
                chunks[zone.rawValue] = [chunk]
                lines.append("DMA: preallocated \(chunk.used.count << 2) KiB \(zone.flags) pool for atomic allocations")
            } else {
                lines.append("DMA: failed to allocate \(size >> 10) KiB \(zone.flags) pool for atomic allocation")
            }
        }
        bootLines = lines
    }

    /// What `dma_atomic_pool_init` printed.
    public private(set) var bootLines: [String] = []

    /// `atomic_pool_expand`: a chunk of `1 << min(get_order(bytes), 10)` pages, the order halved
    /// while `allocate` finds none.
    static func expand(bytes: UInt64, zone: Zone, allocate: (Int, Zone) -> PhysicalAddress?) -> Chunk? {
        var order = Self.order(bytes)
        while true {
            if let start = allocate(order, zone) { return Chunk(start: start, used: Array(repeating: false, count: 1 << order)) }
            if order == 0 { return nil }
            order -= 1
        }
    }

    /// `gen_pool_size` less what is in use, of `zone`'s pool.
    func available(_ zone: Zone) -> UInt64 {
        chunks[zone.rawValue].reduce(0) { $0 &+ UInt64($1.used.lazy.filter { !$0 }.count) << 12 }
    }

    /// `dma_alloc_from_pool(dev, bytes, …, dma_coherent_ok)` for a device whose coherent limit
    /// is `limit` (a mask, `min_not_zero(coherent_dma_mask, bus_dma_limit)`, which the last
    /// byte's bus address — natively its physical address — must not pass): the first byte, or
    /// nil (the caller prints the WARN).
    public mutating func allocate(bytes: UInt64, limit: UInt64) -> PhysicalAddress? {
        let pages = Int((bytes &+ 4095) >> 12)
        let align = pages <= 1 ? 1 : 1 << (64 - UInt64(pages &- 1).leadingZeroBitCount)
        for zone in [Zone.kernel, .dma32, .dma] where !chunks[zone.rawValue].isEmpty {
            for c in chunks[zone.rawValue].indices {
                guard let first = Self.firstFit(chunks[zone.rawValue][c].used, pages: pages, align: align) else { continue }
                let start = PhysicalAddress(chunks[zone.rawValue][c].start.rawValue &+ UInt64(first) << 12)
                guard start.directDMA.rawValue &+ bytes &- 1 <= limit else { break }
                for i in first..<(first + pages) { chunks[zone.rawValue][c].used[i] = true }
                if available(zone) < size { workScheduled = true }
                return start
            }
        }
        return nil
    }

    /// `bitmap_find_next_zero_area(map, size, 0, pages, align - 1)`: the first index aligned to
    /// `align` with `pages` free bits.
    static func firstFit(_ used: [Bool], pages: Int, align: Int) -> Int? {
        var i = 0
        while i &+ pages <= used.count {
            if let busy = used[i..<(i + pages)].lastIndex(of: true) {
                i = (busy + align) / align * align
            } else {
                return i
            }
        }
        return nil
    }

    /// `dma_free_from_pool`: gives back the `bytes` at `start`; false when no chunk holds them.
    @discardableResult
    public mutating func free(start: PhysicalAddress, bytes: UInt64) -> Bool {
        let pages = Int((bytes &+ 4095) >> 12)
        for z in chunks.indices {
            for c in chunks[z].indices {
                let chunk = chunks[z][c]
                guard start >= chunk.start, start.rawValue &- chunk.start.rawValue < UInt64(chunk.used.count) << 12 else { continue }
                let first = Int((start.rawValue &- chunk.start.rawValue) >> 12)
                for i in first..<min(first + pages, chunk.used.count) { chunks[z][c].used[i] = false }
                return true
            }
        }
        return false
    }

    /// `atomic_pool_work_fn`, when scheduled: DMA, DMA32, then GFP_KERNEL, each short of
    /// ``size`` grown by its whole size from `memory` under the zone's limit.
    public mutating func grow(from memory: inout DynamicPoolMemory) {
        guard workScheduled else { return }
        workScheduled = false
        for zone in [Zone.dma, .dma32, .kernel] where !chunks[zone.rawValue].isEmpty && available(zone) < size {
            let poolBytes = chunks[zone.rawValue].reduce(0) { $0 &+ UInt64($1.used.count) << 12 }
            let chunk = Self.expand(bytes: poolBytes, zone: zone) { order, z in memory.allocate(bytes: UInt64(4096) << UInt64(order), limit: z.limit) }
            if let chunk { chunks[zone.rawValue].insert(chunk, at: 0) }
        }
    }
}
