/// What Linux's PV memory set-up (`xen_memory_setup`, `xen_vmalloc_p2m_tree`,
/// `xen_remap_memory` in arch/x86/xen) did to a domain, and what it printed.
public struct PVMemorySetupResult: Sendable {
    /// The pseudo-physical E820 Linux uses (printed as `Xen: [mem ...]`).
    public var e820: GuestE820
    /// Pages given back to Xen because they could not be remapped.
    public var released: UInt64
    /// Pages moved from non-RAM pfns to the extra region beyond them.
    public var remapped: UInt64
    /// Size in bytes of the P2M's virtual area.
    public var p2mAreaBytes: UInt64
    /// The kernel lines, in the order the kernel prints them.
    public var log: [String]
}

/// Linux x86-64 PV memory set-up on top of the P2M the domain builder wrote (Linux 6.1 as
/// Debian ships it; the same steps as v5.11): identity for every non-RAM range and gap below
/// `nr_pages`, the RAM frames that were there queued for the next E820 RAM pfns at or above
/// `nr_pages` (the "extra" region), released to Xen only when no RAM is left to take them.
public enum LinuxPVMemorySetup {
    /// `MAXMEM` on x86-64 with 4-level paging: 64 TiB.
    public static let maxMemPages: UInt64 = (1 << 46) >> Page.shift
    /// `EXTRA_MEM_RATIO`.
    public static let extraMemRatio: UInt64 = 10
    /// `REMAP_SIZE`: remap records per chunk (`P2M_PER_PAGE - 3`).
    public static let remapChunk: UInt64 = 509

    struct RemapRecord { var targetPFN: PFN; var mfns: [MFN] }

    /// Runs the set-up for `domain` (`nrPages` = `start_info.nr_pages`, `maxReservation` =
    /// `XENMEM_maximum_reservation`), with `map` the E820 the domain gets (for dom0 the host's map,
    /// ``E820Map/init(dom0Layout:)``).
    public static func run(
        host: inout XenHost, domain: inout PVDomain, nrPages: UInt64, maxReservation: UInt64,
        map: GuestE820, isInitialDomain: Bool = true,
        hotplugLimitPages: UInt64 = GuestP2M.defaultHotplugLimitPages
    ) -> PVMemorySetupResult {
        let maxPFN = min(maxMemPages, nrPages)
        let memEnd = maxPFN << Page.shift
        var xenE820 = map
        if isInitialDomain {
            xenE820 = GuestE820(
                xenE820.entries.map {
                    var e = $0; if e.type == .unusable { e.type = .ram }; return e
                })
        }
        xenE820 = xenE820.sanitized()

        var maxPages = min(maxReservation, maxMemPages)
        maxPages += remapAreas(xenE820).reduce(0) { acc, a in
            a.lowerBound >= maxPFN ? acc : acc + min(a.upperBound, maxPFN) - a.lowerBound
        }
        var extraPages: UInt64 = maxPages > maxPFN ? maxPages - maxPFN : 0
        extraPages = min(extraMemRatio * min(maxPFN, maxMemPages), extraPages, maxPages &- maxPFN)

        let linuxE820 = pseudoPhysicalE820(xenE820, memEnd: memEnd, extraPages: extraPages, domain: &domain)

        // Identity and remap (xen_foreach_remap_area with xen_set_identity_and_remap_chunk).
        var records: [RemapRecord] = []
        var released: UInt64 = 0
        var remapPFN: UInt64 = 0
        for area in remapAreas(xenE820) {
            remapPFN = identityAndRemap(
                area, nrPages: maxPFN, remapPFN: remapPFN, e820: xenE820,
                host: &host, domain: &domain, records: &records, released: &released)
        }
        var log = ["Released \(released) page(s)", "BIOS-provided physical RAM map:"] + linuxE820.linuxLines

        // xen_pagetable_init: the virtually mapped P2M, then the remap.
        let area = domain.p2m.rebuild(hotplugLimitPages: hotplugLimitPages)
        log.append("p2m virtual area at (____ptrval____), size is \(Hex.digits(area))")
        let remapped = remapMemory(records, host: &host, domain: &domain)
        log.append("Remapped \(remapped) page(s)")
        return PVMemorySetupResult(e820: linuxE820, released: released, remapped: remapped, p2mAreaBytes: area, log: log)
    }

    /// The pseudo-physical E820 `xen_memory_setup` gives Linux: RAM up to `memEnd`, then up to
    /// `extraPages` more as extra memory (added to the P2M, `max_p2m_pfn` raised), the rest of
    /// the RAM dropped, RAM page-rounded inwards, and the legacy `0xa0000`-`0x100000` hole reserved.
    static func pseudoPhysicalE820(_ xenE820: GuestE820, memEnd: UInt64, extraPages: UInt64, domain: inout PVDomain) -> GuestE820 {
        var extraPages = extraPages
        var out: [E820Entry<PhysicalAddress>] = []
        for e in xenE820.entries {
            var addr = e.address.rawValue, size = e.size
            while size > 0 {
                var chunk = size
                var discard = false
                if e.type == .ram {
                    if addr < memEnd {
                        chunk = min(size, memEnd - addr)
                    } else if extraPages > 0 {
                        chunk = min(size, extraPages << Page.shift)
                        let s = (addr + Page.offsetMask) >> Page.shift
                        let n = ((addr + chunk) >> Page.shift) - s
                        extraPages -= n
                        domain.p2m.addExtraMemory(start: PFN(s), count: n)
                        domain.p2m.maxP2MPfn = PFN(s + n)
                    } else {
                        discard = true
                    }
                }
                if !discard {
                    var s = addr, t = addr + chunk
                    if e.type == .ram { s = (s + Page.offsetMask) & ~Page.offsetMask; t &= ~Page.offsetMask }
                    if t > s { out.append(E820Entry(address: PhysicalAddress(s), size: t - s, type: e.type)) }
                }
                addr += chunk
                size -= chunk
            }
        }
        out.append(E820Entry(address: PhysicalAddress(0xa0000), size: 0x60000, type: .reserved))
        return GuestE820(out).sanitized()
    }

    /// `xen_remap_memory` (from `xen_pagetable_init`): each record's frames moved to its target
    /// pfns in the P2M and M2P, the target's extra memory taken off; the pages remapped.
    static func remapMemory(_ records: [RemapRecord], host: inout XenHost, domain: inout PVDomain) -> UInt64 {
        var remapped: UInt64 = 0
        for r in records {
            // Page by page in the kernel; here a stretch of machine-consecutive frames at a time,
            // which leaves both tables exactly as the page-by-page updates would.
            var i = 0
            while i < r.mfns.count {
                var k = 1
                while i + k < r.mfns.count && r.mfns[i + k].rawValue == r.mfns[i].rawValue &+ UInt64(k) { k += 1 }
                let pfn = r.targetPFN.advanced(by: UInt64(i))
                domain.p2m.setPhysToMachine(pfn, count: UInt64(k), machineBase: r.mfns[i])
                host.m2p.set(r.mfns[i], count: UInt64(k), to: pfn)
                remapped += UInt64(k)
                i += k
            }
            domain.p2m.removeExtraMemory(start: r.targetPFN, count: UInt64(r.mfns.count))
        }
        return remapped
    }

    /// The merged non-RAM areas of `xen_foreach_remap_area`: from the end of one RAM entry to the
    /// start of the next (page-rounded outwards), and after the last RAM to the map's end.
    static func remapAreas(_ e820: GuestE820) -> [Range<UInt64>] {
        var areas: [Range<UInt64>] = []
        var start: UInt64 = 0
        for (i, e) in e820.entries.enumerated() where e.type == .ram || i == e820.entries.count - 1 {
            let s = start >> Page.shift
            let t = e.type == .ram ? (e.address.rawValue + Page.offsetMask) >> Page.shift : (e.end.rawValue + Page.offsetMask) >> Page.shift
            if s < t { areas.append(s..<t) }
            start = e.end.rawValue
        }
        return areas
    }

    /// `xen_find_pfn_range`: the next E820 RAM pfn at or after `minPFN` and how many follow it.
    static func findPFNRange(_ minPFN: inout UInt64, e820: GuestE820) -> UInt64 {
        for e in e820.entries where e.type == .ram {
            let ePFN = e.end.rawValue >> Page.shift
            if ePFN <= minPFN { continue }
            let sPFN = (e.address.rawValue + Page.offsetMask) >> Page.shift
            if sPFN <= minPFN { return ePFN - minPFN }
            minPFN = sPFN
            return ePFN - sPFN
        }
        return 0
    }

    /// `xen_set_identity_and_remap_chunk`.
    static func identityAndRemap(
        _ area: Range<UInt64>, nrPages: UInt64, remapPFN start: UInt64, e820: GuestE820,
        host: inout XenHost, domain: inout PVDomain,
        records: inout [RemapRecord], released: inout UInt64
    ) -> UInt64 {
        var remapPFN = start == 0 ? nrPages : start
        let n = UInt64(area.count)
        var i: UInt64 = 0
        while i < n {
            let cur = area.lowerBound + i
            let left = n - i
            var size = left
            if cur >= nrPages {
                domain.p2m.setPhysRangeIdentity(PFN(cur), PFN(cur + size))
                break
            }
            if cur + size > nrPages { size = nrPages - cur }
            let room = findPFNRange(&remapPFN, e820: e820)
            if room == 0 {
                released += identityAndRelease(cur..<(cur + left), nrPages: nrPages, host: &host, domain: &domain)
                break
            }
            size = min(size, room)
            // xen_do_set_identity_and_remap_chunk, REMAP_SIZE records at a time.
            var done: UInt64 = 0
            while done < size {
                let chunk = min(remapChunk, size - done)
                let mfns = domain.p2m.frames(from: PFN(cur + done), count: chunk)
                records.append(RemapRecord(targetPFN: PFN(remapPFN + done), mfns: mfns))
                domain.p2m.setPhysRangeIdentity(PFN(cur + done), PFN(cur + done + chunk))
                done += chunk
            }
            i += size
            remapPFN += size
        }
        return remapPFN
    }

    /// `xen_set_identity_and_release_chunk`: give the frames back with decrease_reservation.
    static func identityAndRelease(_ range: Range<UInt64>, nrPages: UInt64, host: inout XenHost, domain: inout PVDomain) -> UInt64 {
        var released: UInt64 = 0
        let end = min(range.upperBound, nrPages)
        var pfn = range.lowerBound
        while pfn < end {
            let mfn = domain.p2m.pfnToMFN(PFN(pfn))
            if mfn.rawValue != ~0 && domain.p2m.mfnToPFN(mfn, m2p: host.m2p) == PFN(pfn) {
                guard host.decreaseReservation(domain.id, mfns: [mfn], order: 0) == 1 else { break }
                released += 1
                guard domain.p2m.invalidateFast(PFN(pfn)) else { break }
            }
            pfn += 1
        }
        domain.p2m.setPhysRangeIdentity(PFN(range.lowerBound), PFN(range.upperBound))
        return released
    }
}
