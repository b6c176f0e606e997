/// Why a domU could not be built.
public enum DomUBuildError: Error, Equatable, Sendable {
    /// `populate_physmap` ran out of memory after `populated` pages.
    case outOfMemory(populated: UInt64)
}

extension XenHost {
    /// Pfns per order-0 `populate_physmap` batch in libxenguest's `meminit_pv`.
    public static let domUPopulateBatch: UInt64 = 1 << 20
    /// 2 MiB extents per superpage `populate_physmap` call (`SUPERPAGE_BATCH_SIZE`).
    public static let domUSuperpageBatch: UInt64 = 512

    /// Builds a PV domU's memory as libxenguest's `meminit_pv` (one vNUMA range) does: first
    /// `pages / 512` 2 MiB superpages, `populate_physmap` of order 9 with up to 512 extents a
    /// call, each call keeping what Xen could give; then every pfn left as order-0 pages in
    /// batches of 2^20 pfns, where a shortfall fails the build. The M2P is set by Xen; the P2M
    /// is the list the builder hands the guest. On a host whose free memory is in blocks of
    /// 2 MiB or more this is one P2M run per superpage at most; order-0 pages come from the top
    /// of the heap's blocks downwards, one run each.
    public mutating func buildPVDomU(id: DomID, pages: UInt64, maxPages: UInt64? = nil) throws(DomUBuildError) -> PVDomain {
        addDomain(DomainState(id: id, maxPages: maxPages ?? pages))
        var map = ExtentMap<P2MRun>()
        let superpage: UInt64 = 1 << 9
        var superpagesLeft = pages / superpage
        var pfn: UInt64 = 0
        while superpagesLeft > 0 {
            let count = min(superpagesLeft, Self.domUSuperpageBatch)
            superpagesLeft -= count
            let gpfns = (0..<count).map { PFN(pfn + $0 * superpage) }
            for m in populatePhysmap(id, gpfns: gpfns, order: 9) {
                map.append(start: pfn, count: superpage, value: .machine(base: m))
                pfn += superpage
            }
        }
        while pfn < pages {
            let batch = min(Self.domUPopulateBatch, pages - pfn)
            let gpfns = (pfn..<(pfn + batch)).map { PFN($0) }
            let mfns = populatePhysmap(id, gpfns: gpfns, order: 0)
            for (g, m) in zip(gpfns, mfns) { map.append(start: g.rawValue, count: 1, value: .machine(base: m)) }
            guard mfns.count == gpfns.count else {
                throw .outOfMemory(populated: pfn + UInt64(mfns.count))
            }
            pfn += batch
        }
        return PVDomain(id: id, p2m: GuestP2M(initialList: map.extents, nrPages: pages))
    }

    /// The balloon driver giving `count` pages back (`decrease_reservation` in
    /// drivers/xen/balloon.c): the highest populated pfns go first; their P2M entries become
    /// INVALID and their frames return to Xen. Returns the pfns ballooned out.
    @discardableResult
    public mutating func balloonOut(_ guest: inout PVDomain, count: UInt64) -> [PFN] {
        var taken: [PFN] = []
        var runs = guest.p2m.runs()
        while UInt64(taken.count) < count, let last = runs.popLast() {
            guard case .machine(let base) = last.value else { continue }
            var i = last.count
            while i > 0 && UInt64(taken.count) < count {
                i -= 1
                let pfn = PFN(last.start + i)
                guest.p2m.setRangeWithinList(pfn, count: 1, to: .missing)
                _ = decreaseReservation(guest.id, mfns: [base.advanced(by: i)], order: 0)
                taken.append(pfn)
            }
        }
        return taken
    }

    /// The balloon driver taking pages back (`increase_reservation` in balloon.c): each pfn is
    /// populated with `populate_physmap` (M2P set by Xen) and its P2M entry set. Returns the pfns
    /// that got a frame (fewer when Xen runs out); a pfn beyond the P2M list is the kernel's
    /// BUG, thrown after Xen populated it.
    @discardableResult
    public mutating func balloonIn(_ guest: inout PVDomain, pfns: [PFN]) throws(P2MError) -> [PFN] {
        let mfns = populatePhysmap(guest.id, gpfns: pfns, order: 0)
        for (p, m) in zip(pfns, mfns) { _ = try guest.p2m.setPhysToMachine(p, .machine(m)) }
        return Array(pfns.prefix(mfns.count))
    }
}
