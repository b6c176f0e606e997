/// How a run of M2P entries maps.
public enum M2PRun: ExtentValue, Hashable {
    /// mfn `start + i` → pfn `base + i`.
    case pfn(base: PFN)
    /// `INVALID_M2P_ENTRY` (`~0`): free, Xen-owned or shared-with-guest frames.
    case invalid
    /// `SHARED_M2P_ENTRY` (`~0 - 1`): memory-sharing pages.
    case shared

    /// The value `offset` entries later.
    public func advanced(by offset: UInt64) -> M2PRun {
        if case .pfn(let b) = self { return .pfn(base: PFN(rawValue: b.rawValue &+ offset)) }
        return self
    }

    /// The raw 64-bit entry for this value.
    public var rawEntry: UInt64 {
        switch self {
        case .pfn(let b): return b.rawValue
        case .invalid: return HostM2P.invalidEntry
        case .shared: return HostM2P.sharedEntry
        }
    }
}

/// Xen's host-wide machine-to-phys table (`machine_to_phys_mapping`): one 8-byte word per MFN
/// holding the pfn the owning guest claims. Valid indices are `[0, max_page)`.
public struct HostM2P: Sendable, Equatable {
    /// `INVALID_M2P_ENTRY`.
    public static let invalidEntry: UInt64 = ~0
    /// `SHARED_M2P_ENTRY`.
    public static let sharedEntry: UInt64 = ~0 - 1

    /// `max_page`: one past the highest RAM MFN (what `XENMEM_maximum_ram_page` returns).
    public let maxPage: MFN
    /// Entries as runs; MFNs without a run read INVALID (chunks are memset to 0xFF).
    public private(set) var runs = ExtentMap<M2PRun>()

    /// An all-INVALID table for `maxPage` frames.
    public init(maxPage: MFN) { self.maxPage = maxPage }

    /// `physinfo.max_mfn`: the inclusive largest MFN (without memory hotplug ranges).
    public var physinfoMaxMFN: MFN { MFN(maxPage.rawValue == 0 ? 0 : maxPage.rawValue - 1) }

    /// The raw entry for `mfn` (`get_gpfn_from_mfn`), or nil when `mfn >= max_page`.
    public func entry(_ mfn: MFN) -> UInt64? {
        guard mfn < maxPage else { return nil }
        return runs.value(at: mfn.rawValue)?.rawEntry ?? Self.invalidEntry
    }

    /// `mfn_to_pfn_no_overrides(mfn)`: the raw entry, `~0` beyond the table.
    public func lookup(_ mfn: MFN) -> UInt64 { entry(mfn) ?? Self.invalidEntry }

    /// `set_gpfn_from_mfn` for `count` frames: mfn `start + i` → pfn `pfn + i`.
    public mutating func set(_ start: MFN, count: UInt64, to pfn: PFN) {
        runs.set(start: start.rawValue, count: count, to: .pfn(base: pfn))
    }

    /// Sets runs of entries in one edit: `runs` in machine-frame order, each starting where the
    /// one before ends (e.g. a builder's frames, taken in order).
    public mutating func set(contiguous runs: [Extent<M2PRun>]) {
        self.runs.set(contiguous: runs)
    }

    /// Marks `count` frames from `start` INVALID (freed or Xen's own).
    public mutating func invalidate(_ start: MFN, count: UInt64) {
        runs.remove(start: start.rawValue, count: count)
    }

    /// Marks `count` frames from `start` SHARED.
    public mutating func markShared(_ start: MFN, count: UInt64) {
        runs.set(start: start.rawValue, count: count, to: .shared)
    }

    /// Replaces every entry with `runs` (e.g. read from a dump).
    public mutating func replaceRuns(_ runs: ExtentMap<M2PRun>) { self.runs = runs }

    /// Number of valid (pfn-holding) entries.
    public var validCount: UInt64 {
        runs.extents.reduce(0) { acc, r in
            if case .pfn = r.value { return acc + r.count }; return acc
        }
    }
}

extension GuestP2M {
    /// `mfn_to_pfn(mfn)` on PV: the M2P entry if the P2M maps it back to `mfn`, else `~0`, except
    /// for a 1:1 frame (`__pfn_to_mfn(mfn) == IDENTITY_FRAME(mfn)`), which gives `mfn`.
    public func mfnToPFN(_ mfn: MFN, m2p: HostM2P) -> PFN {
        var pfn = m2p.lookup(mfn)
        if pfnToMFNWord(PFN(pfn)).rawValue != mfn.rawValue { pfn = ~0 }
        if pfn == ~0 && pfnToMFNWord(PFN(mfn.rawValue)) == .identity(PFN(mfn.rawValue)) { pfn = mfn.rawValue }
        return PFN(pfn)
    }

    /// `bfn_to_local_pfn(mfn)`: `mfn_to_pfn` validated by a second P2M round trip; nil (the
    /// kernel's −1) for foreign, identity or unknown frames.
    public func localPFN(ofBusFrame mfn: MFN, m2p: HostM2P) -> PFN? {
        let pfn = mfnToPFN(mfn, m2p: m2p)
        guard pfnToMFNWord(pfn).rawValue == mfn.rawValue else { return nil }
        return pfn
    }

    /// `machine_to_phys`: a machine address to a pseudo-physical one, keeping the page offset
    /// (the frame is `~0` when the machine frame is not this guest's).
    public func machineToPhys(_ addr: MachineAddress, m2p: HostM2P) -> PhysicalAddress {
        PhysicalAddress((mfnToPFN(addr.mfn, m2p: m2p).rawValue << Page.shift) | addr.pageOffset)
    }
}
