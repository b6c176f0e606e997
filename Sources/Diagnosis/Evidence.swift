/// Everything a diagnosis rests on, whatever it was read from (a kernel log, debugfs, a trace
/// replay, a model run). Each figure keeps the text it came from, so a verdict can quote it.
public struct Evidence: Sendable {
    /// A bounce pool as it was found.
    public struct Pool: Sendable, Hashable {
        /// `Low Mem` / `High Mem` (the RFC), nil for one pool.
        public var name: String?
        /// Slots (`io_tlb_nslabs`).
        public var nslabs: Int
        /// Areas (6.0 and later; 1 when unknown or before 6.0).
        public var areas: Int
        /// The most slots in use at once: debugfs `io_tlb_used_hiwater`, or a replay's or model
        /// run's peak; nil when only a snapshot is known.
        public var highWater: Int?
        /// `io_tlb_used` at the end of what was seen; nil when unknown.
        public var used: Int?
        /// Where the size was read (a log line, a debugfs file).
        public var source: String
        /// Creates a pool.
        public init(name: String? = nil, nslabs: Int, areas: Int = 1, highWater: Int? = nil, used: Int? = nil, source: String) {
            self.name = name; self.nslabs = nslabs; self.areas = areas; self.highWater = highWater; self.used = used; self.source = source
        }
    }

    /// A map that found no bounce buffer.
    public struct Failure: Sendable, Hashable {
        /// The device that asked (`usb 1-1`); `(unnamed)` when the evidence names none.
        public var device: String
        /// Bytes asked for.
        public var size: Int
        /// The device's `min_align_mask` when known (0: none or unknown).
        public var minAlignMask: UInt64
        /// Slots the map needed (size plus the min_align offset, in 2 KiB slots).
        public var neededSlots: Int
        /// Index into ``Evidence/pools`` of the pool it was refused by.
        public var pool: Int
        /// Slots in use when it failed.
        public var used: Int
        /// The pool's slots (the message's `total`).
        public var total: Int
        /// The longest run of free slots in the pool then (never more than one 128-slot
        /// segment), when the slot map is known (replay, model run).
        public var largestFreeRun: Int?
        /// The longest free run of each area then (6.x replays), when known.
        public var areaLargestRuns: [Int]?
        /// The text it rests on (the kernel's line, or the trace's line).
        public var source: String
        /// Creates a failure.
        public init(
            device: String, size: Int, minAlignMask: UInt64 = 0, neededSlots: Int, pool: Int = 0, used: Int, total: Int,
            largestFreeRun: Int? = nil, areaLargestRuns: [Int]? = nil, source: String
        ) {
            self.device = device; self.size = size; self.minAlignMask = minAlignMask; self.neededSlots = neededSlots; self.pool = pool
            self.used = used; self.total = total; self.largestFreeRun = largestFreeRun; self.areaLargestRuns = areaLargestRuns; self.source = source
        }
    }

    /// A device's buffers still mapped when the evidence ends.
    public struct StillMapped: Sendable, Hashable {
        /// The device.
        public var device: String
        /// How many mappings.
        public var count: Int
        /// Their bytes.
        public var bytes: UInt64
        /// The first few ids, oldest first.
        public var firstIDs: [String]
        /// Where it was seen (`trace.txt`, `stream 2 (trace wifi.trace)`).
        public var source: String
        /// Creates a record.
        public init(device: String, count: Int, bytes: UInt64, firstIDs: [String], source: String) {
            self.device = device; self.count = count; self.bytes = bytes; self.firstIDs = firstIDs; self.source = source
        }
    }

    /// The kernel, and what said so (`dmesg line 1: Linux version 6.1.0-56-amd64`, `--kernel`).
    public var kernel: DiagnosedKernel
    /// Where the kernel was learnt.
    public var kernelSource: String
    /// The kernel command line and where it was read; nil when none was seen.
    public var commandLine: (text: String, source: String)?
    /// The pools found (empty when none was seen).
    public var pools: [Pool] = []
    /// Failed maps, in the order they happened.
    public var failures: [Failure] = []
    /// Whether the failures come from a replay or model run that knows every mapping (then a
    /// leak shows as buffers still mapped, and `used` rising between failures is just load).
    public var mappingsKnown = false
    /// Buffers still mapped at the end (a trace, a model run's trace streams).
    public var stillMapped: [StillMapped] = []
    /// A map the kernel would never return from (6.1's slot search), and the text it rests on.
    public var hang: (device: String?, source: String)?
    /// Lines saying there is no pool.
    public var noPool: [String] = []
    /// The device a no-pool line names (`Can not allocate SWIOTLB buffer earlier …`).
    public var noPoolDevice: String?
    /// The possible CPUs (6.x's default areas), when known: a log's `Allowing … CPUs` or
    /// `nr_cpu_ids:` line, a model run's `guest.cpus`, else the power of two `area num %d.`
    /// shows when `swiotlb=` gave no area count.
    public var possibleCPUs: Int?
    /// `default_nareas` as the log's `area num %d.` shows it (the command line's area count, or
    /// the possible CPUs' power of two), when known.
    public var defaultAreas: Int?
    /// Set-up lines that explain a pool's size (`area num`, `roundup to`, `adjusted to`,
    /// allocation failures).
    public var setupLines: [String] = []
    /// Whether the set-up halved the pool after a failed allocation (its lines are in `setupLines`).
    public var allocationFailed = false
    /// Memory encryption (SEV/TDX), and the text it rests on.
    public var memoryEncryption: String?
    /// The guest's memory in bytes (for SEV/TDX's 6 %), when known.
    public var totalMemoryBytes: UInt64?
    /// What could not be read, one line each (`no /sys/kernel/debug/swiotlb here`), printed
    /// with the verdicts.
    public var notes: [String] = []

    /// Evidence about `kernel`.
    public init(kernel: DiagnosedKernel, kernelSource: String) {
        self.kernel = kernel
        self.kernelSource = kernelSource
    }
}
