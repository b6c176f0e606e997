import CXenCtrl
import XenDumps
import XenMemory

/// The real thing: libxenctrl through the read-only C shim.
public final class LibXenBackend: XenBackend {
    private let handle: OpaquePointer

    /// Opens the control interface (quietly: libxc prints nothing itself).
    public init() throws(XenLiveError) {
        guard cxen_available() != 0 else { throw .builtWithoutXen }
        var h: OpaquePointer?
        let rc = cxen_open(&h)
        switch rc {
        case 0: break
        case XenErrno.enoent.rawValue: throw .notOnXen
        case XenErrno.eacces.rawValue, XenErrno.eperm.rawValue: throw .notRoot  // on open
        default: throw .failed(operation: "opening the Xen control interface", errno: rc)
        }
        handle = h!
    }

    deinit { cxen_close(handle) }

    private func check(_ rc: Int32, _ op: String) throws(XenLiveError) {
        if rc != 0 { throw XenLiveError.from(rc, operation: op) }
    }

    /// `xc_physinfo`.
    public func physInfo() throws(XenLiveError) -> PhysInfo {
        var p = cxen_physinfo()
        try check(cxen_get_physinfo(handle, &p), "physinfo")
        return PhysInfo(
            cpus: Int(p.nr_cpus), nodes: Int(p.nr_nodes), cpuKHz: Int(p.cpu_khz),
            totalPages: p.total_pages, freePages: p.free_pages, maxMFN: MFN(p.max_mfn))
    }

    /// `xc_maximum_ram_page`.
    public func maximumRAMPage() throws(XenLiveError) -> MFN {
        var m: UInt64 = 0
        try check(cxen_maximum_ram_page(handle, &m), "maximum_ram_page")
        return MFN(m)
    }

    /// `xc_availheap`.
    public func availableHeap(minWidth: Int, maxWidth: Int) throws(XenLiveError) -> UInt64 {
        var b: UInt64 = 0
        try check(cxen_availheap(handle, Int32(minWidth), Int32(maxWidth), &b), "availheap")
        return b
    }

    /// `xc_version`: version, build id, command line.
    public func hypervisorIdentity() throws(XenLiveError) -> HypervisorIdentity {
        var major: UInt32 = 0, minor: UInt32 = 0
        var extra = [CChar](repeating: 0, count: 64)
        try check(cxen_version(handle, &major, &minor, &extra, extra.count), "version")
        var line = [CChar](repeating: 0, count: 1025)
        try check(cxen_xen_command_line(handle, &line, line.count), "version(commandline)")
        var id = [UInt8](repeating: 0, count: 64)
        var n = 0
        try check(cxen_build_id(handle, &id, id.count, &n), "version(build_id)")
        func text(_ c: [CChar]) -> String { String(decoding: c.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        return HypervisorIdentity(
            version: "\(major).\(minor)\(text(extra))", buildID: id.prefix(n).map { Hex.padded($0, 2) }.joined(),
            commandLine: text(line))
    }

    /// `xc_get_machine_memory_map`.
    public func machineMemoryMap() throws(XenLiveError) -> HostE820 {
        var entries = [cxen_e820](repeating: cxen_e820(), count: 128)
        var n: UInt32 = 0
        try check(cxen_machine_memory_map(handle, &entries, 128, &n), "machine_memory_map")
        return HostE820(
            entries.prefix(Int(n)).compactMap { e in
                E820Type(rawValue: e.type).map { E820Entry(address: MachineAddress(e.addr), size: e.size, type: $0) }
            })
    }

    /// `xc_domain_getinfolist`.
    public func domains() throws(XenLiveError) -> [LiveDomain] {
        var info = [cxen_dominfo](repeating: cxen_dominfo(), count: 1024)
        var n: UInt32 = 0
        try check(cxen_domain_list(handle, &info, 1024, &n), "getdomaininfolist")
        return info.prefix(Int(n)).map {
            LiveDomain(id: DomID(UInt16(truncatingIfNeeded: $0.domid)), isHVM: $0.hvm != 0, totPages: $0.tot_pages, maxPages: $0.max_pages)
        }
    }

    /// `xc_map_m2p` read-only, scanned into runs, unmapped with the right size.
    public func m2p() throws(XenLiveError) -> HostM2P {
        let maxPage = try maximumRAMPage()
        var mapped: UnsafePointer<UInt64>?
        var bytes = 0
        try check(cxen_map_m2p(handle, maxPage.rawValue, &mapped, &bytes), "map M2P")
        defer { cxen_unmap_m2p(mapped, bytes) }
        guard let table = mapped else { throw XenLiveError.failed(operation: "map M2P", errno: XenErrno.efault.rawValue) }
        var runs = ExtentMap<M2PRun>()
        for mfn in 0..<maxPage.rawValue {
            let e = table[Int(mfn)]
            if e != HostM2P.invalidEntry { runs.append(start: mfn, count: 1, value: e == HostM2P.sharedEntry ? .shared : .pfn(base: PFN(e))) }
        }
        var m2p = HostM2P(maxPage: maxPage)
        m2p.replaceRuns(runs)
        return m2p
    }

    /// The guest's P2M through its page tables (DOMID_SELF for dom0, whose own foreign
    /// mappings Xen refuses); for dom0 falls back to rebuilding it from the M2P.
    public func p2m(domain: DomID) throws(XenLiveError) -> (P2MDumpContents, P2MSource) {
        let doms = try domains()
        guard let d = doms.first(where: { $0.id == domain }) else { throw .domainNotFound(domain) }
        guard !d.isHVM else { throw .notPV(domain) }
        var p = cxen_p2m()
        let rc = cxen_read_p2m(handle, UInt32(domain.rawValue), domain == .dom0 ? 1 : 0, &p)
        if rc == 0 {
            defer { cxen_free_p2m(&p) }
            var entries = ExtentMap<P2MRun>(), types = ExtentMap<PageTypeRun>()
            for i in 0..<p.size {
                entries.append(start: i, count: 1, value: P2MRun(word: P2MWord(rawValue: p.p2m[Int(i)]), at: PFN(i)))
                types.append(start: i, count: 1, value: PageTypeRun(UInt8(p.types[Int(i)] & 0xf)))
            }
            return (
                P2MDumpContents(domid: domain, guestWidth: p.guest_width, ptLevels: p.pt_levels, size: p.size, entries: entries, types: types),
                .pageTableWalk(attempts: Int(p.attempts))
            )
        }
        if rc == Int32(CXEN_NO_DOMAIN) { throw .domainNotFound(domain) }
        if rc == 95 { throw .notPV(domain) }
        guard domain == .dom0 else { throw XenLiveError.from(rc, operation: "reading the P2M of domain \(domain.rawValue)") }
        return (try invertM2P(domain: 0), .m2pInversion)
    }

    /// Dom0's P2M rebuilt from the M2P: every RAM frame whose page type says dom0 owns it
    /// (getpageframeinfo3, 1024 frames a call) gives `P2M[m2p[mfn]] = mfn`.
    func invertM2P(domain: DomID) throws(XenLiveError) -> P2MDumpContents {
        let m2p = try m2p()
        var pairs: [(UInt64, UInt64)] = []
        for run in m2p.runs.extents {
            guard case .pfn(let base) = run.value else { continue }
            var frames = (0..<run.count).map { run.start + $0 }
            try check(cxen_pfn_types(handle, UInt32(domain.rawValue), &frames, UInt64(frames.count)), "getpageframeinfo3")
            for (k, t) in frames.enumerated() where t != 0xf { pairs.append((base.rawValue + UInt64(k), run.start + UInt64(k))) }
        }
        pairs.sort { $0.0 < $1.0 }
        var entries = ExtentMap<P2MRun>(), types = ExtentMap<PageTypeRun>()
        var next: UInt64 = 0
        for (pfn, mfn) in pairs where pfn >= next {
            if pfn > next {
                entries.append(start: next, count: pfn - next, value: .missing)
                types.append(start: next, count: pfn - next, value: PageTypeRun(15))
            }
            entries.append(start: pfn, count: 1, value: .machine(base: MFN(mfn)))
            types.append(start: pfn, count: 1, value: PageTypeRun(0))
            next = pfn + 1
        }
        return P2MDumpContents(domid: domain, size: next, entries: entries, types: types)
    }
}
