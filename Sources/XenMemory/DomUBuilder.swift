/// Why a domU could not be built.
public enum DomUBuildError: Error, Equatable, Sendable {
    /// `populate_physmap` ran out of memory after `populated` pages.
    case outOfMemory(populated: UInt64)
}

extension XenHost {
    /// Pfns per `populate_physmap` batch libxenguest's `meminit_pv` uses.
    public static let domUPopulateBatch: UInt64 = 1 << 20

    /// Builds a PV domU's memory as libxenguest's `meminit_pv` does: `populate_physmap` over
    /// pfns 0 ..< pages in batches of 2^20 pfns, with 2 MiB superpages (order 9) where asked and
    /// possible, order 0 otherwise. The M2P is set by Xen; the P2M is the list the builder hands
    /// the guest.
    public mutating func buildPVDomU(id: DomID, pages: UInt64, maxPages: UInt64? = nil, superpages: Bool = false) throws(DomUBuildError) -> PVDomain {
        addDomain(DomainState(id: id, maxPages: maxPages ?? pages))
        var map = ExtentMap<P2MRun>()
        var pfn: UInt64 = 0
        while pfn < pages {
            let batch = min(Self.domUPopulateBatch, pages - pfn)
            let order = superpages && pfn % 512 == 0 && batch % 512 == 0 ? 9 : 0
            let n: UInt64 = 1 << UInt64(order)
            let gpfns = stride(from: pfn, to: pfn + batch, by: Int(n)).map { PFN($0) }
            let mfns = populatePhysmap(id, gpfns: gpfns, order: order)
            for (g, m) in zip(gpfns, mfns) { map.set(start: g.rawValue, count: n, to: .machine(base: m.rawValue)) }
            guard mfns.count == gpfns.count else {
                throw .outOfMemory(populated: pfn + UInt64(mfns.count) * n)
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
                _ = try? guest.p2m.setPhysToMachine(pfn, .invalid)
                _ = decreaseReservation(guest.id, mfns: [MFN(base + i)], order: 0)
                taken.append(pfn)
            }
        }
        return taken
    }

    /// The balloon driver taking pages back (`increase_reservation` in balloon.c): each pfn is
    /// populated with `populate_physmap` (M2P set by Xen) and its P2M entry set. Returns the pfns
    /// that got a frame (fewer when Xen runs out).
    @discardableResult
    public mutating func balloonIn(_ guest: inout PVDomain, pfns: [PFN]) -> [PFN] {
        let mfns = populatePhysmap(guest.id, gpfns: pfns, order: 0)
        for (p, m) in zip(pfns, mfns) { _ = try? guest.p2m.setPhysToMachine(p, .machine(m)) }
        return Array(pfns.prefix(mfns.count))
    }
}
