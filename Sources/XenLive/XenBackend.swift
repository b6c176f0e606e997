import XenDumps
import XenMemory

/// Host-wide figures (`xc_physinfo`).
public struct PhysInfo: Sendable, Hashable {
    /// Online CPUs.
    public var cpus: Int
    /// Online NUMA nodes.
    public var nodes: Int
    /// CPU clock in kHz.
    public var cpuKHz: Int
    /// Host RAM pages.
    public var totalPages: UInt64
    /// Free pages in Xen's heap.
    public var freePages: UInt64
    /// Inclusive largest possible MFN.
    public var maxMFN: MFN
    /// Creates the figures.
    public init(cpus: Int, nodes: Int, cpuKHz: Int, totalPages: UInt64, freePages: UInt64, maxMFN: MFN) {
        self.cpus = cpus; self.nodes = nodes; self.cpuKHz = cpuKHz; self.totalPages = totalPages; self.freePages = freePages; self.maxMFN = maxMFN
    }
}

/// One domain in Xen's list.
public struct LiveDomain: Sendable, Hashable {
    /// The id.
    public var id: DomID
    /// HVM or PVH (translated).
    public var isHVM: Bool
    /// `tot_pages`.
    public var totPages: UInt64
    /// `max_pages`.
    public var maxPages: UInt64
    /// Creates a record.
    public init(id: DomID, isHVM: Bool, totPages: UInt64, maxPages: UInt64) {
        self.id = id; self.isHVM = isHVM; self.totPages = totPages; self.maxPages = maxPages
    }
}

/// Which hypervisor runs: its version, build id and boot command line.
public struct HypervisorIdentity: Sendable, Hashable {
    /// `4.17.7` (`XENVER_version` and `XENVER_extraversion`).
    public var version: String
    /// The build id in hex (`XENVER_build_id`).
    public var buildID: String
    /// Xen's command line (`XENVER_commandline`).
    public var commandLine: String
    /// Creates an identity.
    public init(version: String, buildID: String, commandLine: String) {
        self.version = version; self.buildID = buildID; self.commandLine = commandLine
    }
}

/// Where the live commands get their facts: real Xen through the shim, or a fake fed with
/// model data (for tests and for running the analyses anywhere).
public protocol XenBackend {
    /// `xc_physinfo`.
    func physInfo() throws(XenLiveError) -> PhysInfo
    /// `XENMEM_maximum_ram_page`: one past the highest RAM frame, the M2P's length.
    func maximumRAMPage() throws(XenLiveError) -> MFN
    /// The host E820.
    func machineMemoryMap() throws(XenLiveError) -> HostE820
    /// Free heap bytes between address widths (`xc_availheap`).
    func availableHeap(minWidth: Int, maxWidth: Int) throws(XenLiveError) -> UInt64
    /// The domains.
    func domains() throws(XenLiveError) -> [LiveDomain]
    /// The M2P, as runs.
    func m2p() throws(XenLiveError) -> HostM2P
    /// A PV domain's P2M and page types, and how they were obtained.
    func p2m(domain: DomID) throws(XenLiveError) -> (P2MDumpContents, P2MSource)
    /// The hypervisor's version, build id and command line.
    func hypervisorIdentity() throws(XenLiveError) -> HypervisorIdentity
}
