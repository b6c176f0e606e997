import XenMemory

/// Reads the text tracefs prints for the capture's kprobe events (`trace` or `trace_pipe` of an
/// instance whose clock is `counter`):
/// `<comm>-<pid> [<cpu>] <flags> <counter>: <event>: (<site>) key=value … [name="<device>"]`,
/// and its `CPU:<n> [LOST <k> EVENTS]` lines. Header lines (`#`) and buffer-start notes are
/// skipped; anything else is an error naming the line.
public struct TracefsText: Sendable {
    /// Events read, in the order they came.
    public private(set) var events: [CapturedEvent] = []
    /// Events the ring buffer dropped (the `LOST` lines' counts).
    public private(set) var lostEvents: UInt64 = 0
    /// Lines read.
    public private(set) var lineCount = 0

    /// The longest line accepted (a capture event is about 400 bytes).
    public static let maxLineBytes = 4096
    /// The most events held (about 180 bytes each: some 360 MiB), about 400,000 maps.
    public static let maxEvents = 2 << 20

    /// An empty reader.
    public init() {}

    /// Reads one line (without its newline).
    public mutating func read(_ line: Substring) throws(CaptureError) {
        lineCount += 1
        let n = lineCount
        guard line.utf8.count <= Self.maxLineBytes else { throw CaptureError(line: n, "longer than \(Self.maxLineBytes) bytes: not tracefs event text") }
        var bytes = line
        // The line is read as bytes: a Character-wise parse cost about 50 µs a line, a capture's
        // largest cost inside an emulated guest.
        let parsed = bytes.withUTF8 { b in Result { () throws(CaptureError) -> Line in try Self.line(Bytes(b), line: n) } }
        switch try parsed.get() {
        case .skipped: return
        case .lost(let k): lostEvents = lostEvents.addingReportingOverflow(k).partialValue
        case .event(let e):
            guard events.count < Self.maxEvents else { throw CaptureError(line: n, "more than \(Self.maxEvents) events: record a shorter capture (--seconds)") }
            events.append(e)
        }
    }

    /// What one line holds.
    private enum Line {
        case skipped
        case lost(UInt64)
        case event(CapturedEvent)
    }

    /// A line's UTF-8 bytes, read by byte offset.
    struct Bytes {
        let b: UnsafeBufferPointer<UInt8>
        init(_ b: UnsafeBufferPointer<UInt8>) { self.b = b }
        var count: Int { b.count }
        subscript(i: Int) -> UInt8 { b[i] }
        /// The first offset from `i` on that holds `c` (`count` when none).
        func first(_ c: UInt8, from i: Int) -> Int { var j = i; while j < b.count, b[j] != c { j += 1 }; return j }
        /// The first offset from `i` on that holds neither `c` nor `d`.
        func end(from i: Int, stopAt c: UInt8, _ d: UInt8) -> Int { var j = i; while j < b.count, b[j] != c, b[j] != d { j += 1 }; return j }
        /// The first offset from `i` on that is not a space.
        func skipSpaces(_ i: Int) -> Int { var j = i; while j < b.count, b[j] == 0x20 { j += 1 }; return j }
        /// Whether the bytes at `i` are `s`.
        func has(_ s: StaticString, at i: Int) -> Bool {
            let n = s.utf8CodeUnitCount
            guard i >= 0, i + n <= b.count else { return false }
            return UnsafeBufferPointer(start: s.utf8Start, count: n).elementsEqual(b[i..<(i + n)])
        }
        /// The bytes of `r` as text.
        func text(_ r: Range<Int>) -> String { String(decoding: b[r], as: UTF8.self) }
        /// The digits of `r` as a number (nil: empty, another byte, or too large).
        func decimal(_ r: Range<Int>) -> UInt64? { whole(r) { ByteNumber.decimal($0, &$1) } }
        /// The hex digits of `r` as a number (nil: empty, another byte, or more than 16 digits).
        func hex(_ r: Range<Int>) -> UInt64? { whole(r) { ByteNumber.hex($0, &$1) } }
        /// `read` over the bytes of `r`, nil unless it takes all of them.
        @inline(__always)
        private func whole(_ r: Range<Int>, _ read: (UnsafeBufferPointer<UInt8>, inout Int) -> UInt64?) -> UInt64? {
            let digits = UnsafeBufferPointer(rebasing: b[r])
            var i = 0
            guard let v = read(digits, &i), i == digits.count else { return nil }
            return v
        }
    }

    /// One line's meaning: skipped (blank, `#`), a `LOST` count, or an event.
    private static func line(_ b: Bytes, line n: Int) throws(CaptureError) -> Line {
        let start = b.skipSpaces(0)
        if start == b.count || b[start] == 0x23 { return .skipped }
        if b.has("CPU:", at: start) {
            var lost = start
            while lost < b.count, !b.has(" [LOST ", at: lost) { lost += 1 }
            if lost < b.count {
                var end = lost + 7
                while end < b.count, !b.has(" EVENTS]", at: end) { end += 1 }
                if end < b.count {
                    guard let k = b.decimal((lost + 7)..<end) else {
                        throw CaptureError(line: n, "expected 'CPU:<n> [LOST <count> EVENTS]', got '\(ErrorToken.clipped(b.text(0..<b.count)))'")
                    }
                    return .lost(k)
                }
            }
        }
        guard let h = header(b) else {
            throw CaptureError(line: n, "expected '<task>-<pid> [<cpu>] <flags> <counter>: <event>: …', got '\(ErrorToken.clipped(b.text(0..<b.count)))'")
        }
        return .event(try capture(b, h, line: n))
    }

    /// The fields every tracefs and `trace-cmd report` event line starts with.
    struct Header {
        /// The CPU, the timestamp as printed, the event's name and what follows its `: `.
        var cpu: Int, stamp: Substring, event: Substring, rest: Substring
    }

    /// Where a line's header fields are, as byte offsets.
    struct HeaderOffsets {
        var cpu: Int, stamp: Range<Int>, event: Range<Int>, rest: Int
    }

    /// The header of `line`, trying each `[` of the first 64 bytes as the CPU field (the task
    /// name before it may hold anything); nil when none fits.
    static func header(_ line: Substring) -> Header? {
        var copy = line
        guard let h = copy.withUTF8({ header(Bytes($0)) }) else { return nil }
        let u = line.utf8
        func at(_ i: Int) -> String.Index { u.index(u.startIndex, offsetBy: i) }
        return Header(
            cpu: h.cpu, stamp: line[at(h.stamp.lowerBound)..<at(h.stamp.upperBound)],
            event: line[at(h.event.lowerBound)..<at(h.event.upperBound)], rest: line[at(h.rest)...])
    }

    /// The header's offsets in `b` (see ``header(_:)-(Substring)``).
    static func header(_ b: Bytes) -> HeaderOffsets? {
        var search = 0
        while true {
            let open = b.first(0x5b, from: search)  // [
            guard open < b.count, open < 64 else { return nil }
            search = open + 1
            if let h = afterCPU(b, search) { return h }
        }
    }

    /// What follows a `[` at `s`: `<cpu>] [<flags>] <timestamp>: <event>: `, or nil.
    private static func afterCPU(_ b: Bytes, _ s: Int) -> HeaderOffsets? {
        let close = b.first(0x5d, from: s)  // ]
        guard close < b.count, close - s <= 7, let cpu = b.decimal(s..<close), cpu < 1 << 20 else { return nil }
        var rest = close + 1
        guard rest < b.count, b[rest] == 0x20 else { return nil }
        rest = b.skipSpaces(rest)
        func isStamp(_ r: Range<Int>) -> Bool { !r.isEmpty && r.allSatisfy { b[$0] == 0x2e || (b[$0] &- 0x30) < 10 } }
        var stamp = rest..<b.end(from: rest, stopAt: 0x3a, 0x20)
        if !(isStamp(stamp) && b.has(": ", at: stamp.upperBound)) {
            let flags = b.first(0x20, from: rest)  // irqs-off, need-resched, … (tracefs; not trace-cmd)
            guard (4...6).contains(flags - rest) else { return nil }
            rest = b.skipSpaces(flags)
            stamp = rest..<b.end(from: rest, stopAt: 0x3a, 0x20)
            guard isStamp(stamp) else { return nil }
        }
        guard b.has(": ", at: stamp.upperBound) else { return nil }
        let name = (stamp.upperBound + 2)..<b.end(from: stamp.upperBound + 2, stopAt: 0x3a, 0x20)
        guard !name.isEmpty, name.upperBound < b.count, b[name.upperBound] == 0x3a else { return nil }
        return HeaderOffsets(cpu: Int(cpu), stamp: stamp, event: name, rest: name.upperBound + 1)
    }

    /// A capture event from its header.
    private static func capture(_ b: Bytes, _ h: HeaderOffsets, line n: Int) throws(CaptureError) -> CapturedEvent {
        guard let counter = b.decimal(h.stamp) else {
            throw CaptureError(
                line: n, "timestamp '\(ErrorToken.clipped(b.text(h.stamp)))' is not the counter clock's integer (the capture sets trace_clock to counter)")
        }
        let name = b.text(h.event)
        guard let kind = kind(of: Substring(name)) else { throw CaptureError(line: n, "'\(ErrorToken.clipped(name))' is not an event of the capture") }
        var rest = b.skipSpaces(h.rest)
        if rest < b.count, b[rest] == 0x28 {  // (<site>)
            let end = b.first(0x29, from: rest)
            if end < b.count { rest = end + 1 }
        }
        var e = CapturedEvent(counter: counter, cpu: h.cpu, kind: kind)
        try fields(b, from: rest, into: &e, line: n)
        return e
    }

    /// The event kind of an event name (`map_unlock0`, `map_unlock1`, … are one kind).
    static func kind(of name: Substring) -> CapturedEvent.Kind? {
        switch name {
        case "map": return .map
        case "map_done": return .mapDone
        case "unmap": return .unmap
        case "sync_device": return .syncDevice
        case "sync_cpu": return .syncCPU
        default:
            if name.hasPrefix("map_unlock"), name.dropFirst(10).allSatisfy(\.isNumber), name.count > 10 { return .mapUnlock }
            if name.hasPrefix("unmap_unlock"), name.dropFirst(12).allSatisfy(\.isNumber), name.count > 12 { return .unmapUnlock }
            return nil
        }
    }

    /// The `key=value` fields from byte `from` on; `name="…"` runs to the line's last quote.
    private static func fields(_ b: Bytes, from: Int, into e: inout CapturedEvent, line n: Int) throws(CaptureError) {
        var rest = b.skipSpaces(from)
        while rest < b.count {
            let eq = b.first(0x3d, from: rest)  // =
            guard eq < b.count else { throw CaptureError(line: n, "expected key=value, got '\(ErrorToken.clipped(b.text(rest..<b.count)))'") }
            let key = b.text(rest..<eq)
            let after = eq + 1
            if key == "name" {
                let quoted = after..<b.count
                if quoted.count >= 2, b[after] == 0x22, b[b.count - 1] == 0x22 {
                    let name = b.text((after + 1)..<(b.count - 1))
                    guard name.utf8.count <= 64, !name.isEmpty else {
                        throw CaptureError(line: n, "a device name is 1 to 64 bytes, got '\(ErrorToken.clipped(b.text(quoted)))'")
                    }
                    e.deviceName = name
                } else if b.text(quoted) == "(fault)" {
                    e.deviceName = nil
                } else {
                    throw CaptureError(line: n, "name: expected a quoted device name, got '\(ErrorToken.clipped(b.text(quoted)))'")
                }
                return
            }
            let value = after..<b.first(0x20, from: after)
            rest = b.skipSpaces(value.upperBound)
            let v: UInt64
            if b.has("0x", at: value.lowerBound) {
                guard let x = b.hex((value.lowerBound + 2)..<value.upperBound) else {
                    throw CaptureError(line: n, "\(key): expected 0x and at most 16 hex digits, got '\(ErrorToken.clipped(b.text(value)))'")
                }
                v = x
            } else {
                guard let x = b.decimal(value) else {
                    throw CaptureError(line: n, "\(key): expected a decimal or 0x-hex number, got '\(ErrorToken.clipped(b.text(value)))'")
                }
                v = x
            }
            switch key {
            case "dev": e.device = v
            case "orig": e.original = PhysicalAddress(v)
            case "size": e.size = v
            case "alloc": e.alloc = v
            case "align": e.align = v
            case "dir": e.direction = v
            case "attrs": e.attributes = v
            case "parms": e.dmaParms = v
            case "min_align": e.minAlign = v
            case "seg": e.segmentBoundary = v
            case "pool": e.pool = v
            case "start": e.poolStart = PhysicalAddress(v)
            case "nslabs": e.poolNslabs = v
            case "nareas": e.poolAreas = v
            case "lock": e.lock = v
            case "used": e.areaUsed = v
            case "tlb": e.tlb = PhysicalAddress(v)
            default: throw CaptureError(line: n, "unknown field '\(ErrorToken.clipped(key))'")
            }
        }
    }
}
