import Testing
import XenDumps
import XenLive

@testable import XenMemory

@Suite("the live logic on a model backend")
struct LiveLogicTests {
    @Test("host figures and P2M analysis end to end")
    func endToEnd() throws {
        let (host, dom0) = try modelHost()
        let b = ModelBackend(host: host, guests: [dom0])
        let h = try HostSummary(b)
        #expect(h.maxPage == MFN(524253) && h.phys.maxMFN == MFN(524252))
        #expect(h.lines.contains("max_page (M2P entries): 524253 (0x7ffdd); M2P table 4 MiB"))
        #expect(h.freeTotal == host.heap.freePages << 12)
        #expect(try b.domains().map(\.id) == [0])
        let (p, source) = try b.p2m(domain: 0)
        #expect(source == .model && p.size == 196705)
        let s = P2MSummary(p, source: source, m2p: try b.m2p())
        #expect(s.ram == 196608 && s.identity == 97 && s.m2pMismatches == 0)
        #expect(s.below4G == 196608)
        #expect(s.lines[0] == "P2M of domain 0: 196705 entries, from the model")
        #expect(throws: XenLiveError.domainNotFound(9)) { try b.p2m(domain: 9) }
    }

    @Test("the M2P table size is counted in superpages, so no max_page overflows")
    func m2pTableSizeAtTheLimits() throws {
        let (host, dom0) = try modelHost()
        let model = ModelBackend(host: host, guests: [dom0])
        for (maxPage, mib) in [(UInt64(0), UInt64(0)), (1, 2), (1 << 18, 2), ((1 << 18) + 1, 4), (UInt64.max, (UInt64.max >> 18 + 1) * 2)] {
            let s = try HostSummary(MaxPageBackend(model: model, maxPage: MFN(maxPage)))
            #expect(s.lines.contains("max_page (M2P entries): \(maxPage) (\(Hex.plain(maxPage))); M2P table \(mib) MiB"), "\(maxPage)")
        }
    }

    @Test("stale M2P entries are counted and named")
    func staleM2P() throws {
        var (host, dom0) = try modelHost()
        host.m2p.set(MFN(0x70005), count: 1, to: PFN(0x12345))
        let b = ModelBackend(host: host, guests: [dom0])
        let (p, source) = try b.p2m(domain: 0)
        let s = P2MSummary(p, source: source, m2p: try b.m2p())
        #expect(s.m2pMismatches == 1)
        #expect(s.firstMismatches.first.map { [$0.pfn.rawValue, $0.mfn.rawValue, $0.m2p] } == [5, 0x70005, 0x12345])
        _ = dom0
    }

    @Test("without Xen the real backend says why, as a value")
    func notOnXen() {
        do {
            _ = try LibXenBackend()
            Issue.record("opened a Xen interface on a machine without Xen")
        } catch {
            #expect(error == .notOnXen || error == .builtWithoutXen)
            #expect(error.description.hasPrefix("not running on Xen") || error.description.hasPrefix("built without Xen support"))
        }
    }

    @Test("every error says what to do")
    func messages() {
        #expect(XenLiveError.notRoot.description == "permission denied opening /dev/xen/privcmd: run as root in dom0")
        #expect(XenLiveError.domainNotFound(7).description == "no domain 7 on this host (see `xl list`)")
        #expect(XenLiveError.notPV(3).description.hasPrefix("domain 3 is an HVM or PVH guest"))
        #expect(XenLiveError.versionMismatch(operation: "physinfo").description.contains("different versions"))
        #expect(XenLiveError.notControlDomain.description.contains("control domain"))
    }
}

/// The model's backend with another `max_page`, for the figures derived from it.
private struct MaxPageBackend: XenBackend {
    let model: ModelBackend
    let maxPage: MFN
    func physInfo() throws(XenLiveError) -> PhysInfo { try model.physInfo() }
    func maximumRAMPage() throws(XenLiveError) -> MFN { maxPage }
    func machineMemoryMap() throws(XenLiveError) -> HostE820 { try model.machineMemoryMap() }
    func availableHeap(minWidth: Int, maxWidth: Int) throws(XenLiveError) -> UInt64 { try model.availableHeap(minWidth: minWidth, maxWidth: maxWidth) }
    func domains() throws(XenLiveError) -> [LiveDomain] { try model.domains() }
    func m2p() throws(XenLiveError) -> HostM2P { try model.m2p() }
    func p2m(domain: DomID) throws(XenLiveError) -> (P2MDumpContents, P2MSource) { try model.p2m(domain: domain) }
    func hypervisorIdentity() throws(XenLiveError) -> HypervisorIdentity { try model.hypervisorIdentity() }
}
