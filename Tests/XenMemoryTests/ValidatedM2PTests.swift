import Testing
import XenPVTestSupport

@testable import XenMemory

@Suite("validated M2P: one table gives what the two-step mfn_to_pfn gives, key for key")
struct ValidatedM2PTests {
    /// The bases of the key windows every run edge of the random tables lies in: the quarters'
    /// starts and the top of the key space.
    static let bases: [UInt64] = [0, 1 << 62, 1 << 63, 3 << 62, ~0 - 4095]

    /// A key near one of the bases.
    func nearKey(_ rng: inout SplitMix64) -> UInt64 {
        let base = Self.bases[Int(rng.next() % UInt64(Self.bases.count))]
        return base &+ rng.next() % 4096
    }

    /// A delta from one window to another (or within one).
    func delta(_ rng: inout SplitMix64) -> UInt64 { nearKey(&rng) &- nearKey(&rng) }

    /// Sorted runs starting at 0, with starts in the windows.
    func runs(_ rng: inout SplitMix64, count: Int, make: (UInt64, inout SplitMix64) -> FrameTranslationTable.Run) -> [FrameTranslationTable.Run] {
        var starts = Set<UInt64>([0])
        while starts.count < count { starts.insert(nearKey(&rng)) }
        return starts.sorted().map { make($0, &rng) }
    }

    @Test("random P2M and M2P tables with identity, foreign and constant runs around the quarter edges", arguments: 0..<40)
    func randomTables(seed: UInt64) throws {
        var rng = SplitMix64(seed: 0x7a1d_0000 + seed)
        let p2m = FrameTranslationTable(
            runs: runs(&rng, count: 12) { start, rng in
                switch rng.next() % 6 {
                case 0: return .linear(start: start, base: start &+ delta(&rng))
                case 1: return .linear(start: start, base: start &+ delta(&rng), fill: P2MWord.foreignBit)
                case 2: return .keyWithBits(start: start, P2MWord.identityBit)
                case 3: return .constant(start: start, ~0)
                case 4: return .constant(start: start, nearKey(&rng) | P2MWord.identityBit)
                default: return .constant(start: start, nearKey(&rng))
                }
            })
        let m2p = FrameTranslationTable(
            runs: runs(&rng, count: 12) { start, rng in
                switch rng.next() % 3 {
                case 0: return .constant(start: start, rng.next() % 2 == 0 ? ~0 : nearKey(&rng))
                default: return .linear(start: start, base: start &+ delta(&rng))
                }
            })
        let table = try #require(ValidatedM2P.table(p2m: p2m, m2p: m2p))
        var wrong = 0
        for base in Self.bases {
            for k in base...(base &+ 4095) where table.lookup(k) != ValidatedM2P.compose(k, p2m: p2m, m2p: m2p) {
                wrong += 1
                if wrong <= 3 {
                    Issue.record(
                        "mfn \(Hex.plain(k)): table \(Hex.plain(table.lookup(k))), two steps \(Hex.plain(ValidatedM2P.compose(k, p2m: p2m, m2p: m2p)))")
                }
            }
        }
        for _ in 0..<2000 {
            let k = rng.next()
            #expect(table.lookup(k) == ValidatedM2P.compose(k, p2m: p2m, m2p: m2p), "mfn \(Hex.plain(k))")
        }
        #expect(wrong == 0)
    }

    @Test("a run shape outside the argument (a mask that is neither 0 nor all ones) gives no table")
    func unsupportedShape() {
        let odd = FrameTranslationTable(runs: [FrameTranslationTable.Run(start: 0, delta: 0, mask: 0xfff, fill: 0)])
        let plain = FrameTranslationTable(runs: [.linear(start: 0, base: 0)])
        #expect(ValidatedM2P.table(p2m: odd, m2p: plain) == nil)
        #expect(ValidatedM2P.table(p2m: plain, m2p: odd) == nil)
        #expect(ValidatedM2P.table(p2m: plain, m2p: FrameTranslationTable(runs: [.linear(start: 0, base: 0, fill: 1)])) == nil)
    }
}
