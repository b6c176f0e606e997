/// The rules a trace obeys beyond each line's own (see `docs/trace-format.md`), kept in one
/// place for `swiotlb replay` and a scenario's `trace` stream: `pool` lines come before every
/// other op, at most two of them (the RFC's low and high pool), not overlapping and holding at
/// most ``IOTLB/maxModelSlots`` slots together; an id is mapped at most once at a time; only a
/// mapped id is unmapped or synced. `Value` is what a mapping carries: the replayer's bounce,
/// nothing for a scenario, whose maps run later.
struct TraceRules<Value> {
    /// The pools declared so far, as byte ranges.
    private(set) var pools: [Range<UInt64>] = []
    /// Their slots together.
    private(set) var totalSlots = 0
    /// Whether an op other than `pool` has been read.
    private(set) var opsBegan = false
    private var live = TraceIDTable<Value>()
    private var failed = TraceIDTable<Void>()

    /// The most `pool` lines a trace has.
    static var maxPools: Int { 2 }

    /// A `pool` line of `nslabs` slots at `start` (the line parser has checked that it fits
    /// below 2^64).
    mutating func pool(nslabs: Int, start: UInt64, line: Int) throws(TraceError) {
        guard !opsBegan else { throw TraceError(line: line, token: "pool", message: "pool lines must come before every other op") }
        guard pools.count < Self.maxPools else {
            throw TraceError(line: line, token: "pool", message: "a third pool (a trace has at most two: the RFC's low and high pool)")
        }
        let end = start &+ UInt64(nslabs) << UInt64(IOTLB.shift)
        for p in pools where start < p.upperBound && p.lowerBound < end {
            throw TraceError(line: line, token: "start=0x\(String(start, radix: 16))", message: "pool overlaps an earlier pool")
        }
        guard totalSlots + nslabs <= IOTLB.maxModelSlots else {
            throw TraceError(line: line, token: "nslabs=\(nslabs)",
                             message: "the pools would hold \(totalSlots + nslabs) slots; at most \(IOTLB.maxModelSlots) in all (64 GiB)")
        }
        pools.append(start..<end)
        totalSlots += nslabs
    }

    /// A `map` of `id`: refused while `id` is mapped. The probe places it with ``mapped(_:id:at:)``.
    mutating func map(_ id: TraceID, line: Int) throws(TraceError) -> TraceIDTable<Value>.Probe {
        opsBegan = true
        let slot = live.probe(id)
        guard !slot.found else { throw TraceError(line: line, token: Self.token(id), message: "duplicate id (still mapped)") }
        return slot
    }

    /// Records `id` as mapped, carrying `value`; `probe` is what ``map(_:line:)`` returned.
    mutating func mapped(_ value: Value, id: TraceID, at probe: TraceIDTable<Value>.Probe) {
        live.insert(value, for: id, at: probe)
        if failed.count > 0 { failed.remove(id) }
    }

    /// Records that the map of `id` failed (only a replay knows): its unmap is then refused as such.
    mutating func mapFailed(_ id: TraceID) { failed.set((), for: id) }

    /// An `unmap` of `id`: its value, which the rules forget.
    mutating func unmap(_ id: TraceID, line: Int) throws(TraceError) -> Value {
        opsBegan = true
        guard let v = live.remove(id) else { throw notMapped(id, line: line) }
        return v
    }

    /// A `sync` of `id`: its value.
    mutating func sync(_ id: TraceID, line: Int) throws(TraceError) -> Value {
        opsBegan = true
        guard let v = live.value(for: id) else { throw notMapped(id, line: line) }
        return v
    }

    /// `id=<ID>` for an error's token.
    static func token(_ id: TraceID) -> String { "id=" + String(decoding: id.bytes, as: UTF8.self) }

    private func notMapped(_ id: TraceID, line: Int) -> TraceError {
        if failed.contains(id) { return TraceError(line: line, token: Self.token(id), message: "id is not mapped (its map failed)") }
        return TraceError(line: line, token: Self.token(id), message: "unknown id")
    }
}

extension TraceRules: Sendable where Value: Sendable {}

/// Reads a trace for a model run (a scenario's `trace` stream): each line through the same
/// parser and ``TraceRules`` as `swiotlb replay`, so a trace one refuses the other refuses too.
public struct TraceReader: Sendable {
    private var rules = TraceRules<Void>()

    /// A reader at the start of a trace.
    public init() {}

    /// Reads one line (no newline); nil for a blank or comment line.
    public mutating func read(_ text: Substring, line: Int) throws(TraceError) -> TraceOp? {
        try TraceLine.withBytes(of: text) { b throws(TraceError) in try read(bytes: b, line: line) }
    }

    /// Reads one line given as UTF-8 bytes (no newline); nil for a blank or comment line.
    public mutating func read(bytes b: UnsafeBufferPointer<UInt8>, line: Int) throws(TraceError) -> TraceOp? {
        var p = TraceLineParser(bytes: b, line: line)
        guard let l = try p.parse() else { return nil }
        let id = TraceID(UnsafeBufferPointer(rebasing: b[l.id]))
        switch l.kind {
        case .pool: try rules.pool(nslabs: l.nslabs, start: l.start, line: line)
        case .map: rules.mapped((), id: id, at: try rules.map(id, line: line))
        case .unmap: try rules.unmap(id, line: line)
        case .sync: try rules.sync(id, line: line)
        }
        return TraceOp(l, of: b)
    }
}
