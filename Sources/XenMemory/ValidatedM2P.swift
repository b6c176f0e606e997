/// `mfn_to_pfn` as one lookup table: for every key, what the two-step kernel function gives (the
/// M2P entry when the P2M maps it back, else the key itself for a 1:1 frame, else `~0`).
///
/// The key space splits into pieces on which the outcome is one of three functions of the key:
/// the M2P run's own (`m2p`), the key (`identity`) or `~0` (`invalid`). A piece lies inside one
/// M2P run, one P2M run at the key and one P2M run at the M2P value; inside one quarter
/// (bits 63 and 62) of the key space and, for the value, of its own; and apart from the single
/// keys where a constant run meets the key. There both checks are constant: with masks of 0 or
/// all ones and fills of bits 62/63 only, `((k + d) | f) == k` holds for all or none of a
/// quarter's keys (the low 62 bits agree exactly when `d` is a multiple of 2^62, and then the top
/// two depend only on the quarter). Where a table has another shape the builder gives up
/// (nil) and callers compose the two lookups; each piece's outcome is also checked at its first,
/// middle and last keys.
@usableFromInline
enum ValidatedM2P {
    /// The kernel's two-step `mfn_to_pfn` on the two tables (what the built table reproduces).
    @inlinable @inline(__always)
    static func compose(_ mfn: UInt64, p2m: FrameTranslationTable, m2p: FrameTranslationTable) -> UInt64 {
        var pfn = m2p.lookup(mfn)
        if p2m.lookup(pfn) != mfn { pfn = ~0 }
        if pfn == ~0 && p2m.lookup(mfn) == mfn | P2MWord.identityBit { pfn = mfn }
        return pfn
    }

    /// Which of the three functions gives `compose` at `mfn`.
    private enum Outcome { case m2p, identity, invalid }

    private static func outcome(_ mfn: UInt64, p2m: FrameTranslationTable, m2p: FrameTranslationTable) -> Outcome {
        let value = m2p.lookup(mfn)
        if value != ~0 && p2m.lookup(value) == mfn { return .m2p }
        return p2m.lookup(mfn) == mfn | P2MWord.identityBit ? .identity : .invalid
    }

    /// The first index of sorted `values` holding `value` or more.
    private static func lowerBound(of value: UInt64, in values: [UInt64]) -> Int {
        var lo = 0, hi = values.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if values[mid] < value { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The table, or nil when a run's mask is neither 0 nor all ones, an M2P run adds a fill, or
    /// a P2M run adds a fill other than bits 62/63.
    static func table(p2m: FrameTranslationTable, m2p: FrameTranslationTable) -> FrameTranslationTable? {
        let p2mRuns = p2m.runList, m2pRuns = m2p.runList
        let topBits: UInt64 = 3 << 62
        for r in p2mRuns where !(r.mask == 0 || (r.mask == ~0 && r.fill & ~topBits == 0)) { return nil }
        for r in m2pRuns where !(r.mask == 0 || (r.mask == ~0 && r.fill == 0)) { return nil }
        var cuts = Cuts()
        cuts.addM2P(m2pRuns, p2m: p2m, p2mRuns: p2mRuns)
        cuts.addP2M(p2mRuns)
        return pieces(cuts.starts, p2m: p2m, m2p: m2p, m2pRuns: m2pRuns)
    }

    /// The keys where a piece may start.
    private struct Cuts {
        static let quarters: [UInt64] = [0, 1 << 62, 1 << 63, 3 << 62]
        var keys = quarters

        /// Adds `k` and `k + 1` (a piece of one key) when `k` lies in `lo ..< hi` (`hi` 0 = 2^64).
        mutating func single(_ k: UInt64, in lo: UInt64, _ hi: UInt64) {
            guard k >= lo && (hi == 0 || k < hi) else { return }
            keys.append(k)
            if k != ~0 { keys.append(k + 1) }
        }

        /// The cuts of the M2P runs: their starts, and where the M2P value crosses a P2M run
        /// start, a quarter or ~0 (the values it must not cross inside a piece).
        mutating func addM2P(_ m2pRuns: [FrameTranslationTable.Run], p2m: FrameTranslationTable, p2mRuns: [FrameTranslationTable.Run]) {
            let valueCuts = (p2mRuns.map(\.start) + Self.quarters).sorted()
            for (i, r) in m2pRuns.enumerated() {
                let lo = r.start, hi = i + 1 < m2pRuns.count ? m2pRuns[i + 1].start : 0
                keys.append(lo)
                if r.mask == 0 {
                    // A constant value: its P2M word is one number, which matches one key at most.
                    single(p2m.lookup(r.fill), in: lo, hi)
                    continue
                }
                // value = k + delta over the run: the keys where it reaches each value cut (found by
                // binary search, in one or, when the values wrap past 2^64, two stretches), and where
                // it is ~0.
                let first = lo &+ r.delta, span = (hi &- 1) &- lo
                let (last, wraps) = first.addingReportingOverflow(span)
                let stretches: [(from: UInt64, to: UInt64)] = wraps ? [(first, UInt64.max), (UInt64(0), last)] : [(first, last)]
                for (from, to) in stretches {
                    var c = ValidatedM2P.lowerBound(of: from, in: valueCuts)
                    while c < valueCuts.count && valueCuts[c] <= to {
                        keys.append(valueCuts[c] &- r.delta)
                        c += 1
                    }
                }
                single(~0 &- r.delta, in: lo, hi)
            }
        }

        /// The cuts of the P2M runs: their starts, and the single keys a constant word meets.
        mutating func addP2M(_ p2mRuns: [FrameTranslationTable.Run]) {
            for (j, r) in p2mRuns.enumerated() {
                let lo = r.start, hi = j + 1 < p2mRuns.count ? p2mRuns[j + 1].start : 0
                keys.append(lo)
                // The identity check at the key: a constant word w equals k | bit 62 for k = w and
                // k = w without bit 62 at most.
                if r.mask == 0 && r.fill & P2MWord.identityBit != 0 {
                    single(r.fill, in: lo, hi)
                    single(r.fill & ~P2MWord.identityBit, in: lo, hi)
                }
                // The round trip: a constant word w equals the key for k = w only.
                if r.mask == 0 { single(r.fill, in: 0, 0) }
            }
        }

        /// The cuts sorted, each once.
        var starts: [UInt64] {
            var starts: [UInt64] = []
            starts.reserveCapacity(keys.count)
            for c in keys.sorted() where starts.last != c { starts.append(c) }
            return starts
        }
    }

    /// The table of the pieces starting at `starts`, each the outcome at its first key; nil when
    /// a piece's middle or last key has another outcome.
    private static func pieces(
        _ starts: [UInt64], p2m: FrameTranslationTable, m2p: FrameTranslationTable, m2pRuns: [FrameTranslationTable.Run]
    ) -> FrameTranslationTable? {
        var runs: [FrameTranslationTable.Run] = []
        runs.reserveCapacity(starts.count)
        for (i, lo) in starts.enumerated() {
            let last = i + 1 < starts.count ? starts[i + 1] &- 1 : ~0
            let kind = outcome(lo, p2m: p2m, m2p: m2p)
            guard outcome(last, p2m: p2m, m2p: m2p) == kind,
                outcome(lo &+ (last &- lo) / 2, p2m: p2m, m2p: m2p) == kind
            else { return nil }
            switch kind {
            case .m2p:
                let r = m2pRuns[m2p.runIndex(lo)]
                runs.append(FrameTranslationTable.Run(start: lo, delta: r.delta, mask: r.mask, fill: r.fill))
            case .identity: runs.append(.keyWithBits(start: lo, 0))
            case .invalid: runs.append(.constant(start: lo, ~0))
            }
        }
        return FrameTranslationTable(runs: runs)
    }
}

extension FrameTranslationTable {
    /// The runs in key order.
    var runList: [Run] { (0..<runCount).map { words[$0] } }
}
