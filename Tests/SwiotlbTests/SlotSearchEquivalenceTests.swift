import Testing
import XenMemory
import XenPVTestSupport

@testable import Swiotlb

/// The v5.11 search exactly as `swiotlb_tbl_map_single` writes it: every stride-aligned slot
/// from the aligned cursor, with wrap, until back at the start.
func kernelSearch(_ p: SlotPool, nslots: Int, stride: Int, offsetSlots: UInt64, maxSlots: UInt64) -> Int? {
    if nslots > p.nslabs - p.used { return nil }
    var index = (p.index + stride - 1) / stride * stride
    if index >= p.nslabs { index = 0 }
    let wrap = index
    repeat {
        while ((offsetSlots + UInt64(index)) & (maxSlots - 1)) + UInt64(nslots) > maxSlots {
            index += stride
            if index >= p.nslabs { index = 0 }
            if index == wrap { return nil }
        }
        if p.list[index] >= nslots && index + nslots <= p.nslabs { return index }
        index += stride
        if index >= p.nslabs { index = 0 }
    } while index != wrap
    return nil
}

@Suite("slot search: the skipping search picks the kernel's slot")
struct SlotSearchEquivalenceTests {
    @Test(
        "random maps and unmaps at every occupancy, strides 1 and 2, boundaries, partial pools",
        arguments: [(32768, UInt64(0x7bfd_b000)), (4096, 0x4000_0000), (1000, 0x1000_0000), (300, 0xffff_f000)])
    func sameSlotAsTheKernel(nslabs: Int, start: UInt64) {
        var pool = SlotPool(start: PhysicalAddress(start), nslabs: nslabs)
        var rng = SplitMix64(seed: UInt64(nslabs) &* 7919)
        var live: [(slot: Int, nslots: Int)] = []
        var full = 0, taken = 0
        // Five laps from empty to full and back; one (or a quarter more) under the sanitizers,
        // which scale the soaks down through XENPV_SOAK_OPS: theirs is the code each step runs.
        let steps = max(12_000, min(60_000, 3 * soakCount("XENPV_SOAK_OPS", default: 20_000)))
        for step in 0..<steps {
            // Occupancy wanders between empty and full over the run.
            let phase = step % 12_000
            let target = nslabs * (phase < 6000 ? phase : 12_000 - phase) / 6000
            let used = pool.used
            if live.isEmpty || (used < target ? rng.next() % 4 != 0 : rng.next() % 4 == 0) {
                let sizes = [1, 512, 1500, 2048, 2049, 4096, 8192, 65536, 262_144, 100_000]
                let size = min(sizes[Int(rng.next() % UInt64(sizes.count))], IOTLB.maxMappingSize)
                let nslots = (size + IOTLB.slotSize - 1) >> IOTLB.shift
                let stride = size >= 4096 ? 2 : 1
                let boundary: UInt64 = [UInt64(0xffff_ffff), 0xffff, 0x3_ffff][Int(rng.next() % 3)]
                let tbl = start & boundary
                let offsetSlots = (tbl + 2047) >> 11
                let maxSlots = (boundary + 1 + 2047) >> 11
                let expected = kernelSearch(pool, nslots: nslots, stride: stride, offsetSlots: offsetSlots, maxSlots: maxSlots)
                let got = pool.allocate(
                    nslots: nslots, stride: stride, offsetSlots: offsetSlots, maxSlots: maxSlots,
                    original: PhysicalAddress(0x1_0000_0000 + UInt64(step) << 16))
                #expect(got == expected, "step \(step): \(nslots) slots, stride \(stride), boundary 0x\(String(boundary, radix: 16))")
                if got != expected { return }
                if let got { live.append((got, nslots)); taken += 1 } else { full += 1 }
            } else {
                let m = live.remove(at: Int(rng.next() % UInt64(live.count)))
                pool.release(slot: m.slot, nslots: m.nslots)
            }
            if step % 997 == 0 {
                let bounds = pool.longestRunBound
                for s in 0..<bounds.count {
                    let segment = pool.list[(s * 128)..<min(s * 128 + 128, nslabs)]
                    #expect(bounds[s] >= segment.max() ?? 0, "bound of segment \(s) below its longest run at step \(step)")
                }
            }
        }
        // The run exercised both outcomes.
        #expect(taken > steps / 6 && full > steps / 600)
    }
}
