import XenMemory

/// Axis ticks at round values: byte quantities at power-of-two steps labelled in KiB/MiB/GiB
/// (`0`, `512 MiB`, `1 GiB`, `1.5 GiB`), counts at 1, 2 or 5 times a power of ten.
enum AxisTicks {
    /// The axis end of `ticks`: its last value, at least 1.
    static func end(_ ticks: [Tick]) -> UInt64 { Swift.max(ticks.last?.value ?? 1, 1) }

    /// One tick: its value and label.
    struct Tick: Equatable {
        /// The value the tick marks.
        var value: UInt64
        /// Its label.
        var label: String
    }

    /// The most intervals an axis gets (its ticks stay at least ~100 px apart on a 860 px axis).
    static let maxIntervals: UInt64 = 8

    /// Ticks from 0 to the first multiple of the step at or above `max` bytes (the axis ends
    /// there), at the smallest power-of-two step giving at most ``maxIntervals`` intervals.
    static func bytes(covering max: UInt64) -> [Tick] {
        var step: UInt64 = 1
        while intervals(max, step) > maxIntervals { step <<= 1 }
        return (0...intervals(max, step)).map { Tick(value: $0 * step, label: ByteText.text($0 * step)) }
    }

    /// Steps of `step` from 0 that reach `max`.
    static func intervals(_ max: UInt64, _ step: UInt64) -> UInt64 { max / step + (max % step == 0 ? 0 : 1) }

    /// Ticks from 0 to the first multiple of the step at or above `max` (the axis ends there),
    /// at the smallest step of 1, 2 or 5 times a power of ten giving at most ``maxIntervals``
    /// intervals.
    static func counts(covering max: UInt64) -> [Tick] {
        var base: UInt64 = 1
        var step: UInt64 = 1
        search: while true {
            for m: UInt64 in [1, 2, 5] {
                let (s, o) = base.multipliedReportingOverflow(by: m)
                if o { break search }
                step = s
                if intervals(max, s) <= maxIntervals { break search }
            }
            let (b, o) = base.multipliedReportingOverflow(by: 10)
            if o { break }
            base = b
        }
        return (0...intervals(max, step)).map { Tick(value: $0 * step, label: String($0 * step)) }
    }
}
