/// The fixed vocabulary of verdicts (docs/diagnose.md).
public enum VerdictKind: String, Sendable, CaseIterable {
    /// A request above the kernel's max mapping size: no pool size helps.
    case overMaxMappingSize = "over-max-mapping-size"
    /// A device's mappings are not given back.
    case leak
    /// The peak demand is above the pool.
    case undersized
    /// A map failed while much of the pool was free.
    case fragmentation
    /// The high-water mark is far below the pool.
    case oversized
    /// The pool mapped is not what `swiotlb=` asked for.
    case cmdlineNotApplied = "cmdline-not-applied"
    /// There is no bounce pool.
    case noPool = "no-pool"
    /// A map Linux 6.1.192 would never return from.
    case kernelHang = "kernel-hang"
    /// Nothing wrong.
    case healthy

    /// Whether the verdict reports a problem (the exit status 1 of `diagnose`).
    public var isProblem: Bool { self != .healthy }
}

/// One conclusion: its kind, the device it is about, the evidence it rests on (log lines,
/// figures) and one line of explanation.
public struct Verdict: Sendable, Hashable {
    /// The kind.
    public var kind: VerdictKind
    /// The device (nil when the verdict is about the pool or the command line).
    public var device: String?
    /// The lines and figures it rests on.
    public var evidence: [String]
    /// One line: what it means and what to do.
    public var explanation: String
    /// Figures for JSON readers, in order (`size_bytes`, `max_mapping_size`, …).
    public var figures: [(String, Int)]

    /// Creates a verdict.
    public init(_ kind: VerdictKind, device: String? = nil, evidence: [String], explanation: String, figures: [(String, Int)] = []) {
        self.kind = kind; self.device = device; self.evidence = evidence; self.explanation = explanation; self.figures = figures
    }

    /// Compares everything, the figures by name and value.
    public static func == (a: Verdict, b: Verdict) -> Bool {
        a.kind == b.kind && a.device == b.device && a.evidence == b.evidence && a.explanation == b.explanation
            && a.figures.map(\.0) == b.figures.map(\.0) && a.figures.map(\.1) == b.figures.map(\.1)
    }

    /// Hashes the kind, device and explanation.
    public func hash(into h: inout Hasher) { h.combine(kind); h.combine(device); h.combine(explanation) }
}

/// What to put on the kernel command line instead.
public struct Recommendation: Sendable, Hashable {
    /// A pool's recommended size.
    public struct Pool: Sendable, Hashable {
        /// `Low Mem` / `High Mem`, nil for one pool.
        public var name: String?
        /// Slots.
        public var slots: UInt64
        /// Bytes (slots × 2 KiB).
        public var bytes: UInt64 { slots << 11 }
    }

    /// The complete `swiotlb=…` fragment to paste for this kernel.
    public var cmdline: String
    /// Per pool, low (or only) first.
    public var pools: [Pool]
    /// Slots of all pools.
    public var slots: UInt64 { pools.reduce(0) { $0 + $1.slots } }
    /// Bytes of all pools.
    public var bytes: UInt64 { slots << 11 }
    /// Why this size (the headroom policy applied, or the form the kernel reads).
    public var reason: String
}

/// The outcome: the verdicts (problems first, or one `healthy`), the recommendation if a size
/// or form should change, and notes on what could not be read.
public struct Diagnosis: Sendable {
    /// The verdicts.
    public var verdicts: [Verdict]
    /// The `swiotlb=` to use instead, if any.
    public var recommendation: Recommendation?
    /// What could not be read.
    public var notes: [String]
    /// The kernel the verdicts are for.
    public var kernel: DiagnosedKernel

    /// Whether anything is wrong.
    public var hasProblem: Bool { verdicts.contains { $0.kind.isProblem } }
}
