import Swiotlb
import XenMemory

/// What a capture records about where it ran, for the trace's header comments.
public struct CaptureContext: Sendable, Equatable {
    /// `uname -a`'s fields (sysname release version machine).
    public var uname: String
    /// `/proc/cmdline`.
    public var commandLine: String
    /// The trace clock used (`counter`).
    public var clock: String
    /// `kprobe_profile`'s lines for the capture's events: `<event> hits=<n> missed=<m>`.
    public var probes: [String]
    /// `io_tlb_nslabs=… io_tlb_used=…` before and after.
    public var debugfsStart: String, debugfsEnd: String
    /// The kernel's `software IO TLB:` lines (area num, mapped [mem …]) still in its log.
    public var kernelLines: [String]

    /// A context.
    public init(uname: String, commandLine: String, clock: String, probes: [String], debugfsStart: String, debugfsEnd: String, kernelLines: [String]) {
        self.uname = uname; self.commandLine = commandLine; self.clock = clock; self.probes = probes
        self.debugfsStart = debugfsStart; self.debugfsEnd = debugfsEnd; self.kernelLines = kernelLines
    }
}

/// Writes paired operations as a swiotlb trace, format version 2 (docs/trace-format.md):
/// header comments, the pool line, then `map`/`unmap`/`sync` in the allocator's order, each map
/// with the address and used count the live kernel gave (`kernel_tlb=`, `kernel_used=`).
public struct CaptureTraceWriter: Sendable {
    /// What was written, for the summary line.
    public struct Counts: Sendable, Equatable {
        /// Maps written (failed ones included).
        public var maps = 0
        /// Maps the kernel could not serve.
        public var failedMaps = 0
        /// Unmaps written.
        public var unmaps = 0
        /// Syncs written.
        public var syncs = 0
        /// Unmaps and syncs of buffers mapped before the capture started (left out).
        public var beforeStart = 0
        /// No operations yet.
        public init() {}
    }

    /// The pool the maps used, read from `dev->dma_io_tlb_mem` at each map.
    public struct Pool: Sendable, Equatable {
        /// `mem->start`, `mem->nslabs`, `mem->nareas`.
        public var start: PhysicalAddress, nslabs: UInt64, areas: UInt64
    }

    /// The one pool of `ops`' maps (`device`'s only, when given); an error when they used more
    /// than one (a restricted DMA pool beside the default one) or none.
    public static func pool(of ops: [CapturedOp], device: String? = nil) throws(CaptureError) -> Pool {
        var found: (address: UInt64, pool: Pool)? = nil
        for op in ops {
            guard case .map = op.kind, device == nil || op.entry.deviceName == device else { continue }
            let e = op.entry
            let p = Pool(start: e.poolStart, nslabs: e.poolNslabs, areas: e.poolAreas)
            if let f = found {
                guard f.address == e.pool, f.pool == p else {
                    throw CaptureError(
                        "maps used two bounce pools (io_tlb_mem \(Hex.plain(f.address)) and \(Hex.plain(e.pool))): one pool per trace is supported; keep one device with --device"
                    )
                }
            } else {
                found = (e.pool, p)
            }
        }
        guard let f = found else { throw CaptureError("no map was recorded\(device.map { " for device \($0)" } ?? ""): nothing bounced while the capture ran") }
        guard f.pool.nslabs > 0, f.pool.nslabs <= 1 << 25, f.pool.areas > 0, f.pool.areas <= 1 << 18, f.pool.start.pageOffset == 0 else {
            throw CaptureError(
                "the pool read from the kernel (start \(Hex.plain(f.pool.start.rawValue)), nslabs \(f.pool.nslabs), areas \(f.pool.areas)) is not one a trace can hold"
            )
        }
        return f.pool
    }

    /// The operations, in commit order.
    public let ops: [CapturedOp]
    /// Where they were recorded.
    public let context: CaptureContext
    /// Hits and operations cut at the capture's edges.
    public let unpaired: Int, openAtEnd: Int
    /// The one device kept (nil: all).
    public let device: String?
    /// The pool the maps used.
    public let pool: Pool

    /// A writer of `pairing`'s operations; an error when they do not make a trace (no map, two
    /// pools, a direction that is not one).
    public init(_ pairing: CapturePairing, context: CaptureContext, device: String? = nil) throws(CaptureError) {
        ops = pairing.ops; unpaired = pairing.unpaired; openAtEnd = pairing.openAtEnd
        self.context = context; self.device = device
        pool = try Self.pool(of: ops, device: device)
        for op in ops where op.entry.direction >= UInt64(DMADirection.allCases.count) {
            throw CaptureError("\(op.entry.kind) at counter \(op.entry.counter): direction \(op.entry.direction) is not an enum dma_data_direction")
        }
    }

    /// Writes the trace through `emit`, one line at a time (no newline); keeps only `device`'s
    /// operations when given (the used counts are then the whole pool's and are left out).
    @discardableResult
    public func write(emit: (String) -> Void) -> Counts {
        let pairing = (unpaired: unpaired, openAtEnd: openAtEnd)
        emit("# xenpv swiotlb capture, trace format v2: xenpv swiotlb replay --kernel v6.1 --check <this file>")
        emit("# uname: \(context.uname)")
        emit("# cmdline: \(context.commandLine)")
        emit("# clock: \(context.clock) (order: the allocator's area-lock releases)")
        for p in context.probes { emit("# probe: \(p)") }
        emit("# debugfs at start: \(context.debugfsStart)")
        emit("# debugfs at end: \(context.debugfsEnd)")
        if pairing.unpaired > 0 || pairing.openAtEnd > 0 {
            emit(
                "# cut at the edges: \(pairing.unpaired) probe hits of operations begun before the start, \(pairing.openAtEnd) operations open at the end (left out)"
            )
        }
        if let device { emit("# device: \(device) only (kernel_used left out: the pool's count includes the other devices)") }
        for l in context.kernelLines { emit("# kernel: \(l)") }
        emit("pool nslabs=\(pool.nslabs) start=\(Hex.plain(pool.start.rawValue)) areas=\(pool.areas)")
        var counts = Counts()
        var live: [PhysicalAddress: Int] = [:]
        var next = 0
        for op in ops {
            if let device, op.entry.deviceName != device, op.kind != .sync(forDevice: true), op.kind != .sync(forDevice: false) { continue }
            let used = device == nil ? op.kernelUsed.map { " kernel_used=\($0)" } ?? "" : ""
            switch op.kind {
            case .map(let failed):
                next += 1
                counts.maps += 1
                let e = op.entry
                var line = "map id=m\(next) orig=\(Hex.plain(e.original.rawValue)) size=\(e.size)"
                if e.alloc != e.size { line += " alloc=\(e.alloc)" }
                line += " dir=\(DMADirection.allCases[Int(e.direction)].rawValue)"
                var attrs: [String] = []
                if e.attributes & UInt64(DMAAttributes.skipCPUSync.rawValue) != 0 { attrs.append("skip_cpu_sync") }
                if e.attributes & UInt64(DMAAttributes.noWarn.rawValue) != 0 { attrs.append("no_warn") }
                if !attrs.isEmpty { line += " attrs=" + attrs.joined(separator: ",") }
                if e.dmaParms != 0 {
                    if e.segmentBoundary != 0 && e.segmentBoundary != ~0 { line += " seg_mask=\(Hex.plain(e.segmentBoundary))" }
                    if e.minAlign != 0 { line += " min_align=\(Hex.plain(e.minAlign & 0xffff_ffff))" }
                }
                if e.align != 0 { line += " align=\(Hex.plain(e.align & 0xffff_ffff))" }
                line += " cpu=\(e.cpu)"
                if let name = e.deviceName, Self.isTraceWord(name) { line += " dev=\(name)" }
                if failed { counts.failedMaps += 1 } else { line += " kernel_tlb=\(Hex.plain(op.tlb.rawValue))"; live[op.tlb] = next }
                emit(line + used)
            case .unmap:
                guard let id = live.removeValue(forKey: op.tlb) else { counts.beforeStart += 1; continue }
                counts.unmaps += 1
                emit("unmap id=m\(id)\(used)")
            case .sync(let forDevice):
                guard let id = live[op.tlb] else { counts.beforeStart += 1; continue }
                counts.syncs += 1
                emit("sync id=m\(id) target=\(forDevice ? "device" : "cpu")")
            }
        }
        return counts
    }

    /// Whether `name` can be a trace's `dev=` value: 1 to 64 printable ASCII bytes, no `#`.
    static func isTraceWord(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64 && name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7f && $0 != 0x23 }
    }

}
