import Testing
import XenPVTestSupport

@testable import XenMemory

@Suite("soak: random XENMEM operations on the memory model")
struct MemorySoakTests {
    @Test("populate, decrease, exchange, create/destroy contiguous: P2M/M2P and page counts stay consistent")
    func xenmemSoak() throws {
        let ops = soakCount("XENPV_SOAK_XENMEM_OPS", default: 1_000)
        let checkEvery = soakCount("XENPV_SOAK_CHECK_EVERY", default: 1)
        var host = try XenHost(e820: .qemuPC(ramBytes: 512 << 20))
        var guest = try host.buildPVDomU(id: DomID(1), pages: 4096, maxPages: 16384)
        let total = host.heap.freePages + host.domains[DomID(1)]!.totPages
        var rng = SplitMix64(seed: 99)
        var contiguous: [(PFN, Int)] = []
        for step in 0..<ops {
            switch rng.next() % 5 {
            case 0:
                // The balloon only takes pages above 2048; contiguous regions live below
                // (the kernel never balloons out a page it exchanged for DMA).
                let above = guest.p2m.runs().reduce(UInt64(0)) { acc, r in
                    if case .machine = r.value, r.end > 2048 { return acc + r.end - max(r.start, 2048) }
                    return acc
                }
                let n = min(1 + rng.next() % 16, above)
                let out = host.balloonOut(&guest, count: n)
                #expect(out.allSatisfy { guest.p2m.pfnToMFNWord($0) == .invalid })
            case 1:
                let holes = guest.p2m.runs().filter {
                    if case .missing = $0.value { return true }; return false
                }
                if let h = holes.first { try host.balloonIn(&guest, pfns: (0..<min(h.count, 8)).map { PFN(h.start + $0) }) }
            case 2:
                let order = Int(rng.next() % 7)
                // Parenthesised: in Swift `<<` binds tighter than `%`.
                let start = PFN((rng.next() % (2048 >> order)) << order)
                let end = start.rawValue + (1 << UInt64(order))
                if contiguous.contains(where: { $0.0.rawValue < end && start.rawValue < $0.0.rawValue + (1 << UInt64($0.1)) }) { break }
                let all = (0..<(UInt64(1) << order)).allSatisfy {
                    if case .machine = guest.p2m.pfnToMFNWord(start.advanced(by: $0)).decoded { return true }; return false
                }
                guard all else { break }
                if case .success(let m) = host.createContiguousRegion(
                    &guest, start: start, order: order, addressBits: 24 + Int(rng.next() % 8), maxOrder: XenHost.maxContiguousOrder)
                {
                    #expect(m.mfn.rawValue % (1 << order) == 0)
                    #expect(guest.p2m.isMachineContiguous(start.address, size: Page.size << UInt64(order)))
                    contiguous.append((start, order))
                }
            case 3:
                if !contiguous.isEmpty {
                    let (s, o) = contiguous.remove(at: Int(rng.next() % UInt64(contiguous.count)))
                    host.destroyContiguousRegion(&guest, start: s, order: o, maxOrder: XenHost.maxContiguousOrder)
                }
            default:
                break
            }
            if step % checkEvery == 0 || step == ops - 1 {
                let broken = inconsistency(host, guest, pagesInAll: total)
                #expect(broken == nil, "step \(step): \(broken ?? "")")
            }
        }
    }

    /// What is wrong with the guest's frames, or nil: every machine frame of the guest must
    /// name its pfn back in the M2P and belong to the guest, its RAM must be `tot_pages`, and
    /// heap and guest pages together must stay `pagesInAll` (none lost, none made).
    func inconsistency(_ host: XenHost, _ guest: PVDomain, pagesInAll: UInt64) -> String? {
        var ram: UInt64 = 0
        for run in guest.p2m.runs() {
            guard case .machine(let base) = run.value else { continue }
            ram += run.count
            let m = host.m2p.runs.extents(start: base.rawValue, count: run.count)
            guard m.count == 1 && m[0].value == .pfn(base: PFN(run.start)) && m[0].count == run.count else {
                return "M2P of mfns \(base.rawValue)+\(run.count) is \(m), not pfns from \(run.start)"
            }
            guard host.ownsAll(DomID(1), base, count: run.count) else { return "mfns \(base.rawValue)+\(run.count) not the guest's" }
        }
        let totPages = host.domains[DomID(1)]!.totPages
        if ram != totPages { return "\(ram) pages mapped, tot_pages \(totPages)" }
        if host.heap.freePages + totPages != pagesInAll { return "heap \(host.heap.freePages) + guest \(totPages) != \(pagesInAll)" }
        return nil
    }
}
