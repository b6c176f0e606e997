import XenDumps
import XenMemory

/// A backend answering from a modelled host and its PV domains: the same analyses run on it
/// as on real Xen (used by tests, and to compare a model with a real host).
public struct ModelBackend: XenBackend {
    /// The host.
    public var host: XenHost
    /// The PV domains by id.
    public var guests: [PVDomain]
    /// What the hypervisor says of itself.
    public var identity: HypervisorIdentity
    /// Creates the backend (the model's hypervisor: Xen 4.17, no build id, no command line).
    public init(host: XenHost, guests: [PVDomain], identity: HypervisorIdentity = HypervisorIdentity(version: "4.17", buildID: "", commandLine: "")) {
        self.host = host; self.guests = guests; self.identity = identity
    }

    /// Figures the model knows.
    public func physInfo() throws(XenLiveError) -> PhysInfo {
        PhysInfo(cpus: 1, nodes: 1, cpuKHz: 0, totalPages: host.e820.ramPages, freePages: host.heap.freePages, maxMFN: host.m2p.physinfoMaxMFN)
    }
    /// `max_page`.
    public func maximumRAMPage() throws(XenLiveError) -> MFN { host.maxPage }
    /// The host map.
    public func machineMemoryMap() throws(XenLiveError) -> HostE820 { host.e820 }
    /// The heap's free bytes by width.
    public func availableHeap(minWidth: Int, maxWidth: Int) throws(XenLiveError) -> UInt64 {
        host.heap.availableBytes(minWidth: minWidth, maxWidth: maxWidth)
    }
    /// The domains (all PV).
    public func domains() throws(XenLiveError) -> [LiveDomain] {
        host.domains.values.sorted { $0.id < $1.id }.map {
            LiveDomain(id: $0.id, isHVM: false, totPages: $0.totPages, maxPages: $0.maxPages)
        }
    }
    /// The M2P.
    public func m2p() throws(XenLiveError) -> HostM2P { host.m2p }
    /// A guest's P2M up to its `max_pfn` hint, as a tool reads it.
    public func p2m(domain: DomID) throws(XenLiveError) -> (P2MDumpContents, P2MSource) {
        guard let g = guests.first(where: { $0.id == domain }) else { throw .domainNotFound(domain) }
        return (P2MDumpContents(domain: g, host: host, size: g.p2m.lastPfnHint.rawValue), .model)
    }
    /// The identity it was given.
    public func hypervisorIdentity() throws(XenLiveError) -> HypervisorIdentity { identity }
}
