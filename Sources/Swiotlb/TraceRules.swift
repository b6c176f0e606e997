import XenMemory

/// The rules a trace obeys beyond each line's own (see `docs/trace-format.md`), kept in one
/// place for `swiotlb replay` and a scenario's `trace` stream: `pool` lines come before every
/// other op, at most two of them (the RFC's low and high pool), not overlapping and holding at
/// most ``IOTLB/maxModelSlots`` slots together; an id is mapped at most once at a time; only a
/// mapped id is unmapped or synced. `Value` is what a mapping carries: the replayer's bounce,
/// nothing for a scenario, whose maps run later. `Kernel` says how many pools a trace has and
/// whether an unmap or sync of an id whose map failed in this replay is skipped (a captured
/// trace replayed on a smaller pool) instead of refused.
struct TraceRules<Kernel: SwiotlbKernelModel, Value> {
    /// The pools declared so far, as byte ranges.
    private(set) var pools: [Range<UInt64>] = []
    /// Their slots together.
    private(set) var totalSlots = 0
    /// Whether an op other than `pool` has been read.
    private(set) var opsBegan = false
    private var live = TraceIDTable<Value>()
    private var failed = TraceIDTable<Void>()

    /// Rules at the start of a trace.
    init() {}

    /// What an unmap or sync finds for an id: its value, or that its map failed in this replay
    /// (only where ``SwiotlbKernelModel/skipsOpsOfFailedMaps``; the others refuse it).
    enum Held {
        /// A mapped id's value.
        case mapped(Value)
        /// The id's last map failed: the op is skipped.
        case mapFailed
    }

    /// A `pool` line of `nslabs` slots at `start` (the line parser has checked that it fits
    /// below 2^64).
    mutating func pool(nslabs: Int, start: UInt64, line: Int) throws(TraceError) {
        guard !opsBegan else { throw TraceError(line: line, token: "pool", message: "pool lines must come before every other op") }
        guard pools.count < Kernel.maxTracePools else {
            throw TraceError(line: line, token: "pool", message: Kernel.extraTracePoolRefusal)
        }
        let end = start &+ UInt64(nslabs) << UInt64(IOTLB.shift)
        for p in pools where start < p.upperBound && p.lowerBound < end {
            throw TraceError(line: line, token: "start=\(Hex.plain(start))", message: "pool overlaps an earlier pool")
        }
        guard totalSlots + nslabs <= IOTLB.maxModelSlots else {
            throw TraceError(
                line: line, token: "nslabs=\(nslabs)",
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

    /// An `unmap` of `id`: its value, which the rules forget (a failed map is forgotten too:
    /// a second unmap of it is refused).
    mutating func unmap(_ id: TraceID, line: Int) throws(TraceError) -> Held {
        opsBegan = true
        if let v = live.remove(id) { return .mapped(v) }
        if skipsFailedMaps && failed.count > 0 && failed.remove(id) != nil { return .mapFailed }
        throw notMapped(id, line: line)
    }

    /// A `sync` of `id`: its value.
    mutating func sync(_ id: TraceID, line: Int) throws(TraceError) -> Held {
        opsBegan = true
        if let v = live.value(for: id) { return .mapped(v) }
        if skipsFailedMaps && failed.count > 0 && failed.contains(id) { return .mapFailed }
        throw notMapped(id, line: line)
    }

    /// Whether an unmap or sync of a failed map is skipped rather than refused.
    private var skipsFailedMaps: Bool { Kernel.skipsOpsOfFailedMaps }

    /// `id=<ID>` for an error's token.
    static func token(_ id: TraceID) -> String { traceIDToken(id) }

    private func notMapped(_ id: TraceID, line: Int) -> TraceError {
        if failed.contains(id) { return TraceError(line: line, token: Self.token(id), message: "id is not mapped (its map failed)") }
        return TraceError(line: line, token: Self.token(id), message: "unknown id")
    }
}

extension TraceRules: Sendable where Value: Sendable {}

/// `id=<ID>` for an error's token.
func traceIDToken(_ id: TraceID) -> String { "id=" + String(decoding: id.bytes, as: UTF8.self) }

/// Reads a trace for a model run (a scenario's `trace` stream): each line through the same
/// parser and ``TraceRules`` as `swiotlb replay` for the scenario's kernel, so a trace one
/// refuses the other refuses too.
public struct TraceReader: Sendable {
    private var reader: any TraceOpReading

    /// A reader at the start of a trace read with `kernel`'s rules.
    public init(kernel: SwiotlbKernel = .default) {
        func make<K: SwiotlbKernelModel>(_: K.Type) -> any TraceOpReading { KernelTraceReader<K>() }
        reader = make(kernel.model)
    }

    /// Reads one line (no newline); nil for a blank or comment line.
    public mutating func read(_ text: Substring, line: Int) throws(TraceError) -> TraceOp? {
        try TraceLine.withBytes(of: text) { b throws(TraceError) in try read(bytes: b, line: line) }
    }

    /// Reads one line given as UTF-8 bytes (no newline); nil for a blank or comment line.
    public mutating func read(bytes b: UnsafeBufferPointer<UInt8>, line: Int) throws(TraceError) -> TraceOp? {
        try reader.read(bytes: b, line: line)
    }
}

/// A ``TraceReader`` for one kernel type.
protocol TraceOpReading: Sendable {
    mutating func read(bytes b: UnsafeBufferPointer<UInt8>, line: Int) throws(TraceError) -> TraceOp?
}

/// ``TraceReader``'s work for `Kernel`.
struct KernelTraceReader<Kernel: SwiotlbKernelModel>: TraceOpReading {
    private var rules = TraceRules<Kernel, Void>()

    mutating func read(bytes b: UnsafeBufferPointer<UInt8>, line: Int) throws(TraceError) -> TraceOp? {
        var p = TraceLineParser<Kernel>(bytes: b, line: line)
        var l = TraceLine(kind: .map)
        guard try p.parse(into: &l) else { return nil }
        let id = TraceID(UnsafeBufferPointer(rebasing: b[l.id]))
        switch l.kind {
        case .pool: try rules.pool(nslabs: l.nslabs, start: l.start, line: line)
        case .map: rules.mapped((), id: id, at: try rules.map(id, line: line))
        case .unmap: _ = try rules.unmap(id, line: line)
        case .sync: _ = try rules.sync(id, line: line)
        }
        return TraceOp(l, of: b)
    }
}
