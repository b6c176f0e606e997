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
    public var maxMFN: UInt64
    /// Creates the figures.
    public init(cpus: Int, nodes: Int, cpuKHz: Int, totalPages: UInt64, freePages: UInt64, maxMFN: UInt64) {
        self.cpus = cpus; self.nodes = nodes; self.cpuKHz = cpuKHz; self.totalPages = totalPages; self.freePages = freePages; self.maxMFN = maxMFN
    }
}

/// One domain in Xen's list.
public struct LiveDomain: Sendable, Hashable {
    /// The id.
    public var id: UInt32
    /// HVM or PVH (translated).
    public var isHVM: Bool
    /// `tot_pages`.
    public var totPages: UInt64
    /// `max_pages`.
    public var maxPages: UInt64
    /// Creates a record.
    public init(id: UInt32, isHVM: Bool, totPages: UInt64, maxPages: UInt64) {
        self.id = id; self.isHVM = isHVM; self.totPages = totPages; self.maxPages = maxPages
    }
}

/// How a P2M was obtained, and what that way cannot see.
public enum P2MSource: Sendable, Hashable {
    /// The guest's own list, read through its page tables (`arch.p2m_cr3` / `p2m_vaddr`).
    case pageTableWalk(attempts: Int)
    /// Rebuilt from the M2P and an ownership test: identity (MMIO) and foreign (grant) frames
    /// and unpopulated pfns are invisible.
    case m2pInversion
    /// Read from a dump file.
    case dump
    /// From the model.
    case model

    /// A sentence for reports.
    public var note: String {
        switch self {
        case .pageTableWalk(let a): return "read from the guest's P2M list through its page tables (\(a) cop\(a == 1 ? "y" : "ies") until p2m_generation was stable)"
        case .m2pInversion: return "rebuilt from the M2P and an ownership test (getpageframeinfo3): identity, foreign and missing entries are not visible this way"
        case .dump: return "read from an xen-mfndump dump"
        case .model: return "from the model"
        }
    }
}

/// Where the live commands get their facts: real Xen through the shim, or a fake fed with
/// model data (for tests and for running the analyses anywhere).
public protocol XenBackend {
    /// `xc_physinfo`.
    func physInfo() throws(XenLiveError) -> PhysInfo
    /// `XENMEM_maximum_ram_page`.
    func maximumRAMPage() throws(XenLiveError) -> UInt64
    /// The host E820.
    func machineMemoryMap() throws(XenLiveError) -> E820Map
    /// Free heap bytes between address widths (`xc_availheap`).
    func availableHeap(minWidth: Int, maxWidth: Int) throws(XenLiveError) -> UInt64
    /// The domains.
    func domains() throws(XenLiveError) -> [LiveDomain]
    /// The M2P, as runs.
    func m2p() throws(XenLiveError) -> HostM2P
    /// A PV domain's P2M and page types, and how they were obtained.
    func p2m(domain: UInt32) throws(XenLiveError) -> (P2MDumpContents, P2MSource)
}
