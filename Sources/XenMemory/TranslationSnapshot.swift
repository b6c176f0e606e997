extension GuestP2M {
    /// This P2M as a lookup table with `pfnToMFNWord` semantics for every pfn: the stored words
    /// below `xen_p2m_size` (gaps INVALID), INVALID in the ballooned extra regions beyond it, and
    /// `IDENTITY_FRAME(pfn)` everywhere else.
    public func translationTable() -> FrameTranslationTable {
        var runs: [FrameTranslationTable.Run] = []
        var next: UInt64 = 0
        func add(_ r: FrameTranslationTable.Run) {
            if let last = runs.last, last.start == r.start { runs[runs.count - 1] = r } else { runs.append(r) }
        }
        for e in entries.extents(start: 0, count: p2mSize) {
            if e.start > next { add(.constant(start: next, P2MWord.invalid.rawValue)) }
            switch e.value {
            case .machine(let base): add(.linear(start: e.start, base: base.rawValue))
            case .foreign(let base): add(.linear(start: e.start, base: base.rawValue, fill: P2MWord.foreignBit))
            case .identity: add(.keyWithBits(start: e.start, P2MWord.identityBit))
            case .missing: add(.constant(start: e.start, P2MWord.invalid.rawValue))
            }
            next = e.end
        }
        if p2mSize > next { add(.constant(start: next, P2MWord.invalid.rawValue)) }
        next = p2mSize
        // Beyond the list: identity, but INVALID inside the extra regions (below xen_max_p2m_pfn).
        let extra = extraMemory.compactMap { r -> Range<UInt64>? in
            let lo = max(r.lowerBound.rawValue, p2mSize), hi = min(r.upperBound.rawValue, maxP2MPfn.rawValue)
            return lo < hi ? lo..<hi : nil
        }.sorted { $0.lowerBound < $1.lowerBound }
        for r in extra where r.lowerBound >= next {
            if r.lowerBound > next { add(.keyWithBits(start: next, P2MWord.identityBit)) }
            add(.constant(start: r.lowerBound, P2MWord.invalid.rawValue))
            next = r.upperBound
        }
        add(.keyWithBits(start: next, P2MWord.identityBit))
        return FrameTranslationTable(runs: runs)
    }
}

extension HostM2P {
    /// This M2P as a lookup table with `lookup` semantics: the raw entry below `max_page`
    /// (INVALID where no run is), INVALID beyond.
    public func translationTable() -> FrameTranslationTable {
        var runs: [FrameTranslationTable.Run] = []
        var next: UInt64 = 0
        for e in self.runs.extents(start: 0, count: maxPage.rawValue) {
            if e.start > next { runs.append(.constant(start: next, HostM2P.invalidEntry)) }
            switch e.value {
            case .pfn(let base): runs.append(.linear(start: e.start, base: base.rawValue))
            case .invalid, .shared: runs.append(.constant(start: e.start, e.value.rawEntry))
            }
            next = e.end
        }
        runs.append(.constant(start: next, HostM2P.invalidEntry))
        return FrameTranslationTable(runs: runs)
    }
}

/// A guest's P2M and the host's M2P frozen as lookup tables: the translations of
/// `arch/x86/include/asm/xen/page.h` at memory speed, for analyses and lookups in bulk.
public struct TranslationSnapshot: Sendable {
    /// The guest's P2M (`__pfn_to_mfn` words).
    public let p2m: FrameTranslationTable
    /// The host's M2P (raw entries).
    public let m2p: FrameTranslationTable

    /// `mfn_to_pfn` over every key as one table (nil only for table shapes it does not cover;
    /// never for tables frozen from a P2M and an M2P).
    @usableFromInline let validatedM2P: FrameTranslationTable?

    /// Freezes `p2m` and `m2p` as they are now.
    public init(p2m: GuestP2M, m2p: HostM2P) {
        self.p2m = p2m.translationTable()
        self.m2p = m2p.translationTable()
        validatedM2P = ValidatedM2P.table(p2m: self.p2m, m2p: self.m2p)
    }

    /// `__pfn_to_mfn(pfn)`: the full word (as ``GuestP2M/pfnToMFNWord(_:)`` gives it).
    @inlinable @inline(__always)
    public func pfnToMFNWord(_ pfn: PFN) -> P2MWord { P2MWord(rawValue: p2m.lookup(pfn.rawValue)) }

    /// `pfn_to_mfn(pfn)`: the frame with FOREIGN and IDENTITY stripped; INVALID stays `~0`.
    @inlinable @inline(__always)
    public func pfnToMFN(_ pfn: PFN) -> MFN { pfnToMFNWord(pfn).strippedFrame }

    /// `mfn_to_pfn(mfn)`: the M2P entry if the P2M maps it back, else `~0`; an identity frame
    /// gives itself.
    @inlinable @inline(__always)
    public func mfnToPFN(_ mfn: MFN) -> PFN {
        if let table = validatedM2P { return PFN(table.lookup(mfn.rawValue)) }
        return PFN(ValidatedM2P.compose(mfn.rawValue, p2m: p2m, m2p: m2p))
    }
}
