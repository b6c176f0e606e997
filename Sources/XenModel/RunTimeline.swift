import Swiotlb

/// What the pictures need beyond the totals: the slots each device holds in each pool over the
/// run, where its maps failed, and the pool's slots at the first "buffer is full".
///
/// Samples are taken with the pools' occupancy (``PoolStats/occupancy``), so every series has
/// one value per entry of ``sampleOps``. Failures are kept per device and sample interval (the
/// first failure's operation and how many followed in that interval), so their number is
/// bounded by the samples however many maps fail.
public struct RunTimeline: Sendable {
    /// Slots one device held in one pool, one value per sample.
    public struct DeviceSeries: Sendable, Hashable {
        /// The device (index into ``RunResult/devices``).
        public var device: Int
        /// The pool (index into ``RunResult/pools``).
        public var pool: Int
        /// Slots held at each of ``RunTimeline/sampleOps``.
        public var slots: [Int]
    }

    /// Failed maps of one device within one sample interval.
    public struct FailureMark: Sendable, Hashable {
        /// The device (index into ``RunResult/devices``).
        public var device: Int
        /// The pool the device maps from (index into ``RunResult/pools``); nil without pools.
        public var pool: Int?
        /// The operation of the first failure in the interval (``RunResult/operations`` counts).
        public var operation: Int
        /// Failures in the interval, the first included.
        public var count: Int
    }

    /// Operations between samples (and the width of a failure interval).
    public var interval: Int
    /// The operation of each sample.
    public private(set) var sampleOps: [Int] = []
    /// One series per device and pool the device bounced into, in order of first use.
    public private(set) var series: [DeviceSeries] = []
    /// Every failed map, counted per device and sample interval, in operation order (for the
    /// pictures; ``RunResult/failureEvidence`` keeps the first failures one by one, with the
    /// pool's state, for diagnosis).
    public private(set) var failureCounts: [FailureMark] = []
    /// The pool as the first "buffer is full" found it.
    public private(set) var firstFullFailure: SlotMapSnapshot?
    /// Per (device, pool) at `device * poolCount + pool`: the index of its series, -1 before its first map.
    private var seriesIndex: [Int]
    /// Per (device, pool), the slots held now (what the next sample records).
    private var live: [Int]
    /// Each device's latest failure mark (index into ``failureCounts``), -1 before its first failure.
    private var lastMark: [Int]
    private let poolCount: Int

    /// An empty timeline sampling every `interval` operations, for `devices` devices and `pools` pools.
    public init(interval: Int, devices: Int, pools: Int) {
        self.interval = max(1, interval)
        poolCount = max(0, pools)
        seriesIndex = Array(repeating: -1, count: max(0, devices) * poolCount)
        live = Array(repeating: 0, count: seriesIndex.count)
        lastMark = Array(repeating: -1, count: max(0, devices))
    }

    /// `device` mapped `b` (nothing when it went direct).
    mutating func hold(_ b: MappedBuffer, device: Int) { add(b, device: device, sign: 1) }
    /// `device` unmapped `b`.
    mutating func release(_ b: MappedBuffer, device: Int) { add(b, device: device, sign: -1) }

    private mutating func add(_ b: MappedBuffer, device: Int, sign: Int) {
        guard let pool = b.pool, b.slots > 0 else { return }
        let key = device * poolCount + pool
        if seriesIndex[key] < 0 {
            // The first map of this device in this pool: a series, zero before now.
            seriesIndex[key] = series.count
            series.append(DeviceSeries(device: device, pool: pool, slots: Array(repeating: 0, count: sampleOps.count)))
        }
        live[key] += sign * b.slots
    }

    /// Records the slots every device holds at operation `op` (once per operation).
    mutating func sample(at op: Int) {
        guard sampleOps.last != op else { return }
        sampleOps.append(op)
        for i in series.indices { series[i].slots.append(live[series[i].device * poolCount + series[i].pool]) }
    }

    /// A map of `device` failed at operation `op`.
    mutating func failed(device: Int, pool: Int?, at op: Int) {
        let k = lastMark[device]
        if k >= 0, failureCounts[k].operation / interval == op / interval {
            failureCounts[k].count += 1
            return
        }
        lastMark[device] = failureCounts.count
        failureCounts.append(FailureMark(device: device, pool: pool, operation: op, count: 1))
    }

    /// Keeps `snapshot` when it is the run's first "buffer is full".
    mutating func fullFailure(_ snapshot: @autoclosure () -> SlotMapSnapshot) {
        if firstFullFailure == nil { firstFullFailure = snapshot() }
    }
}

/// A pool's slots at one moment: its free runs as the kernel's `io_tlb_list` numbers them (each
/// ends at a used slot or a 128-slot segment's end), its areas, and the request that failed.
public struct SlotMapSnapshot: Sendable, Hashable {
    /// The pool (index into ``RunResult/pools``).
    public var pool: Int
    /// The device whose map failed (index into ``RunResult/devices``).
    public var device: Int
    /// The operation of the failure.
    public var operation: Int
    /// The mapping's size in bytes.
    public var requestBytes: Int
    /// The slots the mapping needs: its size in 2 KiB slots, rounded up.
    public var requestSlots: Int
    /// The pool's slots.
    public var nslabs: Int
    /// Slots per area (the whole pool when it has one area).
    public var areaSlots: Int
    /// The free runs, in slot order; none crosses a segment boundary.
    public var freeRuns: [Range<Int>]

    /// Free slots in all.
    public var freeSlots: Int { freeRuns.reduce(0) { $0 + $1.count } }
    /// The longest free run (0 when none).
    public var longestFreeRun: Int { freeRuns.map(\.count).max() ?? 0 }

    /// Reads `pool`'s free runs from its `io_tlb_list`: O(free runs + used slots), once per run.
    public init(pool index: Int, _ pool: SlotPool, device: Int, operation: Int, requestBytes: Int) {
        self.pool = index
        self.device = device
        self.operation = operation
        self.requestBytes = requestBytes
        requestSlots = (requestBytes + IOTLB.slotSize - 1) >> IOTLB.shift
        nslabs = pool.nslabs
        areaSlots = pool.areaSlots
        var runs: [Range<Int>] = []
        let list = pool.list
        var slot = 0
        while slot < pool.nslabs {
            let run = Int(list[slot])
            if run == 0 { slot += 1; continue }
            // A free run never reaches past its segment; clamp in case the list says otherwise.
            let segmentEnd = (slot | (IOTLB.segmentSlots - 1)) + 1
            let end = min(slot + run, segmentEnd, pool.nslabs)
            if let last = runs.last, last.upperBound == slot, slot & (IOTLB.segmentSlots - 1) != 0 {
                runs[runs.count - 1] = last.lowerBound..<end
            } else {
                runs.append(slot..<end)
            }
            slot = end
        }
        freeRuns = runs
    }

    /// A snapshot from its parts (tests, other sources).
    public init(pool: Int, device: Int, operation: Int, requestBytes: Int, nslabs: Int, areaSlots: Int, freeRuns: [Range<Int>]) {
        self.pool = pool; self.device = device; self.operation = operation; self.requestBytes = requestBytes
        requestSlots = (requestBytes + IOTLB.slotSize - 1) >> IOTLB.shift
        self.nslabs = nslabs; self.areaSlots = max(1, areaSlots); self.freeRuns = freeRuns
    }
}
