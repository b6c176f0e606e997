import XenMemory

/// What `xenpv host` shows: physinfo, the host E820, the M2P's size and free memory by width.
public struct HostSummary: Sendable {
    /// physinfo.
    public var phys: PhysInfo
    /// `max_page`: one past the highest RAM frame, the M2P's length in entries.
    public var maxPage: MFN
    /// The host map.
    public var e820: HostE820
    /// Free heap bytes below 4 GiB, below 1 GiB, and in all.
    public var freeBelow4G: UInt64, freeBelow1G: UInt64, freeTotal: UInt64

    /// Gathers the figures from a backend.
    public init(_ b: XenBackend) throws(XenLiveError) {
        phys = try b.physInfo()
        maxPage = try b.maximumRAMPage()
        e820 = try b.machineMemoryMap()
        freeBelow4G = try b.availableHeap(minWidth: 0, maxWidth: 32)
        freeBelow1G = try b.availableHeap(minWidth: 0, maxWidth: 30)
        freeTotal = try b.availableHeap(minWidth: 0, maxWidth: 0)
    }

    /// The M2P table's size as Xen maps it: 8 bytes an entry in whole 2 MiB superpages (counted
    /// in superpages of 2^18 entries, so that no `max_page` overflows).
    var m2pTableMiB: UInt64 {
        let entriesPerSuperpage: UInt64 = (2 << 20) / 8
        let superpages = maxPage.rawValue / entriesPerSuperpage + (maxPage.rawValue % entriesPerSuperpage == 0 ? 0 : 1)
        return superpages * 2
    }

    /// The report lines (memory in MiB as `xl info` shows it).
    public var lines: [String] {
        var out = [
            "cpus: \(phys.cpus), nodes: \(phys.nodes)\(phys.cpuKHz > 0 ? ", cpu_khz: \(phys.cpuKHz)" : "")",
            "total_memory: \(phys.totalPages >> 8) MiB (\(phys.totalPages) pages)",
            "free_memory: \(phys.freePages >> 8) MiB (\(phys.freePages) pages)",
            "max_mfn (physinfo, inclusive): \(phys.maxMFN)",
            "max_page (M2P entries): \(maxPage.rawValue) (\(Hex.plain(maxPage.rawValue))); M2P table \(m2pTableMiB) MiB",
            "free heap below 1 GiB: \(freeBelow1G >> 20) MiB; below 4 GiB: \(freeBelow4G >> 20) MiB; in all: \(freeTotal >> 20) MiB",
            "host E820:",
        ]
        out += e820.xenLines
        return out
    }
}
