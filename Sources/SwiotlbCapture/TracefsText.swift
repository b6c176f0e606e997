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
        let trimmed = line.drop { $0 == " " }
        if trimmed.isEmpty || trimmed.hasPrefix("#") { return }
        if trimmed.hasPrefix("CPU:"), let lost = trimmed.firstRange(of: " [LOST "), let end = trimmed[lost.upperBound...].firstRange(of: " EVENTS]") {
            guard let k = UInt64(trimmed[lost.upperBound..<end.lowerBound]) else { throw CaptureError(line: n, "expected 'CPU:<n> [LOST <count> EVENTS]', got '\(Self.clip(line))'") }
            lostEvents = lostEvents.addingReportingOverflow(k).partialValue
            return
        }
        guard events.count < Self.maxEvents else { throw CaptureError(line: n, "more than \(Self.maxEvents) events: record a shorter capture (--seconds)") }
        events.append(try Self.event(line, line: n))
    }

    /// `line` shortened to 80 characters for a message.
    static func clip(_ line: Substring) -> String {
        let s = line.unicodeScalars.prefix(80).map { $0.value < 0x20 || $0.value == 0x7f ? "?" : String($0) }.joined()
        return line.unicodeScalars.count > 80 ? s + "…" : s
    }

    /// One event line. The task name (at most 15 bytes, any bytes) comes first, so the
    /// `[<cpu>]` field is found by trying each `[` until the rest parses.
    static func event(_ line: Substring, line n: Int) throws(CaptureError) -> CapturedEvent {
        if let h = header(line) { return try capture(h, line: n) }
        throw CaptureError(line: n, "expected '<task>-<pid> [<cpu>] <flags> <counter>: <event>: …', got '\(clip(line))'")
    }

    /// The fields every tracefs and `trace-cmd report` event line starts with.
    struct Header {
        /// The CPU, the timestamp as printed, the event's name and what follows its `: `.
        var cpu: Int, stamp: Substring, event: Substring, rest: Substring
    }

    /// The header of `line`, trying each `[` of the first 64 bytes as the CPU field (the task
    /// name before it may hold anything); nil when none fits.
    static func header(_ line: Substring) -> Header? {
        var search = line.startIndex
        while let open = line[search...].firstIndex(of: "["), line.distance(from: line.startIndex, to: open) < 64 {
            search = line.index(after: open)
            if let h = afterCPU(line[search...]) { return h }
        }
        return nil
    }

    /// What follows a `[`: `<cpu>] [<flags>] <timestamp>: <event>: `, or nil.
    private static func afterCPU(_ s: Substring) -> Header? {
        guard let close = s.firstIndex(of: "]"), let cpu = Int(s[..<close]), cpu >= 0, cpu < 1 << 20 else { return nil }
        var rest = s[s.index(after: close)...]
        guard rest.first == " " else { return nil }
        rest = rest.drop { $0 == " " }
        func isStamp(_ t: Substring) -> Bool { !t.isEmpty && t.allSatisfy { $0 == "." || $0.isASCII && $0.isNumber } }
        var stamp = rest.prefix { $0 != ":" && $0 != " " }
        if !(isStamp(stamp) && rest[stamp.endIndex...].hasPrefix(": ")) {
            let flags = rest.prefix { $0 != " " }     // irqs-off, need-resched, … (tracefs; not trace-cmd)
            guard (4...6).contains(flags.count) else { return nil }
            rest = rest[flags.endIndex...].drop { $0 == " " }
            stamp = rest.prefix { $0 != ":" && $0 != " " }
            guard isStamp(stamp) else { return nil }
        }
        rest = rest[stamp.endIndex...]
        guard rest.hasPrefix(": ") else { return nil }
        rest = rest.dropFirst(2)
        let name = rest.prefix { $0 != ":" && $0 != " " }
        guard !name.isEmpty, rest[name.endIndex...].hasPrefix(":") else { return nil }
        return Header(cpu: cpu, stamp: stamp, event: name, rest: rest[name.endIndex...].dropFirst())
    }

    /// A capture event from its header.
    private static func capture(_ h: Header, line n: Int) throws(CaptureError) -> CapturedEvent {
        guard let counter = UInt64(h.stamp) else {
            throw CaptureError(line: n, "timestamp '\(h.stamp.prefix(24))' is not the counter clock's integer (the capture sets trace_clock to counter)")
        }
        let name = h.event
        var rest = h.rest.drop { $0 == " " }
        let cpu = h.cpu
        guard let kind = kind(of: name) else { throw CaptureError(line: n, "'\(name.prefix(40))' is not an event of the capture") }
        if rest.first == "(", let end = rest.firstIndex(of: ")") { rest = rest[rest.index(after: end)...] }
        var e = CapturedEvent(counter: counter, cpu: cpu, kind: kind)
        try fields(rest, into: &e, line: n)
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

    /// The `key=value` fields; `name="…"` runs to the line's last quote.
    private static func fields(_ text: Substring, into e: inout CapturedEvent, line n: Int) throws(CaptureError) {
        var rest = text.drop { $0 == " " }
        while !rest.isEmpty {
            guard let eq = rest.firstIndex(of: "=") else { throw CaptureError(line: n, "expected key=value, got '\(clip(rest))'") }
            let key = rest[..<eq]
            var after = rest[rest.index(after: eq)...]
            if key == "name" {
                if after.hasPrefix("\""), after.count >= 2, after.hasSuffix("\"") {
                    e.deviceName = String(after.dropFirst().dropLast())
                    guard e.deviceName!.utf8.count <= 64, !e.deviceName!.isEmpty else { throw CaptureError(line: n, "a device name is 1 to 64 bytes, got '\(clip(after))'") }
                } else if after == "(fault)" {
                    e.deviceName = nil
                } else {
                    throw CaptureError(line: n, "name: expected a quoted device name, got '\(clip(after))'")
                }
                return
            }
            let value = after.prefix { $0 != " " }
            after = after[value.endIndex...].drop { $0 == " " }
            let v: UInt64
            if value.hasPrefix("0x") {
                guard value.count > 2, value.count <= 18, let x = UInt64(value.dropFirst(2), radix: 16) else { throw CaptureError(line: n, "\(key): expected 0x and at most 16 hex digits, got '\(value.prefix(40))'") }
                v = x
            } else {
                guard let x = UInt64(value) else { throw CaptureError(line: n, "\(key): expected a decimal or 0x-hex number, got '\(value.prefix(40))'") }
                v = x
            }
            switch key {
            case "dev": e.device = v
            case "orig": e.original = v
            case "size": e.size = v
            case "alloc": e.alloc = v
            case "align": e.align = v
            case "dir": e.direction = v
            case "attrs": e.attributes = v
            case "parms": e.dmaParms = v
            case "min_align": e.minAlign = v
            case "seg": e.segmentBoundary = v
            case "pool": e.pool = v
            case "start": e.poolStart = v
            case "nslabs": e.poolNslabs = v
            case "nareas": e.poolAreas = v
            case "lock": e.lock = v
            case "used": e.areaUsed = v
            case "tlb": e.tlb = v
            default: throw CaptureError(line: n, "unknown field '\(key.prefix(40))'")
            }
            rest = after
        }
    }
}
