/// How a run of guest P2M entries maps: the stored words of `count` consecutive pfns.
public enum P2MRun: ExtentValue, Hashable {
    /// pfn `start + i` → machine frame `base + i`.
    case machine(base: MFN)
    /// pfn `start + i` → foreign machine frame `base + i` (stored with `FOREIGN_FRAME_BIT`).
    case foreign(base: MFN)
    /// Every pfn holds `IDENTITY_FRAME(pfn)`.
    case identity
    /// Every pfn holds `INVALID_P2M_ENTRY`.
    case missing

    /// The value `offset` entries later.
    @inlinable
    public func advanced(by offset: UInt64) -> P2MRun {
        switch self {
        case .machine(let b): return .machine(base: MFN(rawValue: b.rawValue &+ offset))
        case .foreign(let b): return .foreign(base: MFN(rawValue: b.rawValue &+ offset))
        case .identity, .missing: return self
        }
    }

    /// The stored word of `pfn` when this value is the one for that pfn.
    @inlinable
    public func word(at pfn: PFN) -> P2MWord {
        switch self {
        case .machine(let b): return P2MWord(rawValue: b.rawValue)
        case .foreign(let b): return P2MWord(rawValue: b.rawValue | P2MWord.foreignBit)
        case .identity: return P2MWord(rawValue: pfn.rawValue | P2MWord.identityBit)
        case .missing: return .invalid
        }
    }

    /// The run value that stores `word` at `pfn`.
    public init(word: P2MWord, at pfn: PFN) {
        switch word.decoded {
        case .missing: self = .missing
        case .machine(let m): self = .machine(base: m)
        case .foreign(let m): self = .foreign(base: m)
        case .identity(let p):
            // A word carrying the identity bit for another pfn is kept as its raw frame so that
            // nothing is lost; Linux only ever stores IDENTITY_FRAME(pfn) at pfn.
            self = p == pfn ? .identity : .machine(base: MFN(word.rawValue))
        }
    }
}

extension P2MRun {
    /// The run's value as the reports print it: `mfn 0x<first machine frame>`, `foreign mfn
    /// 0x<first machine frame>`, `identity` or `missing` (`compare-real`'s run and segment lines,
    /// `layout`'s P2M runs).
    public var reportText: String {
        switch self {
        case .machine(let b): return "mfn \(Hex.plain(b.rawValue))"
        case .foreign(let b): return "foreign mfn \(Hex.plain(b.rawValue))"
        case .identity: return "identity"
        case .missing: return "missing"
        }
    }
}
