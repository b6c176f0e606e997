import Swiotlb
import XenMemory

/// How xen-swiotlb is set up: the kernel whose rules apply, `swiotlb=`, early or late.
public struct XenSwiotlbConfig: Sendable {
    /// v5.11 (one pool) or rfc-v1 (a low pool and, with `swiotlb=<lo>,<hi>`, a 64-bit pool).
    public var kernel: SwiotlbKernel
    /// The `swiotlb=` parameter.
    public var commandLine: SwiotlbCommandLine
    /// `xen_swiotlb_init(verbose, early)`: early (memblock, panics) or late (page allocator,
    /// returns the error).
    public var early: Bool
    /// `num_possible_cpus()` (v6.1 splits the pool into that many areas, rounded up to a power of two).
    public var cpus: Int
    /// Creates a configuration.
    public init(kernel: SwiotlbKernel = .v5_11, commandLine: SwiotlbCommandLine = SwiotlbCommandLine(parsing: ""), early: Bool = true, cpus: Int = 1) {
        self.kernel = kernel; self.commandLine = commandLine; self.early = early; self.cpus = max(1, cpus)
    }
}

/// One `xen_create_contiguous_region` call made by `xen_swiotlb_fixup`.
public struct FixupExchange: Sendable, Hashable {
    /// The pool (0 = low / only, 1 = high).
    public var pool: Int
    /// First slot of the segment.
    public var slot: Int
    /// First pfn of the segment.
    public var pfn: PFN
    /// `address_bits` (`dma_bits`) of the attempt.
    public var addressBits: Int
    /// The new machine frame, or nil when the exchange failed.
    public var mfn: MFN?
}

/// Why xen-swiotlb could not be set up.
public struct XenSwiotlbInitError: Error, Sendable, CustomStringConvertible {
    /// The kernel's lines, one per line.
    public var description: String { log.joined(separator: "\n") }
    /// The kernel's return value (-ENOMEM).
    public var rc: Int32
    /// True for early init, where the kernel panics.
    public var panicked: Bool
    /// Every line printed, the final error lines included.
    public var log: [String]
    /// The fixup attempts made.
    public var exchanges: [FixupExchange]
}

extension XenSwiotlb {
    /// `MAX_DMA_BITS` of the low (and v5.11's only) pool.
    public static let maxDMABits = 32
    /// `xen:swiotlb_xen: ` — the driver's `pr_fmt`.
    public static let prefix = "xen:swiotlb_xen: "
    static let enomemText = "Cannot allocate Xen-SWIOTLB buffer\n"
    static let efixupText = "Failed to get contiguous memory for DMA from Xen!\nYou either: don't have the permissions, do not have enough free memory under 4GB, or the hypervisor memory is too fragmented!"

    /// `xen_swiotlb_init` (v5.11; rfc-v1 runs it once per pool type): size the pool from
    /// `swiotlb=` (0 → 64 MiB), allocate it anywhere in dom0's pseudo-physical memory, make each
    /// 128-slot segment machine-contiguous with `xen_create_contiguous_region` — `dma_bits`
    /// from 18 up to 32 (the RFC's high pool: 64 only), not reset between segments — and on
    /// failure free it and retry up to 3 times at half the size (at least 1024 slots).
    public static func initialize(host: XenHost, dom0: PVDomain, memory: PseudoPhysicalAllocator,
                                  config: XenSwiotlbConfig) -> Result<XenSwiotlb, XenSwiotlbInitError> {
        if config.kernel == .v6_1 { return initializeV61(host: host, dom0: dom0, memory: memory, config: config) }
        var host = host, dom0 = dom0, memory = memory
        var log: [String] = []
        var exchanges: [FixupExchange] = []
        var pools: [SlotPool] = []
        var types: [(name: String?, nslabs: UInt64, firstBits: Int, maxBits: Int)] = []
        if config.kernel == .rfcV1 {
            types.append(("Low Mem", config.commandLine.nslabs, 18, maxDMABits))
            if let hi = config.commandLine.highNslabs { types.append(("High Mem", hi, 64, 64)) }
        } else {
            types.append((nil, config.commandLine.nslabs, 18, maxDMABits))
        }
        for (index, type) in types.enumerated() {
            var repeatCount = 3
            var nslabs = type.nslabs
            while true {
                if nslabs == 0 { nslabs = UInt64(IOTLB.defaultSlots) }
                var bytes = nslabs << UInt64(IOTLB.shift)
                var rc: Int32 = -12
                var failure: String
                var buffer: Range<UInt64>?
                if config.early {
                    buffer = memory.allocate(pages: (bytes + Page.offsetMask) >> Page.shift)
                    guard buffer != nil else {
                        log.append("Kernel panic - not syncing: xen_swiotlb_init: Failed to allocate \(bytes) bytes align=0x1000")
                        return .failure(XenSwiotlbInitError(rc: -12, panicked: true, log: log, exchanges: exchanges))
                    }
                } else {
                    let wanted = BitMath.pageOrder(bytes: bytes)
                    var order = wanted
                    while (2 << UInt64(order)) > 512 {
                        // __get_free_pages: orders above MAX_ORDER - 1 (10) always fail.
                        if order <= 10, let b = memory.allocate(pages: 1 << UInt64(order), alignPages: 1 << UInt64(order)) {
                            buffer = b
                            break
                        }
                        order -= 1
                    }
                    if buffer != nil && order != wanted {
                        log.append(prefix + "Warning: only able to allocate \((Page.size << UInt64(order)) >> 20) MB for software IO TLB")
                        nslabs = 2 << UInt64(order)
                        bytes = nslabs << UInt64(IOTLB.shift)
                    }
                }
                if let buf = buffer {
                    let fix = fixup(host: &host, dom0: &dom0, start: PFN(buf.lowerBound), nslabs: Int(nslabs),
                                    pool: index, firstBits: type.firstBits, maxBits: type.maxBits)
                    exchanges += fix.exchanges
                    if fix.ok {
                        let pool = SlotPool(name: type.name, start: buf.lowerBound << Page.shift, nslabs: Int(nslabs))
                        pools.append(pool)
                        let name = config.kernel == .rfcV1 ? "\(type.name ?? "Low Mem") " : ""
                        log.append("software IO TLB: \(name)mapped [mem 0x\(Hex.padded(pool.start, 16))-0x\(Hex.padded(pool.end, 16))] (\(pool.bytes >> 20)MB)")
                        break
                    }
                    memory.release(buf)
                    rc = -12
                    failure = efixupText
                } else {
                    failure = enomemText
                }
                if repeatCount > 0 {
                    repeatCount -= 1
                    nslabs = max(1024, nslabs >> 1)
                    log.append(prefix + "Lowering to \((nslabs << UInt64(IOTLB.shift)) >> 20)MB")
                    continue
                }
                let lines = (failure + " (rc:\(rc))").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                log.append(prefix + lines[0])
                log.append(contentsOf: lines.dropFirst())
                if config.early {
                    log += ("Kernel panic - not syncing: " + failure + " (rc:\(rc))").split(separator: "\n").map(String.init)
                }
                return .failure(XenSwiotlbInitError(rc: rc, panicked: config.early, log: log, exchanges: exchanges))
            }
        }
        var tlb = SoftwareIOTLB(kernel: config.kernel, pools: pools, force: config.commandLine.force)
        tlb.maxSegment = Page.size
        return .success(XenSwiotlb(host: host, dom0: dom0, memory: memory, tlb: tlb, log: log, exchanges: exchanges))
    }

    /// `xen_swiotlb_fixup`: one exchange per 128-slot segment, widening `dma_bits` on failure.
    static func fixup(host: inout XenHost, dom0: inout PVDomain, start: PFN, nslabs: Int, pool: Int,
                      firstBits: Int, maxBits: Int) -> (ok: Bool, exchanges: [FixupExchange]) {
        var bits = firstBits
        var done: [FixupExchange] = []
        var i = 0
        while i < nslabs {
            let slabs = min(nslabs - i, IOTLB.segmentSlots)
            let pfn = start.advanced(by: UInt64(i * IOTLB.slotSize) >> Page.shift)
            let order = BitMath.pageOrder(bytes: UInt64(slabs * IOTLB.slotSize))
            while true {
                let r = host.createContiguousRegion(&dom0, start: pfn, order: order, addressBits: bits)
                if case .success(let m) = r {
                    done.append(FixupExchange(pool: pool, slot: i, pfn: pfn, addressBits: bits, mfn: m.mfn))
                    break
                }
                done.append(FixupExchange(pool: pool, slot: i, pfn: pfn, addressBits: bits, mfn: nil))
                let tried = bits
                bits += 1
                if tried >= maxBits { return (false, done) }
            }
            i += slabs
        }
        return (true, done)
    }

    /// Linux 6.1's `swiotlb_init_remap(true, SWIOTLB_ANY, xen_swiotlb_fixup)` for a PV dom0:
    /// `area num %d.` and the size as ``Linux61PoolSetup`` gives it, the buffer top-down anywhere, the same fixup per segment; on a fixup
    /// failure free it and retry at `ALIGN(nslabs / 2, 128)` while that is at least 512 slots,
    /// else `swiotlb_init_remap: Failed to remap %zu bytes` and no pool (no panic). The
    /// `mapped` line comes later, after `PCI-DMA: Using software bounce buffering for IO (SWIOTLB)`.
    static func initializeV61(host: XenHost, dom0: PVDomain, memory: PseudoPhysicalAllocator,
                              config: XenSwiotlbConfig) -> Result<XenSwiotlb, XenSwiotlbInitError> {
        var host = host, dom0 = dom0, memory = memory
        // swiotlb=<N>,<A> (or the possible CPUs): 128 slots per area, a power of two. A size
        // beyond 2^52 slots (8 EiB) cannot be allocated: it fails as an allocation would.
        let setup = Linux61PoolSetup(requested: config.commandLine.effectiveNslabs, areas: config.commandLine.areas,
                                     possibleCPUs: UInt64(max(config.cpus, 1)), limit: 1 << 52)
        let nareas = Int(setup?.areas ?? 1)
        var log = ["software IO TLB: area num \(nareas)."]
        var exchanges: [FixupExchange] = []
        var nslabs = setup?.nslabs ?? config.commandLine.effectiveNslabs
        if setup?.roundedUp == true {
            log.append("software IO TLB: SWIOTLB bounce buffer size roundup to \((nslabs << 11) >> 20)MB")
        }
        while true {
            let bytes = nslabs << UInt64(IOTLB.shift)
            guard setup != nil, let buf = memory.allocate(pages: (bytes + Page.offsetMask) >> Page.shift) else {
                log.append("software IO TLB: swiotlb_init_remap: Failed to allocate \(bytes) bytes tlb structure")
                break
            }
            let fix = fixup(host: &host, dom0: &dom0, start: PFN(buf.lowerBound), nslabs: Int(nslabs), pool: 0, firstBits: 18, maxBits: maxDMABits)
            exchanges += fix.exchanges
            if fix.ok {
                // The pool keeps default_nareas even when halving made area_nslabs smaller than 128.
                let pool = SlotPool(start: buf.lowerBound << Page.shift, nslabs: Int(nslabs), areas: nareas)
                var tlb = SoftwareIOTLB(kernel: .v6_1, pools: [pool], force: config.commandLine.force)
                tlb.maxSegment = Page.size
                log.append("PCI-DMA: Using software bounce buffering for IO (SWIOTLB)")
                log += tlb.infoLines
                return .success(XenSwiotlb(host: host, dom0: dom0, memory: memory, tlb: tlb, log: log, exchanges: exchanges))
            }
            memory.release(buf)
            let next = IOTLB.alignToSegment(nslabs >> 1)
            if next >= 512 { nslabs = next; continue }
            log.append("software IO TLB: swiotlb_init_remap: Failed to remap \(bytes) bytes")
            break
        }
        // No bounce buffer at all: maps that need one fail.
        let tlb = SoftwareIOTLB(kernel: .v6_1, pools: [], force: config.commandLine.force)
        return .success(XenSwiotlb(host: host, dom0: dom0, memory: memory, tlb: tlb, log: log, exchanges: exchanges))
    }
}
