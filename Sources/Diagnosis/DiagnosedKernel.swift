import Swiotlb

/// The kernel a diagnosis is about, and the per-kernel facts its verdicts rest on. These are the
/// only version tests of the diagnosis: the rules ask this type, never a version number.
///
/// - max mapping size (`swiotlb_max_mapping_size`): 128 slots of 2 KiB (256 KiB) up to 5.18;
///   from 5.19, 256 KiB − roundup(min_align_mask, 2048) when the device has a min_align_mask
///   (6.1.192 and 6.18 `kernel/dma/swiotlb.c`).
/// - `swiotlb=` reading: `<slots>[,force|noforce]` before 6.0, `<slots>,<areas>[,force|noforce]`
///   from 6.0 (areas rounded up to a power of two, the pool to a power of two ≥ 128 × areas),
///   the RFC's `<low>,<high>[,force]`.
/// - `limit_nareas` (a halved pool's areas at most one per 128 slots) from 6.6.
/// - `io_tlb_used_hiwater` in debugfs from 6.4.
public struct DiagnosedKernel: Sendable, Hashable, CustomStringConvertible {
    /// Major and minor release (`6.1`).
    public var major: Int, minor: Int
    /// Dongli Zhang's RFC (two pools) on v5.11.
    public var isRFC: Bool

    /// A kernel `major.minor`, or the RFC.
    public init(major: Int, minor: Int, isRFC: Bool = false) {
        self.major = major; self.minor = minor; self.isRFC = isRFC
    }

    /// Reads `v5.11`, `rfc-v1`, `v6.1`, `6.18`, or a release as `Linux version` prints it
    /// (`6.1.0-56-amd64`); nil for anything else.
    public init?(_ text: String) {
        if text == SwiotlbKernel.rfcV1.rawValue { self.init(major: 5, minor: 11, isRFC: true); return }
        let digits = text.hasPrefix("v") ? text.dropFirst() : Substring(text)
        let parts = digits.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, let major = Int(parts[0]), (2...99).contains(major) else { return nil }
        let minorDigits = parts[1].prefix { $0.isASCII && $0.isNumber }
        guard !minorDigits.isEmpty, minorDigits.count <= 3, let minor = Int(minorDigits),
            parts.count > 2 || minorDigits.count == parts[1].count
        else { return nil }
        self.init(major: major, minor: minor)
    }

    /// The kernel a scenario's model runs (its `SwiotlbKernel`).
    public init(_ model: SwiotlbKernel) {
        // Every registered kernel's name (v5.11, rfc-v1, v6.1) is one ``init(_:)`` reads: the
        // registry is the project's own constant, not outside input.
        self = DiagnosedKernel(model.rawValue)!
    }

    /// `v6.1`, `rfc-v1`.
    public var description: String { isRFC ? SwiotlbKernel.rfcV1.rawValue : "v\(major).\(minor)" }

    /// Whether the release is `major.minor` or later.
    func isAtLeast(_ major: Int, _ minor: Int) -> Bool { (self.major, self.minor) >= (major, minor) }

    /// `swiotlb_max_mapping_size` for a device with `minAlignMask` (0: none).
    public func maxMappingSize(minAlignMask: UInt64) -> Int {
        let flat = IOTLB.maxMappingSize
        guard isAtLeast(5, 19), minAlignMask != 0 else { return flat }
        let slot = UInt64(IOTLB.slotSize)
        let mask = min(minAlignMask, UInt64(flat))
        return flat - Int((mask + slot - 1) / slot * slot)
    }

    /// Whether `swiotlb=` takes an area count and the pool is split into areas (6.0 and later).
    public var hasAreas: Bool { !isRFC && isAtLeast(6, 0) }
    /// Whether a pool the set-up halved keeps at most one area per 128 slots (`limit_nareas`, 6.6
    /// and later), so a pool's area count may be below the `default_nareas` a command line gives.
    public var limitsAreas: Bool { hasAreas && isAtLeast(6, 6) }
    /// Whether debugfs has `io_tlb_used_hiwater` (6.4 and later).
    public var hasHighWater: Bool { !isRFC && isAtLeast(6, 4) }
    /// Whether the slot search can loop forever (6.0's areas up to the bound added in 6.3,
    /// 7c3940bf81e5): the 6.1.192 replay's hang applies.
    public var searchCanHang: Bool { hasAreas && !isAtLeast(6, 3) }
    /// Whether the RFC's second pool exists.
    public var hasHighPool: Bool { isRFC }

    /// The `swiotlb=` rules the model's parser applies for this kernel.
    public var cmdlineRules: SwiotlbKernel { isRFC ? .rfcV1 : hasAreas ? .v6_1 : .v5_11 }

    /// The slots a kernel gives its (low) pool for the `swiotlb=` value `parsed` with
    /// `possibleCPUs` (areas default; nil: unknown, taken as 1): before 6.0 the value aligned
    /// to 128 (64 MiB without one); from 6.0 raised to a power of two ≥ 128 × areas. Nil when
    /// the kernel's reading exceeds 2^25 slots (the model's bound; the kernel then halves until
    /// an allocation succeeds).
    public func poolSlots(_ parsed: SwiotlbCommandLine, possibleCPUs: Int?) -> (slots: UInt64, areas: UInt64)? {
        guard hasAreas else { return (parsed.effectiveNslabs, 1) }
        if parsed.force == .noForce { return (0, 0) }
        guard
            let setup = Linux61PoolSetup(
                requested: parsed.effectiveNslabs, areas: parsed.areas,
                possibleCPUs: UInt64(max(possibleCPUs ?? 1, 1)))
        else { return nil }
        return (setup.nslabs, setup.areas)
    }
}
