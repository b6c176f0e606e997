/// How a P2M was obtained, and what that way cannot see.
public enum P2MSource: Sendable, Hashable {
    /// The guest's own list, read through its page tables (`arch.p2m_cr3` / `p2m_vaddr`).
    case pageTableWalk(attempts: Int)
    /// Rebuilt from the M2P and an ownership test: identity (MMIO) and foreign (grant) frames
    /// and unpopulated pfns are invisible.
    case m2pInversion
    /// Read from a dump file.
    case dump
    /// From the model.
    case model

    /// A sentence for reports.
    public var note: String {
        switch self {
        case .pageTableWalk(let a):
            return "read from the guest's P2M list through its page tables (\(a) cop\(a == 1 ? "y" : "ies") until p2m_generation was stable)"
        case .m2pInversion:
            return "rebuilt from the M2P and an ownership test (getpageframeinfo3): identity, foreign and missing entries are not visible this way"
        case .dump: return "read from an xen-mfndump dump"
        case .model: return "from the model"
        }
    }
}
