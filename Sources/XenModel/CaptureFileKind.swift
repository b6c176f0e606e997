/// What a file of a real capture holds, recognised by its exact name (the layout of
/// shared/fixtures/real-xen-default); any other name is not part of a capture. `compare-real`
/// reads these into a ``RealCapture``.
public enum CaptureFileKind: Hashable, Sendable, CaseIterable {
    /// Dom0's P2M: `dom0-p2m.txt` (the `pfn raw_entry` list) or `dump-p2m.txt` (xen-mfndump).
    case p2m
    /// The host's M2P: `dump-m2p.txt`.
    case m2p
    /// The serial console: `serial.log` (its `(XEN)` lines are Xen's log).
    case serialLog
    /// Xen's console ring: `xl-dmesg.txt` (used when there is no serial.log).
    case xlDmesg
    /// Dom0's kernel log: `dom0-dmesg.txt`.
    case kernelLog
    /// The swiotlb debugfs values before the run: `swiotlb-debugfs.txt`.
    case debugfsBefore
    /// The swiotlb debugfs values after the run (preferred): `swiotlb-debugfs-after.txt`.
    case debugfsAfter

    /// The names of each kind; dumps may also end in `.gz` or `.xz`.
    public var names: [String] {
        switch self {
        case .p2m: return ["dom0-p2m.txt", "dump-p2m.txt"]
        case .m2p: return ["dump-m2p.txt"]
        case .serialLog: return ["serial.log"]
        case .xlDmesg: return ["xl-dmesg.txt"]
        case .kernelLog: return ["dom0-dmesg.txt"]
        case .debugfsBefore: return ["swiotlb-debugfs.txt"]
        case .debugfsAfter: return ["swiotlb-debugfs-after.txt"]
        }
    }

    /// Whether the file may be compressed (the dumps).
    public var isDump: Bool { self == .p2m || self == .m2p }

    /// The kind of the file called `name` (its last path component), or nil.
    public static func of(_ name: String) -> CaptureFileKind? {
        allCases.first { kind in
            kind.names.contains { base in name == base || kind.isDump && (name == base + ".xz" || name == base + ".gz") }
        }
    }

    /// Every recognised name, for messages: `dom0-p2m.txt[.xz|.gz] or dump-p2m.txt[.xz|.gz], …`.
    public static var expected: String {
        allCases.map { kind in kind.names.map { $0 + (kind.isDump ? "[.xz|.gz]" : "") }.joined(separator: " or ") }.joined(separator: ", ")
    }
}
