import XenMemory

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
