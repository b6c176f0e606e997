import Swiotlb
import XenMemory

/// A model run's whole input: host, hypervisor, guest, devices and workload (schema 1; see
/// `docs/scenarios.md`).
public struct Scenario: Sendable {
    /// The scenario's name (shown in reports).
    public var name: String
    /// The machine.
    public var host: HostSpec
    /// The hypervisor (ignored for a native guest).
    public var xen: XenSpec
    /// The guest whose DMA is modelled.
    public var guest: GuestSpec
    /// The devices, by name.
    public var devices: [DeviceSpec]
    /// What the devices do.
    public var workload: WorkloadSpec
    /// What the file says that the model accepts but a reader should know, one line each
    /// (`<file>:<line>: <field>: …`), e.g. `swiotlb=` text the kernel ignores.
    public var warnings: [String] = []
    /// The file it was read from (for errors found after parsing).
    public var file = ""
    /// The line of each field a boot can find impossible (``FieldFault``), by path.
    public var fieldLines: [String: Int] = [:]

    /// Creates a scenario (``ScenarioParser`` reads one from YAML or JSON and also fills
    /// `warnings`, `file` and `fieldLines`).
    public init(
        name: String, host: HostSpec, xen: XenSpec, guest: GuestSpec, devices: [DeviceSpec], workload: WorkloadSpec,
        warnings: [String] = [], file: String = "", fieldLines: [String: Int] = [:]
    ) {
        self.name = name; self.host = host; self.xen = xen; self.guest = guest; self.devices = devices; self.workload = workload
        self.warnings = warnings; self.file = file; self.fieldLines = fieldLines
    }

    /// The boot's fault as a refusal of the scenario (`<file>:<line>: <field>: …`), when the
    /// guest failed because of a field rather than as it would on a real machine.
    public func refusal(for boot: BootResult) -> ScenarioError? {
        boot.failure?.fault.map { ScenarioError(file: file, line: fieldLines[$0.path], path: $0.path, message: $0.message) }
    }
}

/// The machine: RAM (a QEMU `pc` map) or an explicit E820, Xen's `dma_bits`, and machine memory
/// already taken below 4 GiB (from 1 MiB up) by other domains or the hypervisor.
public struct HostSpec: Sendable {
    /// The host memory map.
    public var e820: HostE820
    /// Xen's `dma_bits=` (a DMA zone, as Xen sets by default on NUMA hosts).
    public var dmaBits: Int?
    /// Pages taken from the heap starting at MFN 0x100.
    public var takenBelow4G: UInt64
    /// The heap's boot regions in insertion order (MFN ranges), when given explicitly.
    public var bootRegions: [Range<MFN>]?
    /// Blocks freed into the heap after the boot regions: (first MFN, order).
    public var inventory: [(MFN, Int)] = []

    /// Creates a machine description.
    public init(e820: HostE820, dmaBits: Int? = nil, takenBelow4G: UInt64 = 0, bootRegions: [Range<MFN>]? = nil, inventory: [(MFN, Int)] = []) {
        self.e820 = e820; self.dmaBits = dmaBits; self.takenBelow4G = takenBelow4G; self.bootRegions = bootRegions; self.inventory = inventory
    }
}

/// The hypervisor's boot options.
public struct XenSpec: Sendable {
    /// `dom0_mem=`.
    public var dom0Memory: Dom0MemoryOption
    /// The text of `dom0_mem=` as given (for reports).
    public var dom0MemoryText: String?
    /// A debug (`CONFIG_DEBUG`) build.
    public var debugBuild: Bool
    /// `memop-max-order=`.
    public var memopMaxOrder: MemopMaxOrder
    /// The dom0 kernel module's MFNs (given back to the heap after loading).
    public var kernelModule: Range<MFN>? = nil
    /// The initrd module's MFNs (assigned to dom0 in place).
    public var initrd: Range<MFN>? = nil
    /// `v_end - v_start` of dom0's initial mapping.
    public var initialMapping: UInt64? = nil
    /// The hypervisor build whose own boot allocations the model derives (``XenBootMemory``):
    /// when given, and the host has no `boot_regions`, the heap is what this build leaves.
    public var package: XenBuild? = nil

    /// Creates the hypervisor's options (defaults: Xen 4.17's, a release build).
    public init(
        dom0Memory: Dom0MemoryOption = Dom0MemoryOption(), dom0MemoryText: String? = nil, debugBuild: Bool = false,
        memopMaxOrder: MemopMaxOrder = MemopMaxOrder(), kernelModule: Range<MFN>? = nil, initrd: Range<MFN>? = nil,
        initialMapping: UInt64? = nil, package: XenBuild? = nil
    ) {
        self.dom0Memory = dom0Memory; self.dom0MemoryText = dom0MemoryText; self.debugBuild = debugBuild
        self.memopMaxOrder = memopMaxOrder; self.kernelModule = kernelModule; self.initrd = initrd; self.initialMapping = initialMapping
        self.package = package
    }
}

/// What kind of guest.
public enum GuestKind: String, Sendable, CaseIterable {
    /// The PV control/hardware domain with xen-swiotlb.
    case pvDom0 = "pv-dom0"
    /// A PV domU with passthrough devices (xen-swiotlb via `iommu=soft` or `swiotlb=force`).
    case pvDomU = "pv-domu"
    /// A guest without Xen (dma-direct + swiotlb), e.g. an AMD SEV guest.
    case native
}

/// The guest kernel and its memory.
public struct GuestSpec: Sendable {
    /// The kind of guest.
    public var kind: GuestKind
    /// Kernel semantics.
    public var kernel: SwiotlbKernel
    /// The kernel command line (only `swiotlb=` and `iommu=soft` matter here).
    public var cmdline: String
    /// Guest RAM for a domU or a native guest (dom0's comes from `dom0_mem`).
    public var memory: UInt64?
    /// SEV or TDX memory encryption (native guests), nil: none.
    public var encryption: MemoryEncryption?
    /// Bytes Linux took at the top of its RAM before swiotlb (places the buffer): a size.
    public var earlyReserved: UInt64
    /// Where the swiotlb buffer ends, when known from a real boot.
    public var swiotlbEnd: PhysicalAddress? = nil
    /// Virtual CPUs (`num_possible_cpus()`: v6.1's swiotlb areas; streams run on CPU i mod cpus).
    public var cpus: Int = 1
    /// 6.18's `CONFIG_SWIOTLB_DYNAMIC` in a native guest: the guest RAM (page-aligned) pools
    /// added at run time come from (``DynamicPoolMemory``); nil: the pools never grow.
    public var swiotlbDynamic: Range<PhysicalAddress>?

    /// Creates a guest description.
    public init(
        kind: GuestKind, kernel: SwiotlbKernel = .v5_11, cmdline: String = "", memory: UInt64? = nil,
        encryption: MemoryEncryption? = nil, earlyReserved: UInt64 = 0, swiotlbEnd: PhysicalAddress? = nil, cpus: Int = 1
    ) {
        self.kind = kind; self.kernel = kernel; self.cmdline = cmdline; self.memory = memory
        self.encryption = encryption; self.earlyReserved = earlyReserved; self.swiotlbEnd = swiotlbEnd; self.cpus = cpus
    }

    /// The `swiotlb=` value, if the command line has one.
    public var swiotlbParameter: String? {
        cmdline.split(separator: " ").last { $0.hasPrefix("swiotlb=") }.map { String($0.dropFirst(8)) }
    }
    /// Whether `iommu=soft` is given.
    public var iommuSoft: Bool { cmdline.split(separator: " ").contains("iommu=soft") }
    /// `coherent_pool=<size>` (`memparse`: a number with an optional K/M/G/T suffix), the last
    /// one given; nil when absent or unreadable (the kernel's `memparse` then reads 0: the default).
    public var coherentPool: UInt64? {
        cmdline.split(separator: " ").last { $0.hasPrefix("coherent_pool=") }.flatMap { try? ByteText.size($0.dropFirst(14)) }
    }
}

/// A device as the DMA API sees it.
public struct DeviceSpec: Sendable {
    /// Name (`dev_name`).
    public var name: String
    /// The DMA parameters.
    public var dma: DMADevice
    /// The coherent allocations its driver made while probing at boot (`boot_coherent`), in
    /// the order made: each goes through `xen_swiotlb_alloc_coherent` before the workload runs.
    public var bootCoherent: [BootCoherentAllocation]
    /// Creates a device.
    public init(name: String, dma: DMADevice, bootCoherent: [BootCoherentAllocation] = []) {
        self.name = name; self.dma = dma; self.bootCoherent = bootCoherent
    }
}

/// A coherent allocation a driver made at probe (a virtio ring, say): its pages where the real
/// kernel's page allocator put them, which no model of Linux's allocator can predict, and its
/// size. The model exchanges them as xen-swiotlb does (`xen_swiotlb_alloc_coherent`).
public struct BootCoherentAllocation: Sendable, Hashable {
    /// The first pfn (aligned to the allocation's power-of-two pages).
    public var pfn: PFN
    /// The size asked for, in bytes.
    public var size: UInt64
    /// Creates an allocation.
    public init(pfn: PFN, size: UInt64) { self.pfn = pfn; self.size = size }
}

/// What the devices do: several streams run interleaved, one operation at a time.
public struct WorkloadSpec: Sendable {
    /// The random seed.
    public var seed: UInt64
    /// The streams.
    public var streams: [StreamSpec]
    /// The model's clock: each DMA operation (a map, unmap, sync or coherent allocation) takes
    /// this many nanoseconds (`op_time`, default ``defaultOperationNanoseconds``); the kernel's
    /// rate-limited messages are checked against it in jiffies (``KernelRateLimit``).
    public var operationNanoseconds: UInt64
    /// 10 µs an operation (100,000 a second): the order of one bounced map of a few pages.
    public static let defaultOperationNanoseconds: UInt64 = 10_000
    /// Creates a workload.
    public init(seed: UInt64, streams: [StreamSpec], operationNanoseconds: UInt64 = defaultOperationNanoseconds) {
        self.seed = seed; self.streams = streams; self.operationNanoseconds = operationNanoseconds
    }
}

/// One stream of DMA work.
public enum StreamSpec: Sendable {
    /// fio-like block I/O: `ops` requests of `blockSize`, `queueDepth` in flight, a read mix.
    case fio(device: String, blockSize: Int, queueDepth: Int, readPercent: Int, ops: Int)
    /// Network-like: MTU-sized receive/transmit buffers with high churn, `inFlight` outstanding.
    case network(device: String, mtu: Int, inFlight: Int, ops: Int)
    /// Scatter-gather lists of `segments` × `segmentSize`.
    case scatterGather(device: String, segments: Int, segmentSize: Int, queueDepth: Int, ops: Int)
    /// `count` coherent allocations of `size` held for the whole run.
    case coherent(device: String, size: Int, count: Int)
    /// A trace in the replay format, parsed (its `pool` lines are ignored: the pools are the
    /// scenario's; `orig` addresses are the guest's pseudo-physical addresses).
    case trace(device: String, ops: [TraceOp], file: String)

    /// The device the stream drives.
    public var device: String {
        switch self {
        case .fio(let d, _, _, _, _), .network(let d, _, _, _), .scatterGather(let d, _, _, _, _),
            .coherent(let d, _, _), .trace(let d, _, _):
            return d
        }
    }
}

extension StreamSpec {
    /// Buffers the stream maps and their bytes together (the run's cost; see
    /// `ScenarioParser`'s workload limits). The schema's bounds keep each product far below 2^64.
    var mapsAndBytes: (maps: UInt64, bytes: UInt64) {
        switch self {
        case .fio(_, let size, _, _, let ops): return (UInt64(ops), UInt64(ops) * UInt64(size))
        case .network(_, let mtu, _, let ops): return (UInt64(ops), UInt64(ops) * UInt64(mtu + 14))
        case .scatterGather(_, let segments, let size, _, let ops):
            return (UInt64(ops) * UInt64(segments), UInt64(ops) * UInt64(segments) * UInt64(size))
        case .coherent(_, let size, let count): return (UInt64(count), UInt64(count) * UInt64(size))
        case .trace(_, let ops, _):
            return ops.reduce((0, 0)) { acc, op in
                guard case .map(let m) = op else { return acc }
                return (acc.0 + 1, acc.1 + UInt64(m.size))
            }
        }
    }
}

extension Scenario {
    /// This scenario with its guest running `kernel` instead (`xenpv compare --kernel`): the
    /// same host, command line and workload, the command line read as `kernel` reads it. Refused
    /// as the parser refuses a guest the kernel is not modelled for.
    public func running(on kernel: SwiotlbKernel) -> Result<Scenario, ScenarioError> {
        var s = self
        s.guest.kernel = kernel
        if let refusal = s.guest.kernelRefusal {
            return .failure(ScenarioError(file: file, line: fieldLines["guest.kernel"] ?? fieldLines["guest"], path: "guest.kernel", message: refusal))
        }
        return .success(s)
    }
}

extension GuestSpec {
    /// Why the model cannot run this guest on its kernel (TDX sizing, dynamic pools), or nil.
    var kernelRefusal: String? {
        if encryption == .tdx && !kernel.model.encryptedGuestSizing.coversTDX {
            return "\(kernel.rawValue) sizes SEV guests only (sev_setup_arch): a TDX guest needs 6.x"
        }
        if swiotlbDynamic != nil && !kernel.model.traceFields.contains(.dynamicPools) {
            return "\(kernel.rawValue) has no dynamic pools (guest.swiotlb_dynamic: only Linux 6.18's CONFIG_SWIOTLB_DYNAMIC is modelled)"
        }
        return nil
    }
}
