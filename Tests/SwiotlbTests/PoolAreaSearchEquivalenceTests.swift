import Testing
import XenMemory
import XenPVTestSupport

@testable import Swiotlb

/// Linux 6.18.2's `swiotlb_find_slots` → `swiotlb_search_pool_area` as written (swiotlb.c:1016-1122,
/// 1181-1202, without dynamic pools), on the pool's `io_tlb_list`: the padded size, the masks,
/// the walk from the unaligned cursor that steps by one past a misaligned slot and by `stride`
/// past any other, stopping after `area_nslabs` checked slots. The slot it takes, or nil.
func kernelFindSlots618(_ p: SlotPool, minAlign: UInt64, align: UInt64, orig: UInt64, size: Int, seg: UInt64, cpu: Int) -> Int? {
    let offset = Int(orig & minAlign & (align | 2047))
    let padded = Int((UInt64(size + offset) + align) & ~align)
    let nslots = (padded + 2047) >> 11
    var allocMask = align, iotlbMask = minAlign
    if allocMask == 0 && iotlbMask == 0 && padded >= 4096 { allocMask = 4095 }
    allocMask |= 2047
    iotlbMask &= ~allocMask
    let stride = Int(max(allocMask, iotlbMask) >> 11) + 1
    let tbl = p.start.rawValue & seg
    let maxSlots: UInt64 = seg == ~0 ? 1 << 53 : (seg + 1 + 2047) >> 11
    let shift = (tbl + 2047) >> 11
    let an = p.areaSlots, n = p.areas.count
    for k in 0..<n {
        let a = (cpu + k) & (n - 1)
        if nslots > an - p.areas[a].used { continue }
        var index = p.areas[a].index
        var checked = 0
        while checked < an {
            let slot = a * an + index
            let address = tbl + UInt64(slot) << 11
            if address & allocMask != 0 || (orig != 0 && address & iotlbMask != orig & iotlbMask) {
                index = index + 1 >= an ? 0 : index + 1
                checked += 1
                continue
            }
            if ((shift + UInt64(slot)) & (maxSlots - 1)) + UInt64(nslots) <= maxSlots && p.list[slot] >= nslots
                && slot + nslots <= p.nslabs
            {
                return slot
            }
            index = index + stride >= an ? 0 : index + stride
            checked += stride
        }
    }
    return nil
}

@Suite("6.18 slot search: the model picks the kernel's slot")
struct PoolAreaSearchEquivalenceTests {
    /// Masks whose tested bits are whole slots in a row (the walk's candidates every 2^k slots,
    /// the stride below or at that period) and masks that are not (a hole, the stride above the
    /// period with `orig` 0, alignment inside a slot), over pools whose address puts the first
    /// candidate at every phase.
    @Test(
        "random maps and unmaps over 1, 2 and 4 areas: min_align, align, boundaries, CPUs, orig 0, pool phases",
        arguments: [(1024, 1, UInt64(0x100_0000)), (2048, 2, 0x7bfd_b000), (4096, 4, 0x1003_000), (2048, 2, 0x1007_800)])
    func sameAsTheKernel(nslabs: Int, areas: Int, start: UInt64) throws {
        var t = SoftwareIOTLB(kernel: .v6_18, pools: [SlotPool(start: PhysicalAddress(start), nslabs: nslabs, areas: areas)])
        t.copiesData = false
        var rng = SplitMix64(seed: UInt64(nslabs * areas) ^ start)
        var live: [(tlb: PhysicalAddress, size: Int, minAlign: UInt64)] = []
        var taken = 0, full = 0
        for step in 0..<20_000 {
            let target = nslabs * (step % 4000 < 2000 ? step % 4000 : 4000 - step % 4000) / 2000
            if live.isEmpty || (t.pools[0].used < target ? rng.next() % 4 != 0 : rng.next() % 4 == 0) {
                let sizes = [1, 512, 1500, 2048, 2049, 3584, 4096, 8192, 65536, 200_000]
                let size = sizes[Int(rng.next() % UInt64(sizes.count))]
                let minAlign = [UInt64(0), 0, 0x7ff, 0xfff, 0x1fff, 0x3fff, 0x5fff, 0x3ffff][Int(rng.next() % 8)]
                let align = [UInt64(0), 0, 0, 0xfff, 0x1fff, 0x17ff, 0x3fff, 0x7ffff, 0x3ff][Int(rng.next() % 9)]
                let seg = [UInt64.max, UInt64.max, 0xffff_ffff, 0xffff][Int(rng.next() % 4)]
                let orig = rng.next() % 8 == 0 ? 0 : (rng.next() % 0x4000_0000) & ~0x7
                let cpu = Int(rng.next() % 8)
                let expected = kernelFindSlots618(t.pools[0], minAlign: minAlign, align: align, orig: orig, size: size, seg: seg, cpu: cpu)
                let device = DMADevice(segmentBoundaryMask: seg, minAlignMask: minAlign)
                let what =
                    "step \(step): size \(size) orig 0x\(String(orig, radix: 16)) min_align 0x\(String(minAlign, radix: 16))"
                    + " align 0x\(String(align, radix: 16)) cpu \(cpu)"
                let r = try t.map(
                    device: device, original: PhysicalAddress(orig), mappingSize: size, allocSize: size, direction: .none,
                    attributes: .noWarn, alignMask: align, cpu: cpu)
                switch r {
                case .success(let m):
                    #expect(m.slot == expected, "\(what)")
                    live.append((m.address, size, minAlign)); taken += 1
                case .failure:
                    #expect(expected == nil, "\(what)")
                    full += 1
                }
            } else {
                let m = live.remove(at: Int(rng.next() % UInt64(live.count)))
                try t.unmap(m.tlb, mappingSize: m.size, allocSize: m.size, direction: .none, minAlignMask: m.minAlign)
            }
        }
        #expect(taken > 1000 && full > 10)
    }

    @Test("the stretches of a progression walk: both sides of the wrap, counted as the kernel counts")
    func stretches() {
        // Every other slot from slot 1 of a 16-slot area, stride 2: from cursor 2 the walk checks
        // 3, 5, …, 15 (14 counted), wraps with 2 + 1 more: slot 1 is never checked.
        let odd = AreaProgression(period: 2, phase: 1)
        #expect(odd.stretches(cursor: 2, areaSlots: 16, stride: 2) == (3..<16, 1..<1))
        // From cursor 8 the wrap leaves 16 - (7 + 2 + 1) = 6 slots: 1, 3, 5.
        #expect(odd.stretches(cursor: 8, areaSlots: 16, stride: 2) == (9..<16, 1..<7))
        // From cursor 15 (a candidate): 15 (0 counted), then the wrap (2 + 1): 1, 3, …, 13.
        #expect(odd.stretches(cursor: 15, areaSlots: 16, stride: 2) == (15..<16, 1..<15))
        // Every 4th slot from 3, stride 3: from 3 + 3 the single steps reach 7; at the wrap from
        // 15 the stride step falls at 18 ≥ 16, so 3 + 3 are counted; from cursor 12: 15 (3),
        // wrap (3 + 3 = 9): 3, 7 while under 16.
        let four = AreaProgression(period: 4, phase: 3)
        #expect(four.stretches(cursor: 12, areaSlots: 16, stride: 3) == (15..<16, 3..<11))
        // Past the last candidate the cursor's single steps wrap first: from 14, 2 + 1 counted,
        // then 1, 5, 9, 13.
        let past = AreaProgression(period: 4, phase: 1)
        #expect(past.stretches(cursor: 14, areaSlots: 16, stride: 4) == (16..<16, 1..<16))
    }
}
