/// SplitMix64 (Steele, Lea and Flood's generator as `splitmix64.c` steps it): the project's one
/// deterministic random number source, for scenario workloads, property tests and benchmarks.
/// The same seed gives the same numbers on every platform and run.
public struct SplitMix64: Sendable {
    /// The generator state: the seed, advanced once per number.
    public var state: UInt64
    /// A generator seeded with `seed`.
    public init(seed: UInt64) { state = seed }
    /// The next 64 random bits.
    @inline(__always)
    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
