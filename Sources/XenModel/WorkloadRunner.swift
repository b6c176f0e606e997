import Swiotlb
import XenMemory
import XenSwiotlb

/// Runs a scenario's workload against its booted guest, deterministically for a seed.
public enum WorkloadRunner {
    /// Progress callback: (operations done, operations planned).
    public typealias Progress = (Int, Int) -> Void

    /// Boots and runs `scenario`.
    public static func run(_ scenario: Scenario, progress: Progress? = nil) -> RunResult {
        var result = RunResult(scenario: scenario, boot: ModelBoot.boot(scenario))
        result.devices = scenario.devices.map { DeviceStats(name: $0.name) }
        guard case .ready(var engine) = result.boot.state else { return result }
        result.boot.state = .consumedByRun  // one owner of the slot arrays: no copy on the first write
        result.pools = engine.tlb.pools.map {
            PoolStats(name: $0.name ?? SwiotlbKernelText.unnamedPool, nslabs: $0.nslabs, start: $0.start, areas: $0.areas.count)
        }
        for (d, device) in scenario.devices.enumerated() where !result.pools.isEmpty {
            result.pools[engine.tlb.poolIndex(for: device.dma)].devices.append(d)
        }
        if let g = engine.tlb.growth, let memory = scenario.guest.swiotlbDynamic {
            result.dynamicPools = DynamicPoolStats(memory: memory)
            result.dynamicPools?.canGrow = g.canGrow
        }
        var state = RunState(scenario: scenario, ranges: result.boot.bufferRanges, memory: result.boot.memory)
        let planned = state.plannedOperations
        let sampleEvery = max(1, planned / 1000)
        result.timeline = RunTimeline(interval: sampleEvery, devices: result.devices.count, pools: result.pools.count)
        do {
            try state.allocateCoherent(&engine, &result)
            var active = state.streams.indices.filter { !state.streams[$0].done }
            while !active.isEmpty {
                for i in active {
                    try state.step(i, &engine, &result)
                    if result.operations % sampleEvery == 0 { sample(engine, &result) }
                    if let progress, result.operations % 4096 == 0 { progress(result.operations, planned) }
                }
                active = active.filter { !state.streams[$0].done }
            }
            try state.drain(&engine, &result)
        } catch {
            result.kernelBug = error
        }
        sample(engine, &result)
        let messages = engine.takeMessages()
        result.messageCount += messages.count
        result.suppressedMessages = engine.tlb.suppressedMessages
        result.messages += messages.prefix(max(0, 20 - result.messages.count)).map(\.description)
        for i in result.pools.indices {
            let p = engine.tlb.pools[i]
            result.pools[i].finalUsed = p.used
            result.pools[i].peakUsed = max(result.pools[i].peakUsed, p.usedHighWater)
        }
        result.debugfs = engine.tlb.debugfs
        result.dynamicPools?.grown = engine.tlb.pools.filter { $0.origin == .grown }.map {
            DynamicPoolStats.GrownPool(start: $0.start, nslabs: $0.nslabs, areas: $0.areas.count, peakUsed: $0.usedHighWater, finalUsed: $0.used)
        }
        return result
    }

    static func sample(_ engine: DMAEngine, _ r: inout RunResult) {
        // The boot pools, first in the list (pools added at run time: ``DynamicPoolStats``).
        for i in r.pools.indices where r.pools[i].occupancy.last?.op != r.operations {
            r.pools[i].occupancy.append((r.operations, engine.tlb.pools[i].used))
        }
        r.timeline.sample(at: r.operations)
    }
}

/// One stream's progress.
struct StreamState {
    var spec: StreamSpec
    var device: DMADevice
    var deviceIndex: Int
    var submitted = 0
    var inFlight: [[MappedBuffer]] = []
    var traceLine = 0
    /// A trace's live ids: each buffer and the device it was mapped for (the stream's, with the
    /// map line's `min_align=` and `dev=`), which its unmap and syncs use.
    var traceLive: [String: (buffer: MappedBuffer, device: DMADevice)] = [:]
    /// The trace's line of each live id's map (its age, for the ones left mapped at the end).
    var traceMappedAt: [String: Int] = [:]
    var done = false
    /// The CPU the stream runs on (its index modulo the guest's CPUs).
    var cpu = 0
}

/// The mutable part of a run.
struct RunState {
    var streams: [StreamState]
    var rng: SplitMix64
    let ranges: [Range<PFN>]
    let totalPages: UInt64
    var memory: PseudoPhysicalAllocator
    var coherent: [(device: Int, size: Int, dma: DMAAddress)] = []

    init(scenario: Scenario, ranges: [Range<PFN>], memory: PseudoPhysicalAllocator) {
        self.ranges = ranges
        self.memory = memory
        totalPages = ranges.reduce(0) { $0 + $1.span }
        rng = SplitMix64(seed: scenario.workload.seed)
        // The parser has checked that every stream names a device.
        let deviceIndex = Dictionary(scenario.devices.enumerated().map { ($1.name, $0) }) { first, _ in first }
        streams = scenario.workload.streams.enumerated().map { (n, s) in
            let idx = deviceIndex[s.device] ?? 0
            var st = StreamState(spec: s, device: scenario.devices[idx].dma, deviceIndex: idx)
            st.cpu = n % scenario.guest.cpus
            if case .coherent = s { st.done = true }
            return st
        }
    }

    var plannedOperations: Int {
        streams.reduce(0) { acc, s in
            switch s.spec {
            case .fio(_, _, _, _, let ops), .network(_, _, _, let ops), .scatterGather(_, _, _, _, let ops): return acc + 2 * ops
            case .coherent(_, _, let count): return acc + 2 * count
            case .trace(_, let ops, _): return acc + ops.count
            }
        }
    }

    /// A random pseudo-physical buffer of `size` bytes starting `offset` into a page.
    mutating func buffer(size: Int, offset: UInt64) -> UInt64 {
        let pagesNeeded = (offset + UInt64(size) + Page.offsetMask) >> Page.shift
        guard totalPages > pagesNeeded else { return 0x100000 + offset }
        for _ in 0..<16 {
            var k = rng.next() % totalPages
            for r in ranges {
                if k < r.span {
                    let pfn = r.lowerBound.rawValue + k
                    if pfn + pagesNeeded <= r.upperBound.rawValue { return (pfn << Page.shift) + offset }
                    break
                }
                k -= r.span
            }
        }
        let r = ranges.first { $0.span >= pagesNeeded } ?? ranges[0]
        return r.lowerBound.address.rawValue + offset
    }

    mutating func allocateCoherent(_ engine: inout DMAEngine, _ r: inout RunResult) throws(SwiotlbBug) {
        for s in streams {
            guard case .coherent(_, let size, let count) = s.spec else { continue }
            for _ in 0..<count {
                r.operations += 1
                r.devices[s.deviceIndex].coherentAllocations += 1
                if let c = engine.allocCoherent(s.device, size: size, memory: &memory) {
                    if c.exchanged { r.devices[s.deviceIndex].coherentExchanged += 1 }
                    coherent.append((s.deviceIndex, size, c.dma))
                } else {
                    r.devices[s.deviceIndex].coherentFailed += 1
                }
            }
        }
    }

    /// One submission (completing the oldest request first when the queue is full).
    mutating func step(_ i: Int, _ engine: inout DMAEngine, _ r: inout RunResult) throws(SwiotlbBug) {
        var s = streams[i]
        defer { streams[i] = s }
        switch s.spec {
        case .fio(_, let bs, let qd, let readPercent, let ops):
            if s.inFlight.count >= qd { try complete(&s, &engine, &r) }
            let dir: DMADirection = Int(rng.next() % 100) < readPercent ? .fromDevice : .toDevice
            let p = buffer(size: bs, offset: 0)
            if let b = try submit(&s, p, bs, dir, &engine, &r) { s.inFlight.append([b]) }
            s.submitted += 1
            if s.submitted >= ops { s.done = true }
        case .network(_, let mtu, let inFlight, let ops):
            if s.inFlight.count >= inFlight { try complete(&s, &engine, &r) }
            let rx = rng.next() % 2 == 0
            let size = mtu + 14
            let p = rx ? buffer(size: size, offset: 64) : buffer(size: size, offset: (rng.next() % 64) * 32)
            if let b = try submit(&s, p, size, rx ? .fromDevice : .toDevice, &engine, &r) { s.inFlight.append([b]) }
            s.submitted += 1
            if s.submitted >= ops { s.done = true }
        case .scatterGather(_, let segs, let segSize, let qd, let ops):
            if s.inFlight.count >= qd { try complete(&s, &engine, &r) }
            var list: [MappedBuffer] = []
            var ok = true
            for _ in 0..<segs {
                let p = buffer(size: segSize, offset: 0)
                guard let b = try submit(&s, p, segSize, .toDevice, &engine, &r) else { ok = false; break }
                list.append(b)
            }
            if ok {
                s.inFlight.append(list)
            } else {
                // map_sg's failure path: undo the elements mapped so far.
                for b in list { try engine.unmap(s.device, b); r.operations += 1; r.timeline.release(b, device: s.deviceIndex) }
            }
            s.submitted += 1
            if s.submitted >= ops { s.done = true }
        case .coherent:
            s.done = true
        case .trace(_, let ops, _):
            guard s.traceLine < ops.count else { s.done = true; return }
            let op = ops[s.traceLine]
            s.traceLine += 1
            if s.traceLine >= ops.count { s.done = true }
            try replay(op, &s, &engine, &r)
        }
    }

    /// One operation of a trace stream. TraceReader has checked the ids: a map's id is not live,
    /// an unmap's or a sync's was mapped; it is not live here only when the model's map failed,
    /// and then the driver has nothing to unmap or sync.
    mutating func replay(_ op: TraceOp, _ s: inout StreamState, _ engine: inout DMAEngine, _ r: inout RunResult) throws(SwiotlbBug) {
        switch op {
        case .map(let m):
            let device = s.device.mapped(by: m)
            if let b = try submit(&s, m.original.rawValue, m.size, m.direction, &engine, &r, device: device, cpu: m.cpu ?? s.cpu, alignMask: m.alignMask) {
                s.traceLive[m.id] = (b, device); s.traceMappedAt[m.id] = s.traceLine
            }
        case .unmap(let id):
            if let l = s.traceLive.removeValue(forKey: id) {
                try engine.unmap(l.device, l.buffer); r.operations += 1; account(l.buffer, unmap: true, &s, &r)
            }
        case .sync(let id, let target):
            if let l = s.traceLive[id] { try engine.sync(l.device, l.buffer, target: target); r.operations += 1 }
        case .pool:
            break  // dropped by the parser: the pools are the scenario's
        }
    }

    /// Maps one buffer and accounts for it (to the stream's device). A trace's map gives the
    /// device as its line describes it, the CPU and the `alloc_align_mask`; other streams map
    /// for the stream's device on the stream's CPU.
    mutating func submit(
        _ s: inout StreamState, _ phys: UInt64, _ size: Int, _ dir: DMADirection,
        _ engine: inout DMAEngine, _ r: inout RunResult,
        device: DMADevice? = nil, cpu: Int? = nil, alignMask: UInt64 = 0
    ) throws(SwiotlbBug) -> MappedBuffer? {
        let device = device ?? s.device
        engine.setJiffies(KernelRateLimit.jiffies(afterNanoseconds: UInt64(r.operations) &* r.scenario.workload.operationNanoseconds))
        r.operations += 1
        r.devices[s.deviceIndex].maps += 1
        let transientBefore = r.dynamicPools != nil ? engine.tlb.transientSlots : 0
        defer {
            if var d = r.dynamicPools {
                let now = engine.tlb.transientSlots
                if now > transientBefore { d.transientMaps += 1 }
                d.peakTransientSlots = max(d.peakTransientSlots, now)
                r.dynamicPools = d
            }
        }
        switch try engine.map(device, PhysicalAddress(phys), size: size, direction: dir, cpu: cpu ?? s.cpu, alignMask: alignMask) {
        case .success(let b):
            if let p = b.pool {
                r.devices[s.deviceIndex].bounced += 1
                account(b, unmap: false, &s, &r)
                r.pools[p].peakUsed = max(r.pools[p].peakUsed, engine.tlb.pools[p].used)
            } else {
                r.devices[s.deviceIndex].direct += 1
            }
            return b
        case .failure(let e):
            r.devices[s.deviceIndex].failed += 1
            RunEvidence.recordFailure(e, device: device, deviceIndex: s.deviceIndex, original: phys, size: size, engine: engine, &r)
            let pool = engine.tlb.pools.isEmpty ? nil : engine.tlb.poolIndex(for: device)
            r.timeline.failed(device: s.deviceIndex, pool: pool, at: r.operations)
            if e == .full, let pool {
                r.pools[pool].fullFailures += 1
                r.timeline.fullFailure(SlotMapSnapshot(pool: pool, engine.tlb.pools[pool], device: s.deviceIndex, operation: r.operations, requestBytes: size))
            }
            let m = engine.takeMessages()
            r.messageCount += m.count
            r.messages += m.prefix(max(0, 20 - r.messages.count)).map(\.description)
            return nil
        }
    }

    /// Bytes the kernel copies for a bounced buffer.
    func account(_ b: MappedBuffer, unmap: Bool, _ s: inout StreamState, _ r: inout RunResult) {
        guard b.pool != nil else { return }
        unmap ? r.timeline.release(b, device: s.deviceIndex) : r.timeline.hold(b, device: s.deviceIndex)
        let copies =
            unmap
            ? (b.direction == .fromDevice || b.direction == .bidirectional)
            : (b.direction == .toDevice || b.direction == .bidirectional)
        if copies { r.devices[s.deviceIndex].bytesCopied += UInt64(b.size) }
    }

    mutating func complete(_ s: inout StreamState, _ engine: inout DMAEngine, _ r: inout RunResult) throws(SwiotlbBug) {
        guard !s.inFlight.isEmpty else { return }
        for b in s.inFlight.removeFirst() {
            try engine.unmap(s.device, b)
            r.operations += 1
            account(b, unmap: true, &s, &r)
        }
    }

    /// Completes everything still in flight and frees the coherent buffers.
    mutating func drain(_ engine: inout DMAEngine, _ r: inout RunResult) throws(SwiotlbBug) {
        for i in streams.indices {
            var s = streams[i]
            while !s.inFlight.isEmpty { try complete(&s, &engine, &r) }
            // What a trace left mapped stays mapped, and is reported (a leak, or a capture cut short).
            RunEvidence.recordStillMapped(s.traceLive.mapValues(\.buffer), mappedAt: s.traceMappedAt, device: r.devices[s.deviceIndex].name, stream: i, &r)
            streams[i] = s
        }
        for c in coherent {
            engine.freeCoherent(r.scenario.devices[c.device].dma, size: c.size, dma: c.dma, memory: &memory)
            r.operations += 1
        }
        coherent = []
    }
}

extension DMADevice {
    /// The device a trace's map line describes: this one (the stream's) with the line's
    /// `min_align=` as its `dma_get_min_align_mask()`, its `dev=` as its name and its `driver=`
    /// as its driver, where the line gives them, as `swiotlb replay` reads them. The stream's
    /// device keeps its DMA and segment masks (they choose the pool and direct DMA, which the
    /// scenario declares).
    func mapped(by line: TraceMap) -> DMADevice {
        var d = self
        if let m = line.minAlign { d.minAlignMask = m }
        if let n = line.device { d.name = n }
        if let n = line.driver { d.driver = n }
        return d
    }
}
