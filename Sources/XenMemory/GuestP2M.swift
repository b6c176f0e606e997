/// Errors where the Linux P2M code would `BUG()`.
public enum P2MError: Error, Equatable, Sendable {
    /// `__set_phys_to_machine` above `xen_p2m_size` with a value other than INVALID (v5.11 BUG_ON).
    case setBeyondP2MSize(pfn: PFN, word: P2MWord)
}

/// The backing of one 512-entry P2M leaf page of the linear list after `xen_rebuild_p2m_list`.
public enum P2MLeafBacking: ExtentValue, Hashable {
    /// The shared read-only page `p2m_missing` (reads ~0; lookups give INVALID).
    case sharedMissing
    /// The shared read-only page `p2m_identity` (reads ~0; lookups give IDENTITY_FRAME(pfn)).
    case sharedIdentity
    /// Constant over a run of leaves.
    public func advanced(by offset: UInt64) -> P2MLeafBacking { self }
}

/// A Linux x86-64 PV guest's P2M as `arch/x86/xen/p2m.c` keeps it (v5.11; same in v6.x except
/// where noted): the linear list `xen_p2m_addr[0 ..< xen_p2m_size]`, bounded by
/// `xen_max_p2m_pfn`, with 512-entry leaves that are private pages or the shared read-only
/// `p2m_missing` / `p2m_identity` pages, plus the ballooned "extra memory" regions.
///
/// Entries are held as runs (``ExtentMap``), so a 1 TiB guest costs a few hundred runs.
public struct GuestP2M: Sendable, Equatable {
    /// `P2M_PER_PAGE`: entries per leaf page.
    public static let entriesPerLeaf: UInt64 = 512
    /// `P2M_LIMIT` default: `CONFIG_XEN_MEMORY_HOTPLUG_LIMIT` = 512 GiB of pseudo-physical space.
    public static let defaultHotplugLimitPages: UInt64 = (512 << 30) >> Page.shift

    /// Stored entries for every pfn below ``p2mSize`` (what a private leaf would hold).
    public private(set) var entries = ExtentMap<P2MRun>()
    /// Shared leaves by leaf index; leaves without an entry are private pages.
    public private(set) var sharedLeaves = ExtentMap<P2MLeafBacking>()
    /// `xen_p2m_size`: entries covered by the linear list.
    public private(set) var p2mSize: UInt64
    /// `xen_max_p2m_pfn`: upper bound of pfns the P2M can describe (set by the P2M's own
    /// set-up, so that it never falls below the list it bounds).
    public internal(set) var maxP2MPfn: PFN
    /// `xen_p2m_last_pfn`: the hint published to tools as `shared_info.arch.max_pfn`.
    public private(set) var lastPfnHint: PFN
    /// `p2m_generation`: bumped before and after each structural change.
    public private(set) var generation: UInt64 = 0
    /// `xen_extra_mem`: ballooned regions as pfn ranges (lookups beyond the list give INVALID there).
    public private(set) var extraMemory: [Range<PFN>] = []
    /// Whether `xen_rebuild_p2m_list` has run (before it, the list is Xen's writable `mfn_list`).
    public private(set) var isRebuilt = false

    /// `xen_build_dynamic_phys_to_machine`: adopt Xen's `mfn_list` of `nrPages` words given as
    /// runs in key order without overlaps (as an ``ExtentMap`` lists them); the list is
    /// `ALIGN(nr_pages, 512)` long and the pfns no run covers, the padding included, are INVALID.
    public init(initialList runs: [Extent<P2MRun>], nrPages: UInt64) {
        p2mSize = Self.alignUp(nrPages, Self.entriesPerLeaf)
        maxP2MPfn = PFN(p2mSize)
        lastPfnHint = PFN(p2mSize)
        var next: UInt64 = 0
        for r in runs where r.start < nrPages {
            entries.append(start: next, count: r.start - next, value: .missing)
            let count = min(r.count, nrPages - r.start)
            entries.append(start: r.start, count: count, value: r.value)
            next = r.start + count
        }
        entries.append(start: next, count: p2mSize - next, value: .missing)
    }

    @inline(__always)
    static func alignUp(_ v: UInt64, _ a: UInt64) -> UInt64 { (v + a - 1) / a * a }

    // MARK: Lookups

    /// `xen_chk_extra_mem(pfn)`: INVALID inside a ballooned extra region, else IDENTITY_FRAME(pfn).
    public func checkExtraMemory(_ pfn: PFN) -> P2MWord {
        for r in extraMemory where r.contains(pfn) { return .invalid }
        return P2MWord(rawValue: pfn.rawValue | P2MWord.identityBit)
    }

    /// `get_phys_to_machine(pfn)`: the entry with shared identity leaves and the region beyond the
    /// list resolved.
    public func getPhysToMachine(_ pfn: PFN) -> P2MWord {
        let p = pfn.rawValue
        if p >= p2mSize {
            return p < maxP2MPfn.rawValue ? checkExtraMemory(pfn) : P2MWord(rawValue: p | P2MWord.identityBit)
        }
        // Stored entries of a shared identity leaf are IDENTITY_FRAME(pfn) by construction.
        return storedWord(p)
    }

    /// The stored word for a pfn below ``p2mSize``.
    @inline(__always)
    func storedWord(_ pfn: UInt64) -> P2MWord {
        guard let r = entries.extent(containing: pfn) else { return .invalid }
        return r.value.advanced(by: pfn - r.start).word(at: PFN(pfn))
    }

    /// `__pfn_to_mfn(pfn)`: the full word including FOREIGN/IDENTITY bits.
    public func pfnToMFNWord(_ pfn: PFN) -> P2MWord {
        let p = pfn.rawValue
        if p < p2mSize {
            let w = storedWord(p)
            return w == .invalid ? getPhysToMachine(pfn) : w
        }
        if p < maxP2MPfn.rawValue { return getPhysToMachine(pfn) }
        return P2MWord(rawValue: p | P2MWord.identityBit)
    }

    /// `pfn_to_mfn(pfn)` (= `pfn_to_bfn` / `pfn_to_gfn` on PV): the frame with the FOREIGN and
    /// IDENTITY bits stripped; INVALID stays `~0`.
    public func pfnToMFN(_ pfn: PFN) -> MFN { pfnToMFNWord(pfn).strippedFrame }

    /// What a raw reader of the linear list (a tool mapping the leaf pages) sees at `pfn`:
    /// `~0` throughout shared leaves, the stored word in private leaves, nil beyond the list.
    public func rawWord(_ pfn: PFN) -> P2MWord? {
        let p = pfn.rawValue
        guard p < p2mSize else { return nil }
        if sharedLeaves.value(at: p / Self.entriesPerLeaf) != nil { return .invalid }
        return storedWord(p)
    }

    /// The backing of the leaf holding `pfn`: nil for a private page.
    public func leafBacking(of pfn: PFN) -> P2MLeafBacking? {
        sharedLeaves.value(at: pfn.rawValue / Self.entriesPerLeaf)
    }

    /// `phys_to_machine`: a pseudo-physical address to a machine address, keeping the page offset.
    public func physToMachine(_ addr: PhysicalAddress) -> MachineAddress {
        MachineAddress((pfnToMFN(addr.pfn).rawValue << Page.shift) | addr.pageOffset)
    }

    /// `range_straddles_page_boundary(p, size)` inverted: true when every page of
    /// `[p, p + size)` is backed by the machine frame after the previous one.
    public func isMachineContiguous(_ start: PhysicalAddress, size: UInt64) -> Bool {
        let pages = (start.pageOffset &+ size &+ Page.offsetMask) >> Page.shift
        guard pages > 1 else { return true }
        let first = start.pfn.rawValue
        let base = pfnToMFN(start.pfn).rawValue
        var checked: UInt64 = 1
        while checked < pages {
            let p = first + checked
            // Walk whole stored runs where possible; beyond the list fall back per page.
            if p < p2mSize, let run = entries.run(from: p), isLinear(run.value) {
                let runWord = run.value.word(at: PFN(p))
                let want = base &+ checked
                if (runWord == .invalid ? runWord.rawValue : runWord.strippedFrame.rawValue) != want { return false }
                if case .missing = run.value { return false }
                checked += min(run.count, pages - checked)
            } else {
                if pfnToMFN(PFN(p)).rawValue != base &+ checked { return false }
                checked += 1
            }
        }
        return true
    }

    @inline(__always)
    private func isLinear(_ v: P2MRun) -> Bool {
        if case .missing = v { return false }
        return true
    }

    // MARK: Updates

    /// `__set_phys_to_machine(pfn, word)`: store into the list if the leaf is private; on a shared
    /// leaf succeed only if the value already matches it. Returns false when it would need a
    /// private leaf. Throws where v5.11 BUGs (above `xen_p2m_size` with a non-INVALID value).
    @discardableResult
    public mutating func setPhysToMachineFast(_ pfn: PFN, _ word: P2MWord) throws(P2MError) -> Bool {
        let p = pfn.rawValue
        if word == .invalid { return invalidateFast(pfn) }
        if p >= p2mSize { throw .setBeyondP2MSize(pfn: pfn, word: word) }
        switch sharedLeaves.value(at: p / Self.entriesPerLeaf) {
        case .sharedMissing?: return false
        case .sharedIdentity?: return word == P2MWord(rawValue: p | P2MWord.identityBit)
        case nil:
            entries.set(start: p, count: 1, to: P2MRun(word: word, at: pfn))
            return true
        }
    }

    /// `__set_phys_to_machine(pfn, INVALID_P2M_ENTRY)`, which never BUGs: beyond the list it
    /// does nothing; false when the leaf is the shared identity page (a private one is needed).
    mutating func invalidateFast(_ pfn: PFN) -> Bool {
        let p = pfn.rawValue
        guard p < p2mSize else { return true }
        switch sharedLeaves.value(at: p / Self.entriesPerLeaf) {
        case .sharedMissing?: return true
        case .sharedIdentity?: return false
        case nil:
            entries.set(start: p, count: 1, to: .missing)
            return true
        }
    }

    /// `set_phys_to_machine(pfn, word)`: like the fast form, but replaces a shared leaf by a
    /// private page (initialised to INVALID or identity values) when needed, bumping
    /// `p2m_generation` around the change and raising the last-pfn hint.
    @discardableResult
    public mutating func setPhysToMachine(_ pfn: PFN, _ word: P2MWord) throws(P2MError) -> Bool {
        if try setPhysToMachineFast(pfn, word) { return true }
        allocatePrivateLeaf(for: pfn)
        return try setPhysToMachineFast(pfn, word)
    }

    /// `count` calls of `set_phys_to_machine(start + i, mfn base + i)` in order, done a leaf
    /// at a time: a shared leaf turns private when its first pfn in the range is written;
    /// pfns at or beyond `xen_p2m_size` are skipped (the kernel would BUG there).
    public mutating func setPhysToMachine(_ start: PFN, count: UInt64, machineBase base: MFN) {
        let s = start.rawValue
        let end = min(s &+ count, p2mSize)
        guard s < end else { return }
        setRangeWithinList(start, count: end - s, to: .machine(base: base))
    }

    /// `pfn_to_mfn` of `count` pfns from `start`, read run by run.
    public func frames(from start: PFN, count: UInt64) -> [MFN] {
        var out: [MFN] = []
        out.reserveCapacity(Int(count))
        var p = start.rawValue
        let end = start.rawValue &+ count
        while p < end {
            if p < p2mSize, let run = entries.run(from: p), run.value.word(at: PFN(p)) != .invalid {
                // Within a stored run below the list's end the words are the run's.
                let n = min(run.count, end - p)
                for k in 0..<n { out.append(run.value.advanced(by: k).word(at: PFN(p + k)).strippedFrame) }
                p += n
            } else {
                out.append(pfnToMFN(PFN(p)))
                p += 1
            }
        }
        return out
    }

    /// Sets `count` consecutive entries to the run value `value` (e.g. a machine-contiguous
    /// extent), with `set_phys_to_machine` semantics for each leaf touched.
    public mutating func setRange(_ start: PFN, count: UInt64, to value: P2MRun) throws(P2MError) {
        guard count > 0 else { return }
        let s = start.rawValue, e = s + count
        if e > p2mSize {
            if case .missing = value {
            } else {
                throw .setBeyondP2MSize(pfn: PFN(max(s, p2mSize)), word: value.advanced(by: max(s, p2mSize) - s).word(at: PFN(max(s, p2mSize))))
            }
        }
        setRangeWithinList(start, count: count, to: value)
    }

    /// ``setRange(_:count:to:)`` for the part of the range inside the list, the rest skipped:
    /// for callers that clipped the range to ``p2mSize`` or store INVALID, which the kernel
    /// accepts anywhere, so that nothing can fail.
    mutating func setRangeWithinList(_ start: PFN, count: UInt64, to value: P2MRun) {
        let s = start.rawValue
        let end = min(s &+ count, p2mSize)
        guard s < end else { return }
        // Any shared leaf in the range whose value would change becomes private, allocated for
        // the first pfn written in it (the pfn that raises the last-pfn hint).
        for leafRun in sharedLeaves.extents(
            start: s / Self.entriesPerLeaf,
            count: (end - 1) / Self.entriesPerLeaf - s / Self.entriesPerLeaf + 1)
        {
            for leaf in leafRun.start..<leafRun.end {
                let ls = max(leaf * Self.entriesPerLeaf, s), le = min((leaf + 1) * Self.entriesPerLeaf, end)
                if !leafAlreadyHolds(value.advanced(by: ls - s), from: ls, to: le, backing: leafRun.value) {
                    allocatePrivateLeaf(for: PFN(ls))
                }
            }
        }
        entries.set(start: s, count: end - s, to: value)
    }

    private func leafAlreadyHolds(_ v: P2MRun, from: UInt64, to: UInt64, backing: P2MLeafBacking) -> Bool {
        switch (v, backing) {
        case (.missing, .sharedMissing), (.identity, .sharedIdentity): return true
        default: return false
        }
    }

    /// `xen_alloc_p2m_entry`: give the leaf holding `pfn` a private page; a pfn at or past the
    /// hint raises it to the end of its leaf, `ALIGN(pfn + 1, P2M_PER_PAGE)` (the rule since the
    /// 2020 fix that v5.11 and 6.1 carry; before it the hint was the pfn itself).
    mutating func allocatePrivateLeaf(for pfn: PFN) {
        let leaf = pfn.rawValue / Self.entriesPerLeaf
        guard sharedLeaves.value(at: leaf) != nil else { return }
        generation &+= 1
        sharedLeaves.remove(start: leaf, count: 1)
        generation &+= 1
        if pfn >= lastPfnHint { lastPfnHint = PFN((leaf + 1) * Self.entriesPerLeaf) }
    }

    /// `set_phys_range_identity(first, last)`: IDENTITY_FRAME(pfn) for pfn in `[first, min(last, xen_p2m_size))`;
    /// returns the number of entries written (0 when `first` is at or beyond the list).
    @discardableResult
    public mutating func setPhysRangeIdentity(_ first: PFN, _ last: PFN) -> UInt64 {
        let s = first.rawValue, e = last.rawValue
        guard s < p2mSize, s <= e else { return 0 }
        let end = min(e, p2mSize)
        // Identity never conflicts with a shared identity leaf; a shared missing leaf turns private.
        setRangeWithinList(PFN(s), count: end - s, to: .identity)
        return end - s
    }

    /// `xen_add_extra_mem`: record a ballooned region (appended to a region it continues).
    public mutating func addExtraMemory(start: PFN, count: UInt64) {
        guard count > 0 else { return }
        if let i = extraMemory.firstIndex(where: { $0.upperBound == start }) {
            extraMemory[i] = extraMemory[i].lowerBound..<start.advanced(by: count)
        } else {
            extraMemory.append(start..<start.advanced(by: count))
        }
    }

    /// `xen_del_extra_mem`: remove pfns from the extra regions (start, end or middle of a region).
    public mutating func removeExtraMemory(start: PFN, count: UInt64) {
        let cut = start..<start.advanced(by: count)
        var out: [Range<PFN>] = []
        for r in extraMemory {
            if r.upperBound <= cut.lowerBound || r.lowerBound >= cut.upperBound { out.append(r); continue }
            if r.lowerBound < cut.lowerBound { out.append(r.lowerBound..<cut.lowerBound) }
            if r.upperBound > cut.upperBound { out.append(cut.upperBound..<r.upperBound) }
        }
        extraMemory = out
    }

    /// `xen_vmalloc_p2m_tree` + `xen_rebuild_p2m_list` + `xen_inv_extra_mem`: move the list into a
    /// virtual area of `ALIGN(8 * max(xen_max_p2m_pfn, hotplug limit), 1 GiB)` bytes, classify
    /// each leaf (all INVALID → shared `p2m_missing`, all identity or beyond the old list →
    /// shared `p2m_identity`, else private) and set the extra regions INVALID.
    /// Returns the size in bytes of the virtual area (the `p2m virtual area ... size is %lx` value).
    @discardableResult
    public mutating func rebuild(hotplugLimitPages: UInt64 = GuestP2M.defaultHotplugLimitPages) -> UInt64 {
        lastPfnHint = maxP2MPfn
        let gib: UInt64 = 1 << 30
        let areaBytes = Self.alignUp(8 * max(maxP2MPfn.rawValue, hotplugLimitPages), gib)
        let newSize = areaBytes / 8
        if newSize > p2mSize { entries.set(start: p2mSize, count: newSize - p2mSize, to: .identity) }
        maxP2MPfn = PFN(newSize)
        p2mSize = newSize
        sharedLeaves = ExtentMap()
        for run in entries.extents {
            let backing: P2MLeafBacking
            switch run.value {
            case .missing: backing = .sharedMissing
            case .identity: backing = .sharedIdentity
            default: continue
            }
            let firstLeaf = (run.start + Self.entriesPerLeaf - 1) / Self.entriesPerLeaf
            let endLeaf = run.end / Self.entriesPerLeaf
            if firstLeaf < endLeaf { sharedLeaves.set(start: firstLeaf, count: endLeaf - firstLeaf, to: backing) }
        }
        isRebuilt = true
        for r in extraMemory {
            setRangeWithinList(r.lowerBound, count: r.upperBound.rawValue - r.lowerBound.rawValue, to: .missing)
        }
        return areaBytes
    }

    // MARK: Summaries

    /// The runs of entries that lookups see over `[start, start + count)` within the list.
    public func runs(start: PFN = PFN(0), count: UInt64? = nil) -> [Extent<P2MRun>] {
        let n = count ?? (p2mSize > start.rawValue ? p2mSize - start.rawValue : 0)
        return entries.extents(start: start.rawValue, count: n)
    }
}
