import Testing
import XenMemory
import XenPVTestSupport

@testable import Swiotlb

/// Linux 6.1.192's `swiotlb_find_slots` → `swiotlb_do_find_slots` as written, on the pool's
/// `io_tlb_list`: the slot it takes, or the area whose loop never ends (a search still going
/// after 4 × area_nslabs steps is in a cycle: one that ends does so within area_nslabs).
func kernelFindSlots61(
    _ p: SlotPool, minAlign: UInt64, align: UInt64, orig: UInt64, alloc: Int, seg: UInt64,
    cpu: Int
) -> (slot: Int?, hangArea: Int?) {
    let offset = Int(orig & minAlign & 2047)
    let allocSize = alloc + offset
    let nslots = (allocSize + 2047) >> 11
    let alignMask = align | 2047
    let iotlb = minAlign & ~alignMask
    var stride = Int(iotlb >> 11) + 1
    if allocSize >= 4096 { stride = max(stride, stride << 1) }
    stride = max(stride, Int(alignMask >> 11) + 1)
    let tbl = p.start.rawValue & seg
    let maxSlots: UInt64 = seg == ~0 ? 1 << 53 : (seg + 1 + 2047) >> 11
    let shift = (tbl + 2047) >> 11
    let an = p.areaSlots, n = p.areas.count
    let start = cpu & (n - 1)
    for k in 0..<n {
        let a = (start + k) % n
        if nslots > an - p.areas[a].used { continue }
        let base = a * an
        var index = (p.areas[a].index + stride - 1) & ~(stride - 1)
        if index >= an { index = 0 }
        let wrap = index
        var steps = 0
        repeat {
            steps += 1
            if steps > 4 * an { return (nil, a) }
            let slot = base + index
            if orig != 0 && ((tbl + UInt64(slot) << 11) & iotlb) != (orig & iotlb) {
                index += 1
                if index >= an { index = 0 }
                continue
            }
            if ((shift + UInt64(slot)) & (maxSlots - 1)) + UInt64(nslots) <= maxSlots && p.list[slot] >= nslots { return (slot, nil) }
            index += stride
            if index >= an { index = 0 }
        } while index != wrap
    }
    return (nil, nil)
}

@Suite("6.1 slot search: the model picks the kernel's slot, and hangs where it hangs")
struct AreaSearchEquivalenceTests {
    @Test(
        "random maps and unmaps over 1, 2 and 4 areas: min_align, align, boundaries, CPUs, orig 0",
        arguments: [(1024, 1, UInt64(0x100_0000)), (2048, 2, 0x7bfd_b000), (4096, 4, 0x1003_000)])
    func sameAsTheKernel(nslabs: Int, areas: Int, start: UInt64) throws {
        var t = SoftwareIOTLB(kernel: .v6_1, pools: [SlotPool(start: PhysicalAddress(start), nslabs: nslabs, areas: areas)])
        t.copiesData = false
        var rng = SplitMix64(seed: UInt64(nslabs * areas))
        var live: [(tlb: PhysicalAddress, size: Int, minAlign: UInt64)] = []
        var taken = 0, full = 0, hangs = 0
        for step in 0..<20_000 {
            let target = nslabs * (step % 4000 < 2000 ? step % 4000 : 4000 - step % 4000) / 2000
            if live.isEmpty || (t.pools[0].used < target ? rng.next() % 4 != 0 : rng.next() % 4 == 0) {
                let sizes = [1, 512, 1500, 2048, 2049, 3584, 4096, 8192, 65536, 258_048]
                let size = sizes[Int(rng.next() % UInt64(sizes.count))]
                let minAlign = [UInt64(0), 0, 0xfff, 0x1fff, 0x3fff][Int(rng.next() % 5)]
                let align = [UInt64(0), 0, 0, 0xfff, 0x1fff, 0x17ff][Int(rng.next() % 6)]
                let seg = [UInt64.max, UInt64.max, 0xffff_ffff, 0xffff][Int(rng.next() % 4)]
                let orig = rng.next() % 8 == 0 ? 0 : (rng.next() % 0x4000_0000) & ~0x7
                let cpu = Int(rng.next() % 8)
                let expected = kernelFindSlots61(t.pools[0], minAlign: minAlign, align: align, orig: orig, alloc: size, seg: seg, cpu: cpu)
                let device = DMADevice(segmentBoundaryMask: seg, minAlignMask: minAlign)
                let what = "step \(step): size \(size) min_align 0x\(String(minAlign, radix: 16)) align 0x\(String(align, radix: 16)) cpu \(cpu)"
                do {
                    let r = try t.map(
                        device: device, original: PhysicalAddress(orig), mappingSize: size, allocSize: size, direction: .none,
                        attributes: .noWarn, alignMask: align, cpu: cpu)
                    #expect(expected.hangArea == nil, "\(what): the kernel hangs")
                    switch r {
                    case .success(let m):
                        #expect(m.slot == expected.slot, "\(what)")
                        live.append((m.address, size, minAlign)); taken += 1
                    case .failure:
                        #expect(expected.slot == nil, "\(what)")
                        full += 1
                    }
                } catch {
                    guard case .searchNeverEnds(let area, _) = error else { throw error }
                    #expect(expected.hangArea == area, "\(what)")
                    hangs += 1
                }
            } else {
                let m = live.remove(at: Int(rng.next() % UInt64(live.count)))
                try t.unmap(m.tlb, mappingSize: m.size, allocSize: m.size, direction: .none, minAlignMask: m.minAlign)
            }
        }
        #expect(taken > 1000 && full > 10 && hangs > 10)
        #expect(t.pools[0].freeRunInvariantHolds)
    }
}
