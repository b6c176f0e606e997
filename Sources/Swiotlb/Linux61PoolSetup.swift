/// How Linux 6.1 sizes its default pool for `swiotlb=<N>[,<A>]`: N aligned up to 128 slots;
/// the area count (A, or the possible CPUs when A is not given) 0 → 1 and rounded up to a power
/// of two; the slots then raised to 128 per area and rounded up to a power of two — with one
/// area too (`setup_io_tlb_npages`, `swiotlb_adjust_nareas`, `round_up_default_nslabs`).
public struct Linux61PoolSetup: Sendable, Hashable {
    /// Slots of the pool (`default_nslabs` after the round-ups).
    public let nslabs: UInt64
    /// Areas (`default_nareas`).
    public let areas: UInt64
    /// Whether the slot count was rounded up after the areas were known (the kernel then logs
    /// `SWIOTLB bounce buffer size roundup to <M>MB`).
    public let roundedUp: Bool

    /// The set-up for `requested` slots (the number after `swiotlb=`) and `areas` (the number
    /// after the comma; nil: `possibleCPUs`). Nil when the result would exceed `limit` slots
    /// (the arithmetic is checked, so no input can overflow it).
    public init?(requested: UInt64, areas: UInt64?, possibleCPUs: UInt64 = 1, limit: UInt64 = UInt64(IOTLB.maxModelSlots)) {
        let segment = UInt64(IOTLB.segmentSlots)
        guard requested <= limit else { return nil }
        let aligned = IOTLB.alignToSegment(requested)
        let wanted = max(areas ?? possibleCPUs, 1)
        guard wanted <= limit / segment, let nareas = Self.powerOfTwoAtLeast(wanted) else { return nil }
        var n = aligned
        var rounded = false
        if n < segment * nareas {
            n = segment * nareas
            rounded = true
        } else if n & (n - 1) != 0 {
            guard let up = Self.powerOfTwoAtLeast(n) else { return nil }
            n = up
            rounded = true
        }
        guard n <= limit else { return nil }
        self.nslabs = n
        self.areas = nareas
        self.roundedUp = rounded
    }

    /// Slots per area (`area_nslabs`).
    public var areaSlots: UInt64 { nslabs / areas }

    /// `roundup_pow_of_two(n)` for n ≥ 1; nil beyond 2^63.
    static func powerOfTwoAtLeast(_ n: UInt64) -> UInt64? {
        if n <= 1 { return 1 }
        let bits = 64 - (n - 1).leadingZeroBitCount
        return bits < 64 ? 1 << UInt64(bits) : nil
    }
}
