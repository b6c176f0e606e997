import Swiotlb

/// Evidence from a swiotlb trace (docs/trace-format.md), replayed line by line against the
/// kernel's allocator: the pools, each failed map with the free runs at that moment, the
/// buffers still mapped at the end, and a map 6.1.192 would never return from.
public struct TraceEvidence {
    /// The trace's name in citations.
    public let name: String
    private var replayer: TraceReplayer
    private let kernel: DiagnosedKernel
    /// Live mappings: id → (device, bytes, sequence number of the map).
    private var live: [String: (device: String, size: Int, order: Int)] = [:]
    private var maps = 0
    /// Per device, the sequence numbers of its maps that were unmapped (in unmap order).
    private var completed: [String: [Int]] = [:]
    private var failures: [Evidence.Failure] = []
    /// Failed maps not kept (beyond ``keptFailures``).
    private var droppedFailures = 0
    /// Failures per device whose free runs were measured (each measure reads the whole pool).
    private var measured: [String: Int] = [:]
    /// Pools measured in all (at most ``FreeRuns/measuresPerRun``).
    private var measures = 0
    private var hang: (device: String?, source: String)?
    private var notes: [String] = []
    /// The replay's result lines of the current line (not shown: the findings are the output).
    private var output = ReplayOutput(capacity: 256)

    /// Failed maps kept as evidence; the rest are counted.
    static let keptFailures = 4096
    /// Failed maps per device whose free runs are measured.
    static let measuredPerDevice = 4

    /// A replay of the trace called `name` with `kernel`'s allocator (6.x kernels replay with
    /// 6.1's, the only one with areas the model has).
    public init(name: String, kernel: DiagnosedKernel) {
        self.init(name: name, kernel: kernel, replayer: TraceReplayer(kernel: kernel.cmdlineRules))
    }

    /// A replay of the trace called `name` on the registered kernel `model`'s own allocator.
    public init(name: String, replaying model: SwiotlbKernel) {
        self.init(name: name, kernel: DiagnosedKernel(model), replayer: TraceReplayer(kernel: model))
    }

    private init(name: String, kernel: DiagnosedKernel, replayer: TraceReplayer) {
        self.name = name
        self.kernel = kernel
        self.replayer = replayer
        self.replayer.recordsEvents = true
    }

    /// Maps replayed so far.
    public var mapCount: Int { maps }
    /// Maps that found no bounce buffer (kept as evidence or not).
    public var failedMapCount: Int { failures.count + droppedFailures }
    /// Bytes the replayed bounces would move.
    public var bytesCopied: UInt64 { replayer.bytesBounced }
    /// The replay's allocator (nil before the trace's pool line).
    public var tlb: SoftwareIOTLB? { replayer.tlb }

    /// Feeds line `line` (its bytes, no newline). A malformed line is the replay's error; a
    /// map the kernel would never return from ends the replay and is kept as evidence (the
    /// call returns false then: feed no more).
    public mutating func feed(bytes: UnsafeBufferPointer<UInt8>, line: Int) throws(TraceError) -> Bool {
        output.removeAll()
        do throws(TraceError) {
            try replayer.feed(bytes: bytes, line: line, into: &output)
        } catch  where error.isKernelHang {
            var device: String?
            if case .map(_, let d, _, _, _, _, _) = replayer.lastEvent { device = d }
            if kernel.searchCanHang {
                hang = (device, "\(name):\(line): \(error.message)")
            } else {
                notes.append(
                    "\(name):\(line): 6.1.192's slot search would loop here; \(kernel) bounds it, but the model has no later allocator: the rest of the trace is not replayed"
                )
            }
            return false
        }
        switch replayer.lastEvent {
        case .map(let id, let device, let size, let mask, let pool, let needed, let failed)?:
            maps += 1
            let dev = device ?? "(unnamed)"
            if failed {
                record(id: id, device: dev, size: size, mask: mask, pool: pool, needed: needed, line: line)
            } else {
                live[id] = (dev, size, maps)
            }
        case .unmap(let id)?:
            if let m = live.removeValue(forKey: id) { completed[m.device, default: []].append(m.order) }
        case nil:
            break
        }
        return true
    }

    private mutating func record(id: String, device: String, size: Int, mask: UInt64, pool: Int, needed: Int, line: Int) {
        guard failures.count < Self.keptFailures, let tlb = replayer.tlb, pool < tlb.pools.count else { droppedFailures += 1; return }
        let p = tlb.pools[pool]
        var run: Int?, areaRuns: [Int]?
        if measured[device, default: 0] < Self.measuredPerDevice && measures < FreeRuns.measuresPerRun && needed <= IOTLB.segmentSlots {
            measured[device, default: 0] += 1
            measures += 1
            (run, areaRuns) = FreeRuns.longest(in: p)
        }
        failures.append(
            Evidence.Failure(
                device: device, size: size, minAlignMask: mask, neededSlots: needed, pool: pool, used: p.used,
                total: p.nslabs, largestFreeRun: run, areaLargestRuns: areaRuns,
                source: "\(name):\(line): map id=\(id) size=\(size) failed, used \(p.used) of \(p.nslabs) slots"))
    }

    /// Ends a replay that was not stopped by a hang: a trace without a pool line is an error.
    public mutating func finish() throws(TraceError) {
        guard hang == nil && notes.isEmpty else { return }
        _ = try replayer.finish()
    }

    /// Adds the replay's findings to `e`: its pools (when `e` has none from the system), the
    /// failures, the buffers still mapped per device, the hang.
    public func add(to e: inout Evidence) {
        if let tlb = replayer.tlb, e.pools.isEmpty {
            for p in tlb.pools {
                e.pools.append(
                    Evidence.Pool(
                        name: p.name, nslabs: p.nslabs, areas: p.areas.count, highWater: p.usedHighWater, used: p.used,
                        source: "\(name): pool \(p.name.map { "\($0) " } ?? "")of \(p.nslabs) slots"))
            }
        }
        e.failures += failures
        e.mappingsKnown = true
        e.notes += notes
        if droppedFailures > 0 { e.notes.append("\(name): \(droppedFailures) more failed maps not kept as evidence") }
        if let hang { e.hang = hang }
        // A replay stopped by a hang did not reach the trace's end: its live buffers are no leak.
        guard hang == nil && notes.isEmpty else { return }
        var byDevice: [String: [(id: String, size: Int, order: Int)]] = [:]
        for (id, m) in live { byDevice[m.device, default: []].append((id, m.size, m.order)) }
        for (device, list) in byDevice.sorted(by: { ($0.value.map(\.order).min() ?? 0) < ($1.value.map(\.order).min() ?? 0) }) {
            let oldest = list.sorted { $0.order < $1.order }
            let stale = Self.outlived(oldest, completed: completed[device] ?? [])
            if stale.count < list.count {
                let inFlight = list.count - stale.count
                e.notes.append(
                    "\(name): \(inFlight) mapping\(inFlight == 1 ? "" : "s") of \(device) still in flight at the end (fewer of its later maps were unmapped than it had mapped): no leak"
                )
            }
            guard !stale.isEmpty else { continue }
            e.stillMapped.append(
                Evidence.StillMapped(
                    device: device, count: stale.count, bytes: stale.reduce(0) { $0 + UInt64($1.size) },
                    firstIDs: stale.prefix(5).map(\.id), source: name))
        }
    }

    /// The buffers of `live` (oldest first) that a device left behind: while each stayed
    /// mapped, at least as many of the device's later maps were unmapped as it has buffers
    /// mapped at the end. A buffer that fewer later maps overtook is in flight when the trace
    /// ends (a capture stops in the middle of I/O, and completions come out of order), not a leak.
    static func outlived(
        _ live: [(id: String, size: Int, order: Int)], completed: [Int]
    ) -> [(id: String, size: Int, order: Int)] {
        let done = completed.sorted()
        return live.filter { m in
            // Unmapped maps made after this one: those past the first order above m.order.
            var lo = 0, hi = done.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if done[mid] <= m.order { lo = mid + 1 } else { hi = mid }
            }
            return done.count - lo >= live.count
        }
    }
}
