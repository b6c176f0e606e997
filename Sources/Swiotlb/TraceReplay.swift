import XenMemory

/// A malformed or impossible trace: where, and what.
public struct TraceError: Error, Sendable, Hashable, CustomStringConvertible {
    /// 1-based line number; nil when the trace as a whole is at fault (no pool line).
    public var line: Int?
    /// The token (or op) at fault, at most ``ErrorToken/maxBytes`` bytes of it.
    public var token: String
    /// What was expected.
    public var message: String
    /// Whether the trace is well formed but the kernel would never return from the op at
    /// `line` (Linux 6.1.192's looping slot search); `swiotlb replay` exits with
    /// ``kernelHangExitStatus`` then.
    public var isKernelHang = false
    /// Whether the trace is well formed but the kernel would `BUG()` at the op at `line` (a sync
    /// against its direction, a segment boundary that is not 2^n − 1, a zero-size mapping, an
    /// address in no pool); `swiotlb replay` exits with ``kernelBugExitStatus`` then.
    public var isKernelBug = false

    /// The exit status of a replay refused for its input (a malformed or impossible trace).
    public static let inputErrorExitStatus: Int32 = 1
    /// The exit status of a replay that stops at a kernel hang (the kernel-vectors harness's).
    public static let kernelHangExitStatus: Int32 = 3
    /// The exit status of a replay that stops where the kernel would `BUG()` (the harness's).
    public static let kernelBugExitStatus: Int32 = 4

    /// The exit status `swiotlb replay` ends with after this error.
    public var exitStatus: Int32 {
        isKernelHang ? Self.kernelHangExitStatus : (isKernelBug ? Self.kernelBugExitStatus : Self.inputErrorExitStatus)
    }

    /// An error at `line` (nil: the whole trace) about `token`, which is clipped to what a
    /// message may quote.
    init(line: Int?, token: String, message: String) {
        self.line = line
        self.token = ErrorToken.clipped(token)
        self.message = message
    }

    /// The stop at the op of `id` at `line` where the kernel would `BUG()`.
    static func kernelBug(_ bug: SwiotlbBug, id: TraceID, line: Int) -> TraceError {
        var e = TraceError(line: line, token: traceIDToken(id), message: bug.description)
        e.isKernelBug = true
        return e
    }

    /// The stop at a map at `line` that Linux 6.1.192 would never return from.
    static func kernelHang(line: Int) -> TraceError {
        var e = TraceError(line: line, token: "", message: "Linux 6.1.192 would never return from this map (its slot search loops with the area lock held)")
        e.isKernelHang = true
        return e
    }

    /// `line N: <message>: '<token>'` (a hang: `line N: <message>`).
    public var description: String {
        guard let line else { return message }
        return isKernelHang ? "line \(line): \(message)" : "line \(line): \(message): '\(token)'"
    }

    /// The one line that reports the error in the trace named `file`:
    /// `<file>:<line>: <message>: '<token>'` (a hang: `<file>:<line>: <message>`), or
    /// `<file>: <message>` for the whole trace.
    public func report(file: String) -> String {
        guard let line else { return "\(file): \(message)" }
        return isKernelHang ? "\(file):\(line): \(message)" : "\(file):\(line): \(message): '\(token)'"
    }
}

/// One parsed line of a swiotlb trace (see `docs/trace-format.md`).
public enum TraceOp: Sendable, Hashable {
    /// `pool nslabs=<N> start=<0xHEX> [areas=<A>] [name=<word>]` (`nslabs` and `areas` after
    /// the kernel's set-up).
    case pool(nslabs: Int, start: PhysicalAddress, areas: Int, name: String?)
    /// `map …`: every field the line gives.
    case map(TraceMap)
    /// `unmap id=…`.
    case unmap(id: String)
    /// `sync id=… target=cpu|device`.
    case sync(id: String, target: SyncTarget)

    /// The op of a parsed line whose bytes are `b`.
    init(_ l: TraceLine, of b: UnsafeBufferPointer<UInt8>) {
        func text(_ r: Range<Int>) -> String { TraceLine.text(r, of: b) }
        switch l.kind {
        case .pool: self = .pool(nslabs: l.nslabs, start: PhysicalAddress(l.start), areas: l.areas, name: l.name.map(text))
        case .map:
            self = .map(
                TraceMap(
                    id: text(l.id), original: PhysicalAddress(l.original), size: l.size, alloc: l.alloc, direction: l.direction,
                    attributes: l.attributes, segmentMask: l.segmentMask, dmaMask: l.dmaMask,
                    minAlign: l.hasMinAlign ? l.minAlign : nil, alignMask: l.alignMask,
                    cpu: l.hasCPU ? l.cpu : nil, device: l.device.map(text), driver: l.driver.map(text),
                    kernelTLB: l.kernelTLB.map(PhysicalAddress.init(rawValue:))))
        case .unmap: self = .unmap(id: text(l.id))
        case .sync: self = .sync(id: text(l.id), target: l.target)
        }
    }
}

/// A trace's `map` line: `map id=… orig=… size=… [alloc=…] dir=… [attrs=…] [seg_mask=…]
/// [dma_mask=…] [min_align=…] [align=…] [cpu=…] [dev=…] [driver=…] [kernel_tlb=…]` (docs/trace-format.md).
/// The optional v2 fields are nil when the line does not give them, so a model run can tell
/// "not given" (its stream's device and CPU decide) from a value.
public struct TraceMap: Sendable, Hashable {
    /// `id=`.
    public var id: String
    /// `orig=`.
    public var original: PhysicalAddress
    /// `size=`: the mapping size.
    public var size: Int
    /// `alloc=` (`size` when absent).
    public var alloc: Int
    /// `dir=`.
    public var direction: DMADirection
    /// `attrs=`.
    public var attributes: DMAAttributes
    /// `seg_mask=` (all ones when absent).
    public var segmentMask: UInt64
    /// `dma_mask=` (all ones when absent).
    public var dmaMask: UInt64
    /// `min_align=`: the device's `dma_get_min_align_mask()`.
    public var minAlign: UInt64?
    /// `align=`: the `alloc_align_mask` argument (0 when absent).
    public var alignMask: UInt64
    /// `cpu=`: the processor the map runs on.
    public var cpu: Int?
    /// `dev=`: the device's name.
    public var device: String?
    /// `driver=`: the device's driver (`dev_driver_string`).
    public var driver: String?
    /// `kernel_tlb=`: the address a live kernel returned.
    public var kernelTLB: PhysicalAddress?

    /// A map line's fields.
    public init(
        id: String, original: PhysicalAddress, size: Int, alloc: Int? = nil, direction: DMADirection,
        attributes: DMAAttributes = [], segmentMask: UInt64 = .max, dmaMask: UInt64 = .max,
        minAlign: UInt64? = nil, alignMask: UInt64 = 0, cpu: Int? = nil, device: String? = nil, driver: String? = nil,
        kernelTLB: PhysicalAddress? = nil
    ) {
        self.id = id; self.original = original; self.size = size; self.alloc = alloc ?? size; self.direction = direction
        self.attributes = attributes; self.segmentMask = segmentMask; self.dmaMask = dmaMask; self.minAlign = minAlign
        self.alignMask = alignMask; self.cpu = cpu; self.device = device; self.driver = driver; self.kernelTLB = kernelTLB
    }
}

/// What one replayed map or unmap did, for a caller that watches the replay (diagnosis) rather
/// than reading its result lines.
public enum ReplayEvent: Sendable, Hashable {
    /// A map of `id` by `device` (the trace's `dev=`) of `size` bytes: the pool it went to and
    /// the slots it needed (``SwiotlbKernelModel/slotsNeeded(allocSize:original:minAlignMask:)``);
    /// `failed` when the kernel found no free run ("buffer is full") or refused the sizes.
    case map(id: String, device: String?, size: Int, minAlignMask: UInt64, pool: Int, neededSlots: Int, failed: Bool)
    /// An unmap of `id` (also one skipped because its map failed).
    case unmap(id: String)
}

/// Replays a swiotlb trace (see `docs/trace-format.md`) against the model, one line at a time,
/// producing the result lines of the stable replay interface.
///
/// The work is done by a ``KernelTraceReplayer`` for the kernel's type, so the parser, the
/// rules and the kernel's map and unmap are specialised for it; this holds it and is the one
/// place a line crosses from the chosen kernel to its type.
///
/// A replayer holds its state by reference: a copy of it replays on with the same state.
public struct TraceReplayer: Sendable {
    private let engine: TraceReplayEngine

    /// A replayer for `kernel`'s semantics. A trace carries no data, so bounces are only
    /// counted unless `movesBytes` copies them through scratch memory as the kernel would.
    public init(kernel: SwiotlbKernel = .default, movesBytes: Bool = false) {
        engine = kernel.model.traceReplayEngine(movesBytes: movesBytes)
    }

    /// The TLB built from the trace's `pool` lines (nil until the first op).
    public var tlb: SoftwareIOTLB? { engine.state.tlb }

    /// Whether each map and unmap is also recorded in ``lastEvent`` (off by default: it costs a
    /// string per op).
    public var recordsEvents: Bool {
        get { engine.state.recordsEvents }
        set { engine.state.recordsEvents = newValue }
    }
    /// The map or unmap of the last line fed, when ``recordsEvents`` is on (nil after other lines).
    public var lastEvent: ReplayEvent? { engine.state.lastEvent }

    /// Feeds one line; returns the result lines it produces.
    public mutating func feed(_ text: Substring, line: Int) throws(TraceError) -> [String] {
        var out = ReplayOutput(capacity: 256)
        try TraceLine.withBytes(of: text) { b throws(TraceError) in try feed(bytes: b, line: line, into: &out) }
        return out.lines
    }

    /// Feeds one line given as UTF-8 bytes (no newline): a map or unmap appends its result line
    /// to `out` (a kernel that skips the ops of failed maps: also a skipped sync). A map the
    /// kernel would never return from appends `map id=<ID> hang area=<A>` and throws a
    /// ``TraceError`` whose ``TraceError/isKernelHang`` is set.
    @inline(__always)
    public mutating func feed(bytes: UnsafeBufferPointer<UInt8>, line: Int, into out: inout ReplayOutput) throws(TraceError) {
        try engine.feed(bytes, line, &out)
    }

    /// Turns on dynamic pools (6.18's `CONFIG_SWIOTLB_DYNAMIC`, `can_grow`) before the first
    /// line: new pools — the worker's, of at most 2048 slots under `limit` (its `phys_limit`),
    /// and transient ones under the device's mask — come from `memory` as ``DynamicPoolMemory``
    /// hands it out, which must not overlap the trace's pools. Refused (nothing changes) by a
    /// kernel without them or once the pools are built.
    public mutating func growPools(from memory: Range<PhysicalAddress>, limit: PhysicalAddress) throws(TraceError) {
        try engine.state.growPools(from: memory.raw, limit: limit)
    }

    /// Bytes the replayed bounces would move (they move only with `movesBytes`).
    public var bytesBounced: UInt64 { engine.state.tlb?.bytesBounced ?? 0 }

    /// The closing lines: the kernel's (``SwiotlbKernelModel/closingLines(_:)``), then the
    /// FNV-1a checksum of the first pool's free-run list. A trace without a pool line (an
    /// empty one among them) is an error of the whole trace.
    public mutating func finish() throws(TraceError) -> [String] { try engine.state.finish() }

    /// 64-bit FNV-1a over each entry as 4 little-endian bytes, in slot order.
    public static func checksum(_ list: some Sequence<UInt32>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for v in list {
            for shift in stride(from: 0, to: 32, by: 8) {
                h ^= UInt64((v >> UInt32(shift)) & 0xff)
                h &*= 0x0000_0100_0000_01b3
            }
        }
        return h
    }

    /// Kernel messages produced since the last call.
    public mutating func takeMessages() -> [KernelMessage] { engine.state.takeMessages() }
}

/// The replay of a trace under one kernel type (``SwiotlbKernelModel/traceReplayEngine(movesBytes:)``):
/// the per-line call is a closure made where the type is known, so the whole line's work — the
/// parser, the rules, the kernel's map and unmap — is compiled for that kernel.
public struct TraceReplayEngine: Sendable {
    /// The state, for the calls made once per run.
    let state: any TraceReplayState
    /// One line: ``KernelTraceReplayer/feed(bytes:line:into:)`` of the kernel's replayer.
    let feed: @Sendable (UnsafeBufferPointer<UInt8>, Int, inout ReplayOutput) throws(TraceError) -> Void

    /// The engine of a fresh replay under `Kernel` (call it with the concrete kernel type, as
    /// each kernel's ``SwiotlbKernelModel/traceReplayEngine(movesBytes:)`` does, so that it is
    /// specialised for it).
    public static func make<Kernel: SwiotlbKernelModel>(_: Kernel.Type, movesBytes: Bool) -> TraceReplayEngine {
        let box = KernelTraceReplayBox(KernelTraceReplayer<Kernel>(movesBytes: movesBytes))
        return TraceReplayEngine(
            state: box,
            feed: { b, line, out throws(TraceError) in
                try box.replayer.feed(bytes: b, line: line, into: &out)
            })
    }
}

/// What a replay is asked once per run, whatever its kernel.
protocol TraceReplayState: AnyObject, Sendable {
    var tlb: SoftwareIOTLB? { get }
    var recordsEvents: Bool { get set }
    var lastEvent: ReplayEvent? { get }
    func finish() throws(TraceError) -> [String]
    func takeMessages() -> [KernelMessage]
    func growPools(from memory: Range<UInt64>, limit: PhysicalAddress) throws(TraceError)
}

/// A kernel's replayer, held by reference so the engine's closure and the once-per-run calls
/// share it. A replay runs on one thread at a time (``TraceReplayer`` is used by one caller).
final class KernelTraceReplayBox<Kernel: SwiotlbKernelModel>: TraceReplayState, @unchecked Sendable {
    @exclusivity(unchecked) var replayer: KernelTraceReplayer<Kernel>
    init(_ r: KernelTraceReplayer<Kernel>) { replayer = r }
    var tlb: SoftwareIOTLB? { replayer.tlb }
    var recordsEvents: Bool {
        get { replayer.recordsEvents }
        set { replayer.recordsEvents = newValue }
    }
    var lastEvent: ReplayEvent? { replayer.lastEvent }
    func finish() throws(TraceError) -> [String] { try replayer.finish() }
    func takeMessages() -> [KernelMessage] { replayer.takeMessages() }
    func growPools(from memory: Range<UInt64>, limit: PhysicalAddress) throws(TraceError) {
        try replayer.growPools(from: memory, limit: limit)
    }
}

/// The replay of a trace under `Kernel`: its parser, rules and operations called directly.
struct KernelTraceReplayer<Kernel: SwiotlbKernelModel> {
    /// A live mapping: what its unmap and syncs need (`minAlign`: the device's, for 6.1's offset).
    struct Live {
        var address: PhysicalAddress; var size: Int32; var alloc: Int32; var minAlign: UInt32
        var direction: DMADirection; var attributes: DMAAttributes
    }

    /// The TLB built from the trace's `pool` lines (nil until the first op).
    var tlb: SoftwareIOTLB? { isBuilt ? live : nil }
    /// The TLB the ops run on: without pools until ``isBuilt``. Held without an optional
    /// around it so that an op reads it in place (a force-unwrapped optional copied the whole
    /// TLB, retaining each of its arrays, at every read).
    private var live = SoftwareIOTLB(kernel: SwiotlbKernel(Kernel.self), pools: [])
    /// Whether ``live`` holds the trace's pools.
    private var isBuilt = false
    /// The pools declared, built (with their slot tables) only at the first op, so a trace
    /// whose later pool line is refused has allocated nothing.
    private var pendingPools: [(name: String?, start: PhysicalAddress, nslabs: Int, areas: Int)] = []
    private var rules = TraceRules<Kernel, Live>()
    private let movesBytes: Bool
    /// The memory dynamic pools come from and the worker's limit (nil: no dynamic pools).
    private var growthMemory: (Range<UInt64>, PhysicalAddress)?
    /// See ``TraceReplayer/recordsEvents``.
    var recordsEvents = false
    /// See ``TraceReplayer/lastEvent``.
    private(set) var lastEvent: ReplayEvent?

    init(movesBytes: Bool) { self.movesBytes = movesBytes }

    @inline(__always)
    mutating func feed(bytes: UnsafeBufferPointer<UInt8>, line: Int, into out: inout ReplayOutput) throws(TraceError) {
        var parser = TraceLineParser<Kernel>(bytes: bytes, line: line)
        var l = TraceLine(kind: .map)
        guard try parser.parse(into: &l) else { return }
        let id = TraceID(UnsafeBufferPointer(rebasing: bytes[l.id]))
        if recordsEvents { lastEvent = nil }
        switch l.kind {
        case .pool:
            try addPool(l, name: l.name.map { TraceLine.text($0, of: bytes) }, line: line)
        case .map:
            // Built in the argument: a device held in a local first is copied into the call.
            try map(
                l, id: id,
                device: DMADevice(
                    name: l.device.map { TraceLine.text($0, of: bytes) }, dmaMask: l.dmaMask, segmentBoundaryMask: l.segmentMask,
                    minAlignMask: l.minAlign, driver: l.driver.map { TraceLine.text($0, of: bytes) }),
                line: line, into: &out)
        case .unmap: try unmap(id, line: line, into: &out)
        case .sync: try sync(id, target: l.target, line: line, into: &out)
        }
    }

    mutating func finish() throws(TraceError) -> [String] {
        guard ensureTLB() else {
            throw TraceError(line: nil, token: "", message: "no pool line (a trace starts with at least one)")
        }
        return Kernel.closingLines(live) + ["checksum list=\(Hex.plain(TraceReplayer.checksum(live.pools[0].list)))"]
    }

    mutating func takeMessages() -> [KernelMessage] {
        guard !live.messages.isEmpty else { return [] }
        return live.takeMessages()
    }

    // MARK: Ops

    private mutating func addPool(_ l: TraceLine, name: String?, line: Int) throws(TraceError) {
        try rules.pool(nslabs: l.nslabs, start: l.start, line: line)
        if let (memory, _) = growthMemory, l.start < memory.upperBound, memory.lowerBound < l.start &+ UInt64(l.nslabs) << UInt64(IOTLB.shift) {
            throw TraceError(line: line, token: "start=\(Hex.plain(l.start))", message: "pool overlaps the memory of dynamic pools")
        }
        pendingPools.append((name, PhysicalAddress(l.start), l.nslabs, l.areas))
    }

    /// See ``TraceReplayer/growPools(from:limit:)``.
    mutating func growPools(from memory: Range<UInt64>, limit: PhysicalAddress) throws(TraceError) {
        let token = "\(Hex.plain(memory.lowerBound))-\(Hex.plain(memory.upperBound))"
        guard Kernel.traceFields.contains(.dynamicPools) else {
            throw TraceError(
                line: nil, token: token, message: "kernel \(Kernel.name) has no dynamic pools (only Linux 6.18's CONFIG_SWIOTLB_DYNAMIC is modelled)")
        }
        guard !isBuilt else { throw TraceError(line: nil, token: token, message: "dynamic pools are turned on before the first op") }
        guard !memory.isEmpty, memory.lowerBound % 4096 == 0, memory.upperBound % 4096 == 0 else {
            throw TraceError(line: nil, token: token, message: "the memory of dynamic pools must be a non-empty page-aligned range")
        }
        growthMemory = (memory, limit)
    }

    /// Builds the TLB from the pool lines at the first other op (``buildTLB()``); false when
    /// there were none. Inlined: after the first op it is one test.
    @inline(__always)
    private mutating func ensureTLB() -> Bool { isBuilt || buildTLB() }

    /// Builds the TLB from the pool lines, naming them as the kernel does; false when there
    /// were none.
    private mutating func buildTLB() -> Bool {
        if !pendingPools.isEmpty {
            let n = pendingPools.count
            let pools = pendingPools.enumerated().map { i, p in
                SlotPool(name: Kernel.poolName(index: i, of: n, declared: p.name), start: p.start, nslabs: p.nslabs, areas: p.areas)
            }
            var t = SoftwareIOTLB(kernel: SwiotlbKernel(Kernel.self), pools: pools)
            t.copiesData = movesBytes
            if let (memory, limit) = growthMemory {
                t.growth = PoolGrowth(
                    canGrow: true, physLimit: limit, defaultNslabs: pools[0].nslabs,
                    defaultAreas: pools[0].areas.count, memory: DynamicPoolMemory(Range(raw: memory)))
            }
            live = t
            isBuilt = true
        }
        return isBuilt
    }

    /// The map of line `l` by `device` (the line's `dev=`, `driver=` and masks), which it takes
    /// over: moved into the request, it is neither copied nor retained again.
    private mutating func map(_ l: TraceLine, id: TraceID, device: consuming DMADevice, line: Int, into out: inout ReplayOutput) throws(TraceError) {
        guard ensureTLB() else { throw TraceError(line: line, token: "map", message: "a pool line must come first") }
        let slot = try rules.map(id, line: line)
        if recordsEvents {
            lastEvent = .map(
                id: String(decoding: id.bytes, as: UTF8.self), device: device.name, size: l.size, minAlignMask: l.minAlign,
                pool: live.poolIndex(for: device),
                neededSlots: Kernel.slotsNeeded(allocSize: l.alloc, original: PhysicalAddress(l.original), minAlignMask: l.minAlign), failed: false)
        }
        let request = MapRequest(
            device: consume device, original: PhysicalAddress(l.original), mappingSize: l.size, allocSize: l.alloc,
            direction: l.direction, attributes: l.attributes, alignMask: l.alignMask, cpu: l.cpu)
        let result: Result<BounceMapping, SwiotlbMapError>
        do {
            result = try Kernel.mapSingle(&live, request)
        } catch SwiotlbBug.searchNeverEnds(let area, device: _) {
            out.appendLine(maxLength: id.bytes.count + 64) { w in
                w.literal("map id="); w.bytes(id.bytes); w.literal(" hang area="); w.decimal(area)
            }
            throw TraceError.kernelHang(line: line)
        } catch {
            throw TraceError.kernelBug(error, id: id, line: line)
        }
        switch result {
        case .success(let m):
            rules.mapped(
                Live(
                    address: m.address, size: Int32(l.size), alloc: Int32(l.alloc), minAlign: UInt32(l.minAlign),
                    direction: l.direction, attributes: l.attributes), id: id, at: slot)
            let used = live.usedSlots(reportedFor: live.homePool(of: m.pool))
            out.appendLine(maxLength: id.bytes.count + 64) { w in
                w.literal("map id="); w.bytes(id.bytes); w.literal(" tlb=0x"); w.hex(m.address.rawValue)
                w.literal(" used="); w.decimal(used)
            }
        case .failure(.full):
            rules.mapFailed(id)
            markLastMapFailed()
            let used = live.usedSlots(reportedFor: live.poolIndex(for: request.device))
            out.appendLine(maxLength: id.bytes.count + 64) { w in
                w.literal("map id="); w.bytes(id.bytes); w.literal(" error=full used="); w.decimal(used)
            }
        case .failure(.invalidSize):
            rules.mapFailed(id)
            markLastMapFailed()
            out.appendLine(maxLength: id.bytes.count + 64) { w in
                w.literal("map id="); w.bytes(id.bytes); w.literal(" error=invalid-size")
            }
        }
    }

    /// Records that the map in ``lastEvent`` failed.
    private mutating func markLastMapFailed() {
        guard case .map(let id, let device, let size, let mask, let pool, let needed, _) = lastEvent else { return }
        lastEvent = .map(id: id, device: device, size: size, minAlignMask: mask, pool: pool, neededSlots: needed, failed: true)
    }

    private mutating func unmap(_ id: TraceID, line: Int, into out: inout ReplayOutput) throws(TraceError) {
        if recordsEvents { lastEvent = .unmap(id: String(decoding: id.bytes, as: UTF8.self)) }
        guard case .mapped(let m) = try rules.unmap(id, line: line) else { return skipped("unmap id=", id, into: &out) }
        guard let pool = live.pool(holding: m.address) else {
            throw TraceError.kernelBug(.notABounceBuffer(m.address), id: id, line: line)
        }
        let home = live.homePool(of: pool)
        do {
            try Kernel.unmapSingle(
                &live, m.address, pool: pool,
                UnmapRequest(
                    mappingSize: Int(m.size), allocSize: Int(m.alloc), direction: m.direction,
                    attributes: m.attributes, minAlignMask: UInt64(m.minAlign)))
        } catch {
            throw TraceError.kernelBug(error, id: id, line: line)
        }
        let used = live.usedSlots(reportedFor: home)
        out.appendLine(maxLength: id.bytes.count + 64) { w in
            w.literal("unmap id="); w.bytes(id.bytes); w.literal(" used="); w.decimal(used)
        }
    }

    private mutating func sync(_ id: TraceID, target: SyncTarget, line: Int, into out: inout ReplayOutput) throws(TraceError) {
        guard case .mapped(let m) = try rules.sync(id, line: line) else { return skipped("sync id=", id, into: &out) }
        guard let pool = live.pool(holding: m.address) else {
            throw TraceError.kernelBug(.notABounceBuffer(m.address), id: id, line: line)
        }
        do {
            try Kernel.syncSingle(
                &live, m.address, pool: pool, size: Int(m.size), direction: m.direction, target: target,
                minAlignMask: UInt64(m.minAlign))
        } catch {
            throw TraceError.kernelBug(error, id: id, line: line)
        }
    }

    /// `<op> id=<ID> skipped=map-failed`: an unmap or sync of an id whose map failed in this replay.
    private func skipped(_ op: StaticString, _ id: TraceID, into out: inout ReplayOutput) {
        out.appendLine(maxLength: id.bytes.count + 64) { w in
            w.literal(op); w.bytes(id.bytes); w.literal(" skipped=map-failed")
        }
    }
}
