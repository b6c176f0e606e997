import Diagnosis
import Swiotlb
import XenDumps
import XenMemory

/// What happened to one device during a run.
public struct DeviceStats: Sendable, Hashable {
    /// The device's name.
    public var name: String
    /// Streaming maps attempted (scatter-gather elements count one each).
    public var maps = 0
    /// Maps that went straight to the device.
    public var direct = 0
    /// Maps that went through a bounce buffer.
    public var bounced = 0
    /// Maps that failed ("buffer is full" or an unusable bounce buffer).
    public var failed = 0
    /// Bytes copied between original and bounce buffers (map for TO_DEVICE/BIDIRECTIONAL,
    /// unmap for FROM_DEVICE/BIDIRECTIONAL).
    public var bytesCopied: UInt64 = 0
    /// Coherent allocations made, and how many needed an exchange.
    public var coherentAllocations = 0
    /// Coherent allocations that `xen_create_contiguous_region` had to exchange.
    public var coherentExchanged = 0
    /// Coherent allocations that failed.
    public var coherentFailed = 0
}

/// What happened to one bounce pool.
public struct PoolStats: Sendable, Hashable {
    /// `Low Mem`, `High Mem`, or `swiotlb` for a single pool.
    public var name: String
    /// Slots.
    public var nslabs: Int
    /// First pseudo-physical byte (`mem->start`, a `phys_addr_t`).
    public var start: PhysicalAddress
    /// Highest `io_tlb_used` seen.
    public var peakUsed = 0
    /// `io_tlb_used` at the end: 0 unless a trace stream left buffers mapped.
    public var finalUsed = 0
    /// Areas (Linux 6.x; 1 otherwise).
    public var areas = 1
    /// Maps that failed with "buffer is full".
    public var fullFailures = 0
    /// `io_tlb_used` sampled over the run: (operation index, used).
    public var occupancy: [(op: Int, used: Int)] = []
    /// The devices that map from this pool (indices into ``RunResult/devices``).
    public var devices: [Int] = []

    /// Compares everything but the samples' tuple type.
    public static func == (a: PoolStats, b: PoolStats) -> Bool {
        a.name == b.name && a.nslabs == b.nslabs && a.start == b.start && a.peakUsed == b.peakUsed
            && a.finalUsed == b.finalUsed && a.fullFailures == b.fullFailures
            && a.occupancy.map(\.op) == b.occupancy.map(\.op) && a.occupancy.map(\.used) == b.occupancy.map(\.used)
    }
    /// Hashes the figures.
    public func hash(into h: inout Hasher) { h.combine(name); h.combine(nslabs); h.combine(peakUsed); h.combine(fullFailures) }
}

/// A complete model run: the boot and the workload's results.
public struct RunResult: Sendable {
    /// The scenario that ran.
    public var scenario: Scenario
    /// The boot.
    public var boot: BootResult
    /// Operations executed (maps, unmaps, syncs, allocations).
    public var operations = 0
    /// Per device, in scenario order.
    public var devices: [DeviceStats] = []
    /// Per pool.
    public var pools: [PoolStats] = []
    /// The first kernel messages of the run (at most 20) and how many there were.
    public var messages: [String] = []
    /// Kernel messages printed in all.
    public var messageCount = 0
    /// Messages the kernel's rate limits held back (``KernelRateLimit``, on the workload's clock).
    public var suppressedMessages = 0
    /// debugfs after the run, in the kernel's order.
    public var debugfs: [(file: String, value: Int)] = []
    /// Per-device slots over the run, every failed map counted per sample interval
    /// (``RunTimeline/failureCounts``), the first "buffer is full" (for the pictures).
    public var timeline = RunTimeline(interval: 1, devices: 0, pools: 0)
    /// A kernel BUG (or hang) the workload hit, if any: the run stops there. Its description is
    /// the line reports print.
    public var kernelBug: SwiotlbBug?
    /// The first failed "buffer is full" maps, one record each, as diagnosis evidence: capped at
    /// ``RunEvidence/keptFailures`` (the free runs measured for the first few per device). Every
    /// failure is counted in ``DeviceStats/failed`` and, per sample interval, in
    /// ``RunTimeline/failureCounts``; the two cannot be derived from each other (this one holds
    /// the pool's state at each failure, that one is bounded by the samples).
    public var failureEvidence: [Evidence.Failure] = []
    /// Buffers trace streams left mapped at their end, per stream.
    public var stillMapped: [Evidence.StillMapped] = []
    /// What 6.18's dynamic pools did (a native guest with `swiotlb_dynamic`), else nil.
    public var dynamicPools: DynamicPoolStats?

    /// The guest's P2M as `xen-mfndump dump-p2m` would show it (PV guests that booted far
    /// enough to have one), up to its `max_pfn` hint.
    public var p2mDump: P2MDumpContents? {
        guard let p2m = boot.p2m, let host = boot.host else { return nil }
        let id = host.domains.keys.filter { $0 != .io }.min() ?? .dom0
        return P2MDumpContents(domain: PVDomain(id: id, p2m: p2m), host: host, size: p2m.lastPfnHint.rawValue)
    }
}

/// What Linux 6.18's dynamic pools (`CONFIG_SWIOTLB_DYNAMIC`) did in a run: the memory they came
/// from, the pools the worker added (in the order it added them) and the maps that needed a
/// transient pool.
public struct DynamicPoolStats: Sendable {
    /// A pool the worker (`swiotlb_dyn_alloc`) added.
    public struct GrownPool: Sendable, Hashable {
        /// Its first pseudo-physical byte (`mem->start`).
        public var start: PhysicalAddress
        /// Slots.
        public var nslabs: Int
        /// Areas.
        public var areas: Int
        /// The most of its slots in use at once.
        public var peakUsed: Int
        /// Its slots in use at the end.
        public var finalUsed: Int
    }

    /// The guest memory new pools come from (`guest.swiotlb_dynamic`).
    public var memory: Range<PhysicalAddress>
    /// `can_grow`: false in a PV guest (`swiotlb_init_remap` was given `xen_swiotlb_fixup`),
    /// whose pool never grows.
    public var canGrow = true
    /// The pools the worker added.
    public var grown: [GrownPool] = []
    /// Maps served by a transient pool of their own.
    public var transientMaps = 0
    /// The most transient slots at once (debugfs `io_tlb_transient_nslabs`).
    public var peakTransientSlots = 0
}
