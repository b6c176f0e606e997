/// A Xen domain id (`domid_t`, 16 bits): the one domain id type of every module.
public struct DomID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    /// The id.
    public var rawValue: UInt16
    /// Wraps an id.
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    /// Wraps an id.
    public init(_ v: UInt16) { rawValue = v }
    /// An id written as a number (`0` is dom0).
    public init(integerLiteral v: UInt16) { rawValue = v }
    /// Domain 0.
    public static let dom0 = DomID(0)
    /// `DOMID_IO`: owner of the first MiB of machine memory.
    public static let io = DomID(0x7FF1)
    /// `DOMID_XEN`: owner of Xen's own frames (e.g. the M2P).
    public static let xen = DomID(0x7FF2)
    /// Orders ids.
    public static func < (a: DomID, b: DomID) -> Bool { a.rawValue < b.rawValue }
    /// `d<id>` as Xen prints it.
    public var description: String { "d\(rawValue)" }
}

/// The owner of an allocated machine frame (constant over a run).
public struct FrameOwner: ExtentValue, Hashable {
    /// The owning domain.
    public var domain: DomID
    /// Constant over a run.
    public func advanced(by offset: UInt64) -> FrameOwner { self }
}

/// `memop-max-order=<domU>,<ctldom>,<hwdom>,<ptdom>` (x86 defaults 9,18,12,12).
public struct MemopMaxOrder: Sendable, Hashable {
    /// Ordinary domUs (`PAGETABLE_ORDER`).
    public var domU = 9
    /// The control domain.
    public var control = 18
    /// The hardware domain.
    public var hardware = 12
    /// DomUs with passthrough devices.
    public var passthrough = 12
    /// The defaults.
    public init() {}
    /// Explicit values.
    public init(domU: Int, control: Int, hardware: Int, passthrough: Int) {
        self.domU = domU; self.control = control; self.hardware = hardware; self.passthrough = passthrough
    }
}

/// What Xen knows of one domain for memory accounting.
public struct DomainState: Sendable, Hashable {
    /// The id.
    public var id: DomID
    /// `is_control_domain`.
    public var isControl: Bool
    /// `is_hardware_domain`.
    public var isHardware: Bool
    /// Has passthrough devices (`cache_flush_permitted`).
    public var hasPassthrough: Bool
    /// `tot_pages`.
    public var totPages: UInt64 = 0
    /// `max_pages` (the reservation ceiling).
    public var maxPages: UInt64
    /// Creates a domain record.
    public init(id: DomID, isControl: Bool = false, isHardware: Bool = false, hasPassthrough: Bool = false, maxPages: UInt64) {
        self.id = id; self.isControl = isControl; self.isHardware = isHardware
        self.hasPassthrough = hasPassthrough; self.maxPages = maxPages
    }
}

/// Error codes the memory ops return (negated errno values in Xen).
public enum XenErrno: Int32, Error, Sendable, CustomStringConvertible {
    /// `EPERM`.
    case eperm = 1
    /// `ENOENT`.
    case enoent = 2
    /// `ESRCH`.
    case esrch = 3
    /// `ENOMEM`.
    case enomem = 12
    /// `EACCES`.
    case eacces = 13
    /// `EFAULT`.
    case efault = 14
    /// `EINVAL`.
    case einval = 22
    /// `ENOSYS`.
    case enosys = 38
    /// `EOPNOTSUPP`.
    case eopnotsupp = 95

    /// The kernel's return value (`-errno`).
    public var rc: Int32 { -rawValue }
    /// The symbolic name.
    public var description: String {
        switch self {
        case .eperm: return "EPERM"
        case .enoent: return "ENOENT"
        case .eacces: return "EACCES"
        case .enosys: return "ENOSYS"
        case .esrch: return "ESRCH"
        case .enomem: return "ENOMEM"
        case .efault: return "EFAULT"
        case .einval: return "EINVAL"
        case .eopnotsupp: return "EOPNOTSUPP"
        }
    }
}

/// A Xen 4.17 x86 host's memory: the host E820, the buddy heap over its RAM, the M2P, frame
/// ownership and the domains, with the `XENMEM_*` operations that change them.
public struct XenHost: Sendable {
    /// The host memory map (`XENMEM_machine_memory_map`).
    public let e820: HostE820
    /// The domain heap (changed only through the host's operations, which keep it, the M2P,
    /// the owners and the domains' page counts in step).
    public internal(set) var heap: XenHeap
    /// The machine-to-phys table (changed only through the host's operations).
    public internal(set) var m2p: HostM2P
    /// Owner of every allocated domain frame.
    public internal(set) var owners = ExtentMap<FrameOwner>()
    /// Domains by id (added with ``addDomain(_:)``; their page counts kept by the host's operations).
    public internal(set) var domains: [DomID: DomainState] = [:]
    /// `memop-max-order`.
    public var memopMaxOrder = MemopMaxOrder()

    /// Frames the heap was given at boot (boot regions and inventory blocks), sorted and merged.
    public private(set) var bootHeapFrames: [Range<MFN>] = []

    /// A host whose heap holds all E820 RAM from 1 MiB up, inserted as `end_boot_allocator`
    /// does: the lowest region first, then the others from the highest down. MFNs below 0x100
    /// belong to `DOMID_IO`. `reserved` frame ranges (Xen's image, modules, frame table…) are
    /// kept out of the heap. Throws for an E820 map Xen could not hold (see ``validate``).
    public init(e820: HostE820, dmaBits: Int? = nil, reserved: [Range<MFN>] = []) throws(XenHostError) {
        try Self.validate(e820: e820, bootRegions: [], inventory: [])
        var regions: [Range<MFN>] = []
        for r in e820.ramFrames {
            let low = max(r.lowerBound, MFN(0x100))
            guard low < r.upperBound else { continue }
            regions.append(contentsOf: reserved.reduce([low..<r.upperBound]) { $0.subtracting($1) })
        }
        let ordered = regions.isEmpty ? [] : [regions[0]] + regions.dropFirst().reversed()
        try self.init(e820: e820, dmaBits: dmaBits, bootRegions: ordered, inventory: [])
    }

    /// A host whose heap is filled exactly as given: `bootRegions` inserted in this order (cut
    /// into maximal aligned blocks), then the `inventory` blocks freed one by one — for
    /// reproducing a real host, whose small top-of-RAM blocks depend on Xen's own boot
    /// allocations (calibrated against a capture: `docs/examples/real-xen-default.yaml`, docs/memory-model.md). Throws what ``validate`` finds.
    public init(e820: HostE820, dmaBits: Int? = nil, bootRegions: [Range<MFN>], inventory: [(MFN, Int)]) throws(XenHostError) {
        bootHeapFrames = try Self.validate(e820: e820, bootRegions: bootRegions, inventory: inventory)
        self.e820 = e820
        heap = XenHeap(dmaBits: dmaBits)
        m2p = HostM2P(maxPage: e820.maxRAMFrame)
        for r in bootRegions { heap.insert(r) }
        for (m, o) in inventory { heap.free(m, order: o, dirty: true) }
        owners.set(start: 0, count: 0x100, to: FrameOwner(domain: .io))
    }

    /// Checks a host description before anything is built from it: every E820 entry non-empty
    /// and ending below 2^64, RAM below ``XenHeap/frameLimit``, every boot region and inventory
    /// block inside the RAM, blocks of a buddy order starting on a multiple of their size, and
    /// no frame handed to the heap twice. Returns the heap's frames, sorted and merged.
    @discardableResult
    public static func validate(e820: HostE820, bootRegions: [Range<MFN>], inventory: [(MFN, Int)]) throws(XenHostError) -> [Range<MFN>] {
        for (i, e) in e820.entries.enumerated() {
            guard e.size > 0, !e.address.rawValue.addingReportingOverflow(e.size).overflow else {
                throw .badEntry(index: i, address: e.address, size: e.size)
            }
            if e.type == .ram && e.end.mfn > XenHeap.frameLimit {
                throw .ramBeyondHeap(index: i, endFrame: e.end.mfn)
            }
        }
        var pieces = bootRegions.enumerated().map { HeapPiece.bootRegion(index: $0.offset, frames: $0.element) }
        for (i, (m, o)) in inventory.enumerated() {
            let piece = HeapPiece.inventoryBlock(index: i, mfn: m, order: o)
            guard (0...XenHeap.maxOrder).contains(o) else { throw .badOrder(piece) }
            guard m.rawValue & ((1 << UInt64(o)) - 1) == 0 else { throw .misaligned(piece) }
            pieces.append(piece)
        }
        let ram = e820.mergedRAMFrames
        for p in pieces where !p.frames.isEmpty && !ram.covers(p.frames) { throw .outsideRAM(p) }
        // By first frame, then as given (so that the later of two equal pieces is named second).
        let sorted = pieces.enumerated().filter { !$0.element.frames.isEmpty }
            .sorted { ($0.element.frames.lowerBound, $0.offset) < ($1.element.frames.lowerBound, $1.offset) }.map(\.element)
        var merged: [Range<MFN>] = []
        var previous: HeapPiece?
        for p in sorted {
            // Sorted and disjoint so far: only the previous piece can reach into this one.
            if let r = previous, p.frames.lowerBound < r.frames.upperBound { throw .overlap(r, p) }
            previous = p
            if let last = merged.last, last.upperBound == p.frames.lowerBound {
                merged[merged.count - 1] = last.lowerBound..<p.frames.upperBound
            } else {
                merged.append(p.frames)
            }
        }
        return merged
    }

    /// What `XENMEM_machine_memory_map` gives dom0: the firmware map plus the IO-APIC
    /// (0xfec00000, 4 KiB) and local APIC (0xfee00000, 1 MiB) as reserved, as a real Xen 4.17
    /// host reports them (its own `Xen-e820 RAM map` lines do not show them).
    public var machineMemoryMap: HostE820 {
        var entries = e820.entries
        for (a, size) in [(MachineAddress(0xfec0_0000), UInt64(0x1000)), (MachineAddress(0xfee0_0000), UInt64(0x10_0000))]
        where !entries.contains(where: { $0.address < a.advanced(by: size) && a < $0.end }) {
            entries.append(E820Entry(address: a, size: size, type: .reserved))
        }
        return HostE820(entries)
    }

    /// `max_page`.
    public var maxPage: MFN { m2p.maxPage }

    /// Registers a domain.
    public mutating func addDomain(_ d: DomainState) { domains[d.id] = d }

    /// `max_order(d)`: the largest extent order the domain may request.
    public func maxOrder(of id: DomID) -> Int {
        guard let d = domains[id] else { return memopMaxOrder.domU }
        var o = memopMaxOrder.domU
        if d.hasPassthrough { o = max(o, memopMaxOrder.passthrough) }
        if d.isControl { o = max(o, memopMaxOrder.control) }
        if d.isHardware { o = max(o, memopMaxOrder.hardware) }
        return min(o, XenHeap.maxOrder)
    }

    /// The owner of a frame, if allocated to a domain.
    public func owner(of mfn: MFN) -> DomID? { owners.value(at: mfn.rawValue)?.domain }

    /// `construct_memop_from_reservation`'s address-width rule: 0 = unrestricted; at or above
    /// `order(max_page) + 12` ignored; at or below 12 invalid (nil).
    func effectiveAddressBits(_ bits: Int) -> Int?? {
        if bits == 0 { return .some(nil) }
        if bits <= Int(Page.shift) { return nil }
        if bits >= BitMath.ceilLog2(maxPage.rawValue) + Int(Page.shift) { return .some(nil) }
        return .some(bits)
    }

    /// Allocates and assigns `2^order` frames to `dom` (`alloc_domheap_pages` + `assign_pages`).
    mutating func allocateAssigned(_ dom: DomID, order: Int, addressBits: Int?, noDMA: Bool = false, noScrub: Bool = false) -> MFN? {
        guard let m = heap.allocate(order: order, addressBits: addressBits, noDMA: noDMA, noScrub: noScrub) else { return nil }
        assign(m, count: 1 << UInt64(order), to: dom)
        return m
    }

    /// Gives `count` frames from `mfn` to `dom` (bookkeeping only).
    public mutating func assign(_ mfn: MFN, count: UInt64, to dom: DomID) {
        owners.set(start: mfn.rawValue, count: count, to: FrameOwner(domain: dom))
        domains[dom]?.totPages += count
    }

    /// Frees frames a domain gave up (`free_domheap_pages`): M2P → INVALID, back to the heap.
    mutating func release(_ mfn: MFN, order: Int, from dom: DomID?, dirty: Bool) {
        let n: UInt64 = 1 << UInt64(order)
        owners.remove(start: mfn.rawValue, count: n)
        if let dom { domains[dom]?.totPages -= n }
        m2p.invalidate(mfn, count: n)
        heap.free(mfn, order: order, dirty: dirty)
    }

    // MARK: XENMEM reservation ops

    /// `XENMEM_populate_physmap` for a PV domain: for each gpfn extent allocate `2^order` frames
    /// below `2^addressBits`, set M2P(mfn + i) = gpfn + i and return the MFNs. Stops at the first
    /// failure; the result holds the extents completed.
    public mutating func populatePhysmap(_ dom: DomID, gpfns: [PFN], order: Int, addressBits: Int = 0) -> [MFN] {
        guard domains[dom] != nil, order <= maxOrder(of: dom), let bits = effectiveAddressBits(addressBits) else { return [] }
        var out: [MFN] = []
        for g in gpfns {
            guard let d = domains[dom], d.totPages + (1 << UInt64(order)) <= d.maxPages,
                let m = allocateAssigned(dom, order: order, addressBits: bits)
            else { break }
            m2p.set(m, count: 1 << UInt64(order), to: g)
            out.append(m)
        }
        return out
    }

    /// `XENMEM_increase_reservation` for a PV domain: allocate `count` extents and return their
    /// MFNs; the M2P is not touched.
    public mutating func increaseReservation(_ dom: DomID, count: Int, order: Int, addressBits: Int = 0) -> [MFN] {
        guard domains[dom] != nil, order <= maxOrder(of: dom), let bits = effectiveAddressBits(addressBits) else { return [] }
        var out: [MFN] = []
        for _ in 0..<count {
            guard let d = domains[dom], d.totPages + (1 << UInt64(order)) <= d.maxPages,
                let m = allocateAssigned(dom, order: order, addressBits: bits)
            else { break }
            out.append(m)
        }
        return out
    }

    /// `XENMEM_decrease_reservation`: give back extents of `2^order` frames owned by `dom`; each
    /// freed frame's M2P becomes INVALID. Returns the number of extents completed (it stops at the
    /// first frame the domain does not own).
    public mutating func decreaseReservation(_ dom: DomID, mfns: [MFN], order: Int) -> Int {
        guard domains[dom] != nil, order <= maxOrder(of: dom) else { return 0 }
        var done = 0
        for m in mfns {
            let n: UInt64 = 1 << UInt64(order)
            guard ownsAll(dom, m, count: n) else { break }
            // Guest-freed pages are not scrubbed by Xen (clean: list heads).
            for k in 0..<n { release(m.advanced(by: k), order: 0, from: dom, dirty: false) }
            done += 1
        }
        return done
    }

    /// Whether `dom` owns every frame of `[mfn, mfn + count)`.
    public func ownsAll(_ dom: DomID, _ mfn: MFN, count: UInt64) -> Bool {
        guard mfn <= maxPage, count <= maxPage.rawValue - mfn.rawValue else { return false }
        let runs = owners.extents(start: mfn.rawValue, count: count)
        return runs.reduce(0) { $0 + ($1.value.domain == dom ? $1.count : 0) } == count
    }
}
