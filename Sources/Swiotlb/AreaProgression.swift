/// Linux 6.18's area walk (``PoolAreaSearch``) when the slots that pass its address test are
/// every `period`-th slot of the area from `phase` on and the stride is at most the period
/// (``PoolAreaSearch/progression(areaStart:areaSlots:)``): from a candidate the walk's `stride` step and the
/// single steps after it land on the next one, `period` slots on, and count `period` slots as
/// checked. The walk is then two stretches of candidates — from the cursor to the area's end,
/// and after the wrap from `phase` on for as long as fewer than `area_nslabs` slots were
/// counted — and the slot taken is the first candidate of the two that fits.
struct AreaProgression {
    /// The distance between candidates (a power of two).
    let period: Int
    /// The first candidate of the area (area-relative), below `period`.
    let phase: Int

    /// The stretches the walk tests from `cursor` in an area of `areaSlots` slots (a multiple
    /// of `period`), area-relative, each starting at a candidate: the first to the area's end,
    /// the second after the wrap. Counted as the kernel counts: single steps from the cursor
    /// to the first candidate (through the wrap when none is left before the end), `period`
    /// per candidate, and at the wrap the `stride` step (or the single steps to the end when it
    /// falls short of it) and the single steps from 0 to `phase`.
    func stretches(cursor: Int, areaSlots an: Int, stride: Int) -> (first: Range<Int>, second: Range<Int>) {
        let toFirst = (phase &- cursor) & (period &- 1)
        let first: Range<Int>
        // Slots counted as checked on reaching `phase` after the wrap.
        let atWrap: Int
        if cursor &+ toFirst < an {
            first = (cursor &+ toFirst)..<an
            let last = an &- period &+ phase
            atWrap = (last &- cursor) &+ (last &+ stride >= an ? stride : an &- last) &+ phase
        } else {
            first = an..<an
            atWrap = an &- cursor &+ phase
        }
        let count = atWrap < an ? (an &- atWrap &+ period &- 1) / period : 0
        return (first, phase..<Swift.min(phase &+ count &* period, an))
    }

    /// A segment's slots `0, n, 2n, …` as bits (slot k at bit k), for `n` a power of two of at
    /// most a segment.
    static func everyNth(_ n: Int) -> UInt128 {
        var bits: UInt128 = 1
        var filled = n
        while filled < IOTLB.segmentSlots {
            bits |= bits &<< UInt128(truncatingIfNeeded: filled)
            filled &<<= 1
        }
        return bits
    }
}
