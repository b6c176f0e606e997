import XenMemory

/// What a domain's P2M says, summarised.
public struct P2MSummary: Sendable {
    /// The domain.
    public var domid: DomID
    /// Entries examined.
    public var size: UInt64
    /// How the P2M was obtained.
    public var source: P2MSource
    /// RAM entries (machine frames).
    public var ram: UInt64 = 0
    /// Identity (1:1) entries.
    public var identity: UInt64 = 0
    /// Missing (INVALID) entries.
    public var missing: UInt64 = 0
    /// Foreign entries.
    public var foreign: UInt64 = 0
    /// The identity (1:1) ranges of pfns, e.g. the E820 holes below the initial allocation.
    public var identityRanges: [Range<PFN>] = []
    /// RAM frames below 4 GiB of machine memory.
    public var below4G: UInt64 = 0
    /// Maximal machine-contiguous runs of RAM entries.
    public var contiguousRuns: UInt64 = 0
    /// The longest run: first pfn, first mfn, length.
    public var longestRun: (pfn: PFN, mfn: MFN, pages: UInt64) = (PFN(0), MFN(0), 0)
    /// Maximal runs of raw words that step by +1 or −1 (any kind of entry; how the fixtures'
    /// notes count a layout's runs — the physmap's descending pages count as one run each way).
    public var linearRuns: UInt64 = 0
    /// Run lengths by power of two: index k counts runs of 2^k … 2^(k+1)−1 pages.
    public var runLengthHistogram: [UInt64] = Array(repeating: 0, count: 41)
    /// Whether an M2P was given, so that the round trip was checked.
    public var m2pChecked: Bool
    /// RAM entries whose M2P entry does not name them back (0 when not checked).
    public var m2pMismatches: UInt64 = 0
    /// The first few mismatches: pfn, mfn, what the M2P says.
    public var firstMismatches: [(pfn: PFN, mfn: MFN, m2p: UInt64)] = []
    /// The bounce pools' segments, when their locations are known (only the part of a pool
    /// that lies within the P2M: see ``SwiotlbPoolLocation/check(p2mSize:)``).
    public var poolSegments: [[SegmentPlacement]] = []

    /// Analyses `p2m` against the host's `m2p`; `pools` places the bounce pools.
    public init(_ p2m: P2MDumpContents, source: P2MSource, m2p: HostM2P?, pools: [SwiotlbPoolLocation] = []) {
        domid = p2m.domid
        size = p2m.size
        self.source = source
        m2pChecked = m2p != nil
        var prevEnd: (pfn: UInt64, mfn: UInt64)? = nil
        var current: (pfn: UInt64, mfn: UInt64, pages: UInt64)? = nil
        func close() {
            guard let c = current else { return }
            contiguousRuns += 1
            runLengthHistogram[min(40, BitMath.floorLog2(c.pages))] += 1
            if c.pages > longestRun.pages { longestRun = (PFN(c.pfn), MFN(c.mfn), c.pages) }
            current = nil
        }
        for run in p2m.entries.extents {
            switch run.value {
            case .machine(let first):
                let base = first.rawValue
                ram += run.count
                if first < PoolPlacement.fourGiBFrame { below4G += min(run.count, PoolPlacement.fourGiBFrame.rawValue - base) }
                if let p = prevEnd, p.pfn == run.start, p.mfn == base, current != nil {
                    current!.pages += run.count
                } else {
                    close()
                    current = (run.start, base, run.count)
                }
                prevEnd = (run.end, base + run.count)
                if let m2p {
                    for m in m2p.runs.extents(start: base, count: run.count) where m.value != .pfn(base: PFN(run.start + (m.start - base))) {
                        m2pMismatches += m.count
                        if firstMismatches.count < 10 { firstMismatches.append((PFN(run.start + (m.start - base)), MFN(m.start), m.value.rawEntry)) }
                    }
                    // Frames with no M2P run read INVALID: also mismatches.
                    let covered = m2p.runs.extents(start: base, count: run.count).reduce(0) { $0 + $1.count }
                    if covered < run.count {
                        m2pMismatches += run.count - covered
                        if firstMismatches.count < 10 { firstMismatches.append((PFN(run.start), MFN(base), HostM2P.invalidEntry)) }
                    }
                }
            case .identity:
                close(); prevEnd = nil
                identity += run.count
                if let last = identityRanges.last, last.upperBound == PFN(run.start) {
                    identityRanges[identityRanges.count - 1] = last.lowerBound..<PFN(run.end)
                } else {
                    identityRanges.append(PFN(run.start)..<PFN(run.end))
                }
            case .missing:
                close(); prevEnd = nil
                missing += run.count
            case .foreign:
                close(); prevEnd = nil
                foreign += run.count
            }
        }
        close()
        linearRuns = Self.countLinearRuns(p2m)
        poolSegments = pools.map { $0.segments(in: p2m) }
    }

    /// Counts maximal runs whose consecutive raw words differ by +1 or by −1.
    static func countLinearRuns(_ p2m: P2MDumpContents) -> UInt64 {
        var runs: UInt64 = 0
        var last: UInt64? = nil  // last word of the current run
        var step: Int64? = nil  // the current run's step, once it has two words
        func feed(_ w: UInt64) {
            if let l = last {
                let d = Int64(bitPattern: w &- l)
                if (d == 1 || d == -1) && (step == nil || step == d) { step = d; last = w; return }
            }
            runs += 1; last = w; step = nil
        }
        for e in p2m.entries.extents {
            if case .missing = e.value {
                // Repeated INVALID words never step by one: each after the first starts a run.
                feed(HostM2P.invalidEntry)
                if e.count > 1 { runs += e.count - 1; step = nil }
                continue
            }
            feed(e.value.word(at: PFN(e.start)).rawValue)
            if e.count > 1 {
                // The rest of a linear run steps by +1: it continues a +1 run or starts one.
                if step == 1 || step == nil { step = 1 } else { runs += 1; step = e.count > 2 ? 1 : nil }
                last = e.value.advanced(by: e.count - 1).word(at: PFN(e.end - 1)).rawValue
            }
        }
        return runs
    }

    /// The report lines.
    public var lines: [String] {
        var out = [
            "P2M of domain \(domid.rawValue): \(size) entries, \(source.note)",
            "  RAM \(ram), identity \(identity), missing \(missing), foreign \(foreign)",
            "  RAM below 4 GiB of machine memory: \(below4G) pages",
            "  identity ranges: "
                + (identityRanges.isEmpty
                    ? "none"
                    : identityRanges.prefix(6).map { "\($0.lowerBound)-\(Hex.plain($0.upperBound.rawValue - 1))" }.joined(separator: ", ")
                        + (identityRanges.count > 6 ? ", …" : "")),
            "  machine-contiguous runs: \(contiguousRuns), longest \(longestRun.pages) pages (pfn \(longestRun.pfn) → mfn \(longestRun.mfn))",
        ]
        let hist = runLengthHistogram.enumerated().filter { $0.element > 0 }.map { "\(1 << $0.offset)+: \($0.element)" }
        out.append("  run lengths (pages): " + hist.joined(separator: ", "))
        out.append("  linear runs (frames stepping by +1 or -1, any entry kind): \(linearRuns)")
        if !m2pChecked {
            out.append("  M2P round trip: not checked (no dump-m2p given)")
        } else {
            out.append("  M2P round trip: \(m2pMismatches == 0 ? "every RAM entry maps back" : "\(m2pMismatches) RAM entries do not map back")")
        }
        for m in firstMismatches {
            out.append("    pfn \(m.pfn) → mfn \(m.mfn), but M2P[mfn] = \(Hex.plain(m.m2p))")
        }
        for (i, segs) in poolSegments.enumerated() {
            let ok = segs.filter(\.contiguous).count, low = segs.filter(\.below4G).count
            out.append("  swiotlb pool \(i): \(segs.count) segments, \(ok) machine-contiguous, \(low) below 4 GiB")
            for s in segs.prefix(8) {
                out.append("    pfn \(s.pfn) → \(s.mfn.map(\.description) ?? "not RAM")\(s.contiguous ? "" : " (not contiguous)")")
            }
            if segs.count > 8 { out.append("    … \(segs.count - 8) more") }
        }
        return out
    }
}

extension P2MDumpContents {
    /// The first RAM entry whose machine frame is `limit` or above (for an M2P of `limit`
    /// entries: a frame the host does not have), or nil.
    public func firstFrame(notBelow frame: MFN) -> (pfn: PFN, mfn: MFN)? {
        let limit = frame.rawValue
        for run in entries.extents {
            guard case .machine(let first) = run.value else { continue }
            let base = first.rawValue
            if base >= limit { return (PFN(run.start), first) }
            if run.count > limit - base { return (PFN(run.start + (limit - base)), frame) }
        }
        return nil
    }
}
