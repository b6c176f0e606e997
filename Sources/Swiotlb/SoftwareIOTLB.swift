/// A message the kernel would print.
public struct KernelMessage: Sendable, Hashable, CustomStringConvertible {
    /// The device name `dev_warn` puts first, if any.
    public var device: String?
    /// The text, without the trailing newline.
    public var text: String
    /// The line as it appears in the log.
    public var description: String { device.map { "\($0): \(text)" } ?? text }
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
    case notABounceBuffer(UInt64)
    /// A segment boundary that is not a power of two (`iommu_is_span_boundary`'s `BUG_ON`).
    case boundaryNotPowerOfTwo(UInt64)

    /// What happened, in the kernel's words where it has them.
    public var description: String {
        switch self {
        case .searchNeverEnds(let area, let device):
            return "kernel hang: Linux 6.1.192 would never return from a map\(device.map { " on \($0)" } ?? "") (its slot search loops in area \(area) with the area lock held)"
        case .syncDirection(let d, let t): return "kernel BUG: sync for \(t.rawValue) with direction \(d.rawValue)"
        case .zeroSize: return "kernel BUG: mapping of 0 slots"
        case .notABounceBuffer(let a): return "kernel BUG: 0x\(String(a, radix: 16)) is not in any swiotlb pool"
        case .boundaryNotPowerOfTwo(let m): return "kernel BUG: segment boundary mask 0x\(String(m, radix: 16)) is not 2^n-1"
        }
    }
}

/// A successful bounce mapping.
public struct BounceMapping: Sendable, Hashable {
    /// The bounce buffer's address (`tlb_addr`).
    public var address: UInt64
    /// Which pool it came from.
    public var pool: Int
    /// Its first slot.
    public var slot: Int
    /// Slots taken.
    public var nslots: Int
}

/// The software IO TLB of one kernel: its pools, force mode, messages and the bytes it copies.
///
/// v5.11 has one pool; rfc-v1 has a low pool and optionally a high (64-bit) pool, chosen per
/// mapping by the device's `min_not_zero(dma_mask, bus_dma_limit)`.
public struct SoftwareIOTLB: Sendable {
    /// The kernel whose behaviour is modelled.
    public let kernel: SwiotlbKernel
    /// The pools: the low (or only) pool first.
    public private(set) var pools: [SlotPool]
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
    /// `max_segment` (what `swiotlb_max_segment()` returns while memory exists).
    public var maxSegment: UInt64

    /// A TLB over the given pools (the kernel's `swiotlb_init_with_tbl` for each).
    public init(kernel: SwiotlbKernel = .v5_11, pools: [SlotPool], force: SwiotlbForce = .normal) {
        self.kernel = kernel
        self.pools = pools
        self.force = force
        let bytes = pools.first?.bytes ?? 0
        maxSegment = force == .force ? 1 : bytes / 4096 * 4096
    }

    /// The `software IO TLB: mapped [mem %pa-%pa] (%luMB)` lines (rfc-v1: `<name> mapped …`).
    public var infoLines: [String] {
        pools.map { p in
            let name = kernel == .rfcV1 ? "\(p.name ?? "Low Mem") " : ""
            return "software IO TLB: \(name)mapped [mem 0x\(hex16(p.start))-0x\(hex16(p.end))] (\(p.bytes >> 20)MB)"
        }
    }

    /// debugfs files and values: `io_tlb_nslabs`, `io_tlb_used` and, with a second pool (RFC),
    /// `io_tlb_nslabs-highmem`, `io_tlb_used-highmem`.
    public var debugfs: [(file: String, value: Int)] {
        var out: [(String, Int)] = []
        if let lo = pools.first { out += [("io_tlb_nslabs", lo.nslabs), ("io_tlb_used", lo.used)] }
        if pools.count > 1 { out += [("io_tlb_nslabs-highmem", pools[1].nslabs), ("io_tlb_used-highmem", pools[1].used)] }
        return out
    }

    /// The index of the pool `address` lies in.
    @inline(__always)
    func pool(holding address: UInt64) -> Int? {
        var p = 0
        while p < pools.count {
            if address &- pools[p].start < pools[p].bytes { return p }
            p &+= 1
        }
        return nil
    }

    /// `is_swiotlb_buffer(paddr)`.
    public func isBounceBuffer(_ address: UInt64) -> Bool { pools.contains { $0.contains(address) } }

    /// `swiotlb_max_segment()`.
    public var maxSegmentSize: UInt64 { pools.isEmpty ? 0 : maxSegment }

    /// The pool the RFC rule picks: the high pool iff it exists and the device's
    /// `min_not_zero(dma_mask, bus_dma_limit)` is exactly `DMA_BIT_MASK(64)`.
    public func poolIndex(for device: DMADevice) -> Int {
        pools.count > 1 && device.effectiveLimit == ~0 ? 1 : 0
    }

    /// `swiotlb_tbl_map_single(dev, orig, mapping_size, alloc_size, [alloc_align_mask,] dir, attrs)`:
    /// v5.11's, or with ``SwiotlbKernel/v6_1`` 6.1's (`alignMask` is its `alloc_align_mask`,
    /// `cpu` the processor the map runs on). Throws where the kernel would BUG, and
    /// ``SwiotlbBug/searchNeverEnds(area:device:)`` where 6.1.192's search would loop forever.
    public mutating func map(device: DMADevice, original: UInt64, mappingSize: Int, allocSize: Int,
                             direction: DMADirection, attributes: DMAAttributes = [],
                             tableDMAAddress: UInt64? = nil, alignMask: UInt64 = 0, cpu: Int = 0) throws(SwiotlbBug) -> Result<BounceMapping, SwiotlbMapError> {
        if mappingSize > allocSize {
            if !warnedInvalidSize {
                warnedInvalidSize = true
                messages.append(KernelMessage(device: device.name, text: "Invalid sizes (mapping: \(mappingSize) bytes, alloc: \(allocSize) bytes)"))
            }
            return .failure(.invalidSize)
        }
        guard !pools.isEmpty else {
            // Never initialised (v5.11 x86 without RAM above 4 GiB): the quick fail on 0 slots.
            if !attributes.contains(.noWarn) {
                messages.append(KernelMessage(device: device.name, text: "swiotlb buffer is full (sz: \(allocSize) bytes), total 0 (slots), used 0 (slots)"))
            }
            return .failure(.full)
        }
        let p = poolIndex(for: device)
        let mask = device.segmentBoundaryMask
        let tblDMA = (tableDMAAddress ?? pools[p].start) & mask
        let offsetSlots = (tblDMA &+ UInt64(IOTLB.slotSize - 1)) >> UInt64(IOTLB.shift)
        let maxSlots: UInt64 = mask &+ 1 != 0 ? ((mask &+ 1) &+ UInt64(IOTLB.slotSize - 1)) >> UInt64(IOTLB.shift) : 1 << UInt64(64 - IOTLB.shift)
        guard maxSlots & (maxSlots &- 1) == 0, maxSlots != 0 else { throw .boundaryNotPowerOfTwo(mask) }
        if kernel == .v6_1 {
            return try mapV61(device: device, pool: p, original: original, mappingSize: mappingSize, allocSize: allocSize,
                              attributes: attributes, tableDMAAddress: tblDMA, offsetSlots: offsetSlots, maxSlots: maxSlots,
                              alignMask: alignMask, cpu: cpu)
        }
        let nslots = (allocSize + IOTLB.slotSize - 1) >> IOTLB.shift
        guard nslots > 0 else { throw .zeroSize }
        let stride = allocSize >= 4096 ? 2 : 1
        guard let slot = pools[p].allocate(nslots: nslots, stride: stride, offsetSlots: offsetSlots, maxSlots: maxSlots,
                                           original: original) else {
            if !attributes.contains(.noWarn) {
                let name = kernel == .rfcV1 ? "\(pools[p].name ?? "Low Mem") " : ""
                messages.append(KernelMessage(device: device.name,
                    text: "\(name)swiotlb buffer is full (sz: \(allocSize) bytes), total \(pools[p].nslabs) (slots), used \(pools[p].used) (slots)"))
            }
            return .failure(.full)
        }
        let tlb = pools[p].start + UInt64(slot << IOTLB.shift)
        if !attributes.contains(.skipCPUSync) && (direction == .toDevice || direction == .bidirectional) {
            bounce(from: original, to: tlb, count: mappingSize)
        }
        return .success(BounceMapping(address: tlb, pool: p, slot: slot, nslots: nslots))
    }

    /// Linux 6.1.192's map: the offset `orig & min_align & 2047` kept in the bounce address and
    /// counted in the slots and the page-stride test; the stride from `min_align` above the
    /// bits `alloc_align_mask | 2047` covers, doubled from 4096 bytes, at least the alignment's;
    /// the areas tried from `cpu & (nareas - 1)` round the ring; the bounce buffer always
    /// filled with `mappingSize` bytes from the original, whatever the direction.
    mutating func mapV61(device: DMADevice, pool p: Int, original: UInt64, mappingSize: Int, allocSize: Int,
                         attributes: DMAAttributes, tableDMAAddress: UInt64, offsetSlots: UInt64, maxSlots: UInt64,
                         alignMask: UInt64, cpu: Int) throws(SwiotlbBug) -> Result<BounceMapping, SwiotlbMapError> {
        let minAlign = device.minAlignMask & 0xffff_ffff
        let offset = Int(original & minAlign & UInt64(IOTLB.slotSize - 1))
        let allocWithOffset = allocSize &+ offset
        let nslots = (allocWithOffset &+ IOTLB.slotSize &- 1) >> IOTLB.shift
        guard nslots > 0 else { throw .zeroSize }
        let allocAlign = (alignMask & 0xffff_ffff) | UInt64(IOTLB.slotSize - 1)
        let iotlbAlign = minAlign & ~allocAlign
        var stride = Int(iotlbAlign >> UInt64(IOTLB.shift)) &+ 1
        if allocWithOffset >= 4096 { stride = max(stride, stride << 1) }
        stride = max(stride, Int(allocAlign >> UInt64(IOTLB.shift)) &+ 1)
        let search = AreaSearch(nslots: nslots, stride: stride, alignMask: iotlbAlign, original: original,
                                offsetSlots: offsetSlots, maxSlots: maxSlots, tableDMAAddress: tableDMAAddress)
        let nareas = pools[p].areas.count
        let first = cpu & (nareas &- 1)
        var a = first
        var slot: Int?
        repeat {
            switch pools[p].allocateV61(area: a, search, allocSize: allocSize) {
            case .found(let s): slot = s
            case .none: break
            case .neverEnds: throw .searchNeverEnds(area: a, device: device.name)
            }
            if slot != nil { break }
            a = a &+ 1 >= nareas ? 0 : a &+ 1
        } while a != first
        guard let index = slot else {
            if !attributes.contains(.noWarn) {
                messages.append(KernelMessage(device: device.name,
                    text: "swiotlb buffer is full (sz: \(allocSize) bytes), total \(pools[p].nslabs) (slots), used \(pools[p].used) (slots)"))
            }
            return .failure(.full)
        }
        let tlb = pools[p].start + UInt64(index << IOTLB.shift) + UInt64(offset)
        // Since the CVE-2022-0854 fix the map always fills the bounce buffer.
        bounce(from: original, to: tlb, count: mappingSize)
        return .success(BounceMapping(address: tlb, pool: p, slot: index, nslots: nslots))
    }

    /// `swiotlb_tbl_unmap_single(dev, tlb, mapping_size, alloc_size, dir, attrs)` (v5.11): copy
    /// back for FROM_DEVICE/BIDIRECTIONAL unless SKIP_CPU_SYNC, then free with merging.
    /// Returns the pool it freed from.
    @discardableResult
    public mutating func unmap(_ tlb: UInt64, mappingSize: Int, allocSize: Int, direction: DMADirection,
                               attributes: DMAAttributes = [], minAlignMask: UInt64 = 0) throws(SwiotlbBug) -> Int {
        guard let p = pool(holding: tlb) else { throw .notABounceBuffer(tlb) }
        if kernel == .v6_1 {
            let offset = Int(tlb & minAlignMask & UInt64(IOTLB.slotSize - 1))
            let slot = Int((tlb - UInt64(offset) - pools[p].start) >> UInt64(IOTLB.shift))
            if !attributes.contains(.skipCPUSync) && (direction == .fromDevice || direction == .bidirectional) {
                bounceV61(tlb, size: mappingSize, pool: p, toDevice: false, minAlignMask: minAlignMask)
            }
            _ = pools[p].releaseV61(slot: slot, offset: offset)
            return p
        }
        let nslots = (allocSize + IOTLB.slotSize - 1) >> IOTLB.shift
        guard nslots > 0 else { throw .zeroSize }
        let slot = Int((tlb - pools[p].start) >> UInt64(IOTLB.shift))
        let orig = pools[p].originalAddress(ofSlot: slot)
        if orig != IOTLB.invalidAddress && !attributes.contains(.skipCPUSync)
            && (direction == .fromDevice || direction == .bidirectional) {
            bounce(from: tlb, to: orig, count: mappingSize)
        }
        pools[p].release(slot: slot, nslots: min(nslots, pools[p].nslabs - slot))
        return p
    }

    /// `swiotlb_tbl_sync_single(dev, tlb, size, dir, target)` (v5.11): the original address of
    /// the slot plus the offset inside it; for the CPU copy back (FROM_DEVICE/BIDIRECTIONAL), for
    /// the device copy out (TO_DEVICE/BIDIRECTIONAL); any other combination but the no-op one
    /// is the kernel's BUG. On v6.1 the copy is cut to the allocation, as `swiotlb_bounce` does.
    public mutating func sync(_ tlb: UInt64, size: Int, direction: DMADirection, target: SyncTarget,
                              minAlignMask: UInt64 = 0) throws(SwiotlbBug) {
        guard let p = pool(holding: tlb) else { throw .notABounceBuffer(tlb) }
        if kernel == .v6_1 {
            switch (target, direction) {
            case (.cpu, .fromDevice), (.cpu, .bidirectional): bounceV61(tlb, size: size, pool: p, toDevice: false, minAlignMask: minAlignMask)
            case (.cpu, .toDevice), (.device, .fromDevice): break
            case (.device, .toDevice), (.device, .bidirectional): bounceV61(tlb, size: size, pool: p, toDevice: true, minAlignMask: minAlignMask)
            default: throw .syncDirection(direction, target)
            }
            return
        }
        let slot = Int((tlb - pools[p].start) >> UInt64(IOTLB.shift))
        var orig = pools[p].originalAddress(ofSlot: slot)
        if orig == IOTLB.invalidAddress { return }
        orig &+= tlb & UInt64(IOTLB.slotSize - 1)
        switch (target, direction) {
        case (.cpu, .fromDevice), (.cpu, .bidirectional):
            bounce(from: tlb, to: orig, count: size)
        case (.cpu, .toDevice), (.device, .fromDevice):
            break
        case (.device, .toDevice), (.device, .bidirectional):
            bounce(from: orig, to: tlb, count: size)
        default:
            throw .syncDirection(direction, target)
        }
    }

    /// Linux 6.1's `swiotlb_bounce`: the slot's original address moved by the offset inside
    /// the mapping, the copy cut to the bytes left in the allocation (with the kernel's WARNs).
    mutating func bounceV61(_ tlb: UInt64, size: Int, pool p: Int, toDevice: Bool, minAlignMask: UInt64) {
        let index = Int((tlb - pools[p].start) >> UInt64(IOTLB.shift))
        var orig = pools[p].originalAddress(ofSlot: index)
        var alloc = Int(pools[p].allocSize[index])
        guard orig != IOTLB.invalidAddress else { return }
        let origOffset = Int(orig & minAlignMask & UInt64(IOTLB.slotSize - 1))
        var tlbOffset = Int(tlb & UInt64(IOTLB.slotSize - 1))
        if tlbOffset < origOffset {
            messages.append(KernelMessage(device: nil, text: "Access before mapping start detected. orig offset \(origOffset), requested offset \(tlbOffset)."))
            return
        }
        tlbOffset -= origOffset
        if tlbOffset > alloc {
            messages.append(KernelMessage(device: nil, text: "Buffer overflow detected. Allocation size: \(alloc). Mapping size: \(size)+\(tlbOffset)."))
            return
        }
        orig &+= UInt64(tlbOffset)
        alloc -= tlbOffset
        var n = size
        if n > alloc {
            messages.append(KernelMessage(device: nil, text: "Buffer overflow detected. Allocation size: \(alloc). Mapping size: \(size)."))
            n = alloc
        }
        if toDevice { bounce(from: orig, to: tlb, count: n) } else { bounce(from: tlb, to: orig, count: n) }
    }

    /// A bounce copy of `count` bytes, counted, and made when ``copiesData`` is on.
    @inline(__always)
    mutating func bounce(from source: UInt64, to destination: UInt64, count: Int) {
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

/// `%016llx`.
func hex16(_ v: UInt64) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: max(0, 16 - s.count)) + s
}
