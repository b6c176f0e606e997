/// Why a capture's trace is incomplete: the kernel missed probe hits, or the ring buffer lost
/// events. A value, so that the command decides the exit status and the library the words.
public enum CaptureGap: Error, Sendable, Equatable, CustomStringConvertible {
    /// Probe hits the kernel missed (`kprobe_profile`'s third column), per event with any.
    case missedHits([MissedHits])
    /// Events the ring buffer overwrote before they were read.
    case lostEvents(UInt64)

    /// One event's missed hits.
    public struct MissedHits: Sendable, Equatable {
        /// The event's name.
        public var event: String
        /// Hits missed.
        public var count: UInt64

        /// `count` missed hits of `event`.
        public init(event: String, count: UInt64) { self.event = event; self.count = count }
    }

    /// The gap of a recording that missed `missed` hits and lost `lostEvents` events; nil when
    /// nothing is missing. Missed hits come first: they are the kernel's, not the reader's.
    public static func of(missed: [(event: String, count: UInt64)], lostEvents: UInt64) -> CaptureGap? {
        let hits = missed.filter { $0.count > 0 }.map { MissedHits(event: $0.event, count: $0.count) }
        if !hits.isEmpty { return .missedHits(hits) }
        return lostEvents > 0 ? .lostEvents(lostEvents) : nil
    }

    /// `<n> probe hits missed (<event> <n>, …): the trace is incomplete`, or
    /// `<n> events lost by the ring buffer: the trace is incomplete`.
    public var description: String {
        switch self {
        case .missedHits(let hits):
            let total = hits.reduce(UInt64(0)) { $0 &+ $1.count }
            return "\(total) probe hits missed (\(hits.map { "\($0.event) \($0.count)" }.joined(separator: ", "))): the trace is incomplete"
        case .lostEvents(let n):
            return "\(n) events lost by the ring buffer: the trace is incomplete"
        }
    }
}
