/// The kernel's message rate limit, `___ratelimit` (lib/ratelimit.c) on one
/// `struct ratelimit_state` with `DEFAULT_RATELIMIT_INTERVAL` (5 × HZ jiffies) and
/// `DEFAULT_RATELIMIT_BURST` (10) (include/linux/ratelimit_types.h), checked against the model's
/// clock in jiffies. Single-threaded, 6.18's state (`begin`, `rs_n_left`, `missed`) and v5.11's
/// (`begin`, `printed`, `missed`) decide alike:
/// - the first call starts the interval (`begin = jiffies`, `burst` messages left);
/// - a call when `jiffies` is after `begin + interval` (`time_is_before_jiffies`, strictly)
///   starts a new one and, when messages were missed, prints first
///   `"%s: %d callbacks suppressed"` with the calling function's `__func__` (no `pr_fmt`);
/// - the call prints while messages are left in the interval, else counts one missed.
public struct KernelRateLimit: Sendable, Hashable {
    /// `HZ` of the modelled kernels' configuration: Debian's x86-64 kernels (`CONFIG_HZ_250`).
    public static let hz: UInt64 = 250
    /// `DEFAULT_RATELIMIT_INTERVAL`: 5 × HZ jiffies.
    public static let interval: UInt64 = 5 * hz
    /// `DEFAULT_RATELIMIT_BURST`.
    public static let burst = 10

    /// `begin`: the jiffies the interval started at; nil before the first call
    /// (`RATELIMIT_INITIALIZED` not yet set).
    public private(set) var begin: UInt64?
    /// `rs_n_left`: messages still allowed in this interval.
    public private(set) var left = 0
    /// `missed`: calls suppressed since the last `callbacks suppressed` line.
    public private(set) var missed = 0

    /// A state no call has reached yet.
    public init() {}

    /// One call at `jiffies`: whether its message is printed, and the missed count the
    /// `callbacks suppressed` line printed before it reports (0: no such line).
    public mutating func check(at jiffies: UInt64) -> (prints: Bool, suppressed: Int) {
        var suppressed = 0
        if let b = begin {
            if jiffies > b &+ Self.interval {
                left = Self.burst
                begin = jiffies
                suppressed = missed
                missed = 0
            }
        } else {
            begin = jiffies
            left = Self.burst
        }
        if left > 0 {
            left -= 1
            return (true, suppressed)
        }
        missed += 1
        return (false, suppressed)
    }

    /// The jiffies `nanoseconds` after the clock started (HZ ``hz``).
    public static func jiffies(afterNanoseconds nanoseconds: UInt64) -> UInt64 { nanoseconds / (1_000_000_000 / hz) }
}

/// A rate-limited message of the modelled kernels: each is its own `ratelimit_state` (a
/// `static DEFINE_RATELIMIT_STATE` in its `printk_ratelimited` expansion; v5.11's
/// `printk_ratelimit()` shares one kernel-wide state, which in the model only the "full"
/// message reaches), named in its `callbacks suppressed` line by the function it is in.
public enum RateLimitedMessage: Int, Sendable, CaseIterable {
    /// `swiotlb buffer is full …` (v5.11/RFC: `printk_ratelimit()`; 6.1, 6.18: `dev_warn_ratelimited`).
    case bufferFull
    /// `Can not allocate SWIOTLB buffer earlier …` (6.1, 6.18: `dev_warn_ratelimited`).
    case noPool
    /// 6.18's `Failed to allocate new pool` (`pr_warn_ratelimited` in `swiotlb_dyn_alloc`).
    case newPoolFailed

    /// The `__func__` its `callbacks suppressed` line names.
    public var function: String {
        switch self {
        case .bufferFull, .noPool: return "swiotlb_tbl_map_single"
        case .newPoolFailed: return "swiotlb_dyn_alloc"
        }
    }
}
