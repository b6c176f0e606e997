/// A raw x86_64 Linux P2M word as stored in the guest's list and seen by tools.
///
/// `INVALID_P2M_ENTRY` is `~0`, `IDENTITY_FRAME_BIT` is bit 62, `FOREIGN_FRAME_BIT` is bit 63
/// (arch/x86/include/asm/xen/page.h).
public struct P2MWord: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The stored 64-bit value.
    public var rawValue: UInt64
    /// Wraps a stored value.
    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// `INVALID_P2M_ENTRY` (`~0UL`).
    public static let invalid = P2MWord(rawValue: ~0)
    /// `FOREIGN_FRAME_BIT` (`1UL << 63`).
    public static let foreignBit: UInt64 = 1 << 63
    /// `IDENTITY_FRAME_BIT` (`1UL << 62`).
    public static let identityBit: UInt64 = 1 << 62

    /// `IDENTITY_FRAME(pfn)`.
    public static func identity(_ pfn: PFN) -> P2MWord { P2MWord(rawValue: pfn.rawValue | identityBit) }
    /// `FOREIGN_FRAME(mfn)`.
    public static func foreign(_ mfn: MFN) -> P2MWord { P2MWord(rawValue: mfn.rawValue | foreignBit) }
    /// A plain machine frame.
    public static func machine(_ mfn: MFN) -> P2MWord { P2MWord(rawValue: mfn.rawValue) }

    /// The word with the FOREIGN and IDENTITY bits cleared, as `pfn_to_mfn` returns it: the
    /// machine frame (an identity entry's pfn as its mfn; INVALID passes through unchanged).
    @inlinable
    public var strippedFrame: MFN {
        MFN(rawValue == ~0 ? rawValue : rawValue & ~(Self.foreignBit | Self.identityBit))
    }

    /// The decoded meaning of the word.
    public var decoded: P2MEntry {
        if self == .invalid { return .missing }
        if rawValue & Self.foreignBit != 0 { return .foreign(MFN(rawValue & ~(Self.foreignBit | Self.identityBit))) }
        if rawValue & Self.identityBit != 0 { return .identity(PFN(rawValue & ~Self.identityBit)) }
        return .machine(MFN(rawValue))
    }

    /// `0x` + lowercase hex, unpadded (the xen-mfndump spelling).
    public var description: String { Hex.plain(rawValue) }
}

/// What a P2M word means.
public enum P2MEntry: Hashable, Sendable {
    /// A RAM frame of this guest backed by the machine frame.
    case machine(MFN)
    /// A 1:1 frame (MMIO, ACPI, E820 gaps): `IDENTITY_FRAME(pfn)`.
    case identity(PFN)
    /// A frame borrowed from another domain (grant mapping): `FOREIGN_FRAME(mfn)`.
    case foreign(MFN)
    /// No frame: ballooned out, a hole, or beyond RAM (`INVALID_P2M_ENTRY`).
    case missing

    /// The raw word for this entry.
    public var word: P2MWord {
        switch self {
        case .machine(let m): return .machine(m)
        case .identity(let p): return .identity(p)
        case .foreign(let m): return .foreign(m)
        case .missing: return .invalid
        }
    }
}
