import XenMemory

/// The dump formats `xenpv import` reads, told apart by their first line.
public enum DumpFormat: Sendable, Equatable, CaseIterable {
    /// xen-mfndump `dump-m2p` (``M2PDump``).
    case m2p
    /// xen-mfndump `dump-p2m` (``P2MDump``).
    case p2m
    /// The `pfn raw_entry` list (``PFNListDump``).
    case pfnList

    /// The format whose first line is `head`, or nil when no format starts so.
    public init?(firstLine head: String) {
        if head == M2PDump.header {
            self = .m2p
        } else if head.hasPrefix(" --- Dumping P2M for domain") {
            self = .p2m
        } else if head.hasPrefix("# pfn") || head.first?.isHexDigit == true {
            self = .pfnList
        } else {
            return nil
        }
    }

    /// Reads a whole dump of this format from `lines` (its first line included).
    public func read(lines: DumpLineSource) throws(DumpError) -> DumpContents {
        switch self {
        case .m2p: return .m2p(try M2PDump.read(lines: lines))
        case .p2m: return .p2m(try P2MDump.read(lines: lines))
        case .pfnList: return .p2m(try PFNListDump.read(lines: lines))
        }
    }
}

/// What a dump holds: a domain's P2M or the host's M2P.
public enum DumpContents: Sendable {
    /// A domain's P2M.
    case p2m(P2MDumpContents)
    /// The host's M2P.
    case m2p(HostM2P)
}
