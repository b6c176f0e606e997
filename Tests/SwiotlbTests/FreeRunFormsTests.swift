import Testing
import XenMemory
import XenPVTestSupport

@testable import Swiotlb

/// v5.11's `io_tlb_list` and `io_tlb_orig_addr` kept literally, entry by entry, with the
/// kernel's own loops: the reference the pool's bitmap forms are checked against.
struct LiteralKernelList {
    var list: [UInt32]
    var orig: [UInt64]
    var index = 0
    var used = 0

    init(nslabs: Int) {
        list = (0..<nslabs).map { UInt32(128 - $0 % 128) }
        orig = Array(repeating: ~0, count: nslabs)
    }

    /// `swiotlb_tbl_map_single`'s search and take, recording `original` slot by slot.
    mutating func allocate(nslots: Int, stride: Int, offsetSlots: UInt64, maxSlots: UInt64, original: UInt64) -> Int? {
        let n = list.count
        if nslots > n - used { return nil }
        var i = (index + stride - 1) / stride * stride
        if i >= n { i = 0 }
        let wrap = i
        repeat {
            if ((offsetSlots + UInt64(i)) & (maxSlots - 1)) + UInt64(nslots) <= maxSlots
                && list[i] >= nslots && i + nslots <= n
            {
                for k in i..<(i + nslots) { list[k] = 0; orig[k] = original &+ UInt64(k - i) * 2048 }
                var count: UInt32 = 0
                var k = i - 1
                while k >= 0 && k % 128 != 127 && list[k] != 0 { count += 1; list[k] = count; k -= 1 }
                index = i + nslots < n ? i + nslots : 0
                used += nslots
                return i
            }
            i += stride
            if i >= n { i = 0 }
        } while i != wrap
        return nil
    }

    /// `swiotlb_tbl_unmap_single`'s release, whatever slots it is given.
    mutating func release(slot: Int, nslots: Int) {
        let segmentEnd = (slot + 128) & ~127
        var count: UInt32 = slot + nslots < segmentEnd && slot + nslots < list.count ? list[slot + nslots] : 0
        var i = slot + nslots - 1
        for k in slot..<(slot + nslots) { orig[k] = ~0 }
        while i >= slot { count &+= 1; list[i] = count; i -= 1 }
        while i >= 0 && i % 128 != 127 && list[i] != 0 { count &+= 1; list[i] = count; i -= 1 }
        used -= nslots
    }
}

@Suite("io_tlb_list and io_tlb_orig_addr: the bitmap forms and the exact forms hold the kernel's tables")
struct FreeRunFormsTests {
    /// What a wrong unmap gives back instead of the mapping it names.
    enum BogusRelease {
        /// Another size from the mapping's first slot (which may cross a segment boundary or
        /// free slots twice).
        case anySize
        /// Slots from anywhere in the mapping, of any size that ends inside its segment: part
        /// of the mapping, or more than it (free slots, the next mappings).
        case insideSegment
    }

    /// Random maps and unmaps on a pool and on the literal tables, compared entry by entry.
    /// `bogusEvery` > 0 makes every so many unmaps give back other slots than the mapping's,
    /// as a wrong trace would.
    func compare(
        nslabs: Int, steps: Int, bogusEvery: Int, bogus kind: BogusRelease = .anySize,
        seed: UInt64
    ) -> (pool: SlotPool, bogus: Int) {
        var pool = SlotPool(start: PhysicalAddress(0x7bfd_b000), nslabs: nslabs)
        var literal = LiteralKernelList(nslabs: nslabs)
        var rng = SplitMix64(seed: seed)
        var live: [(slot: Int, nslots: Int)] = []
        var unmaps = 0, bogus = 0
        for step in 0..<steps {
            let phase = step % 4000
            let target = nslabs * (phase < 2000 ? phase : 4000 - phase) / 2000
            if live.isEmpty || (pool.used < target ? rng.next() % 100 < 80 : rng.next() % 100 < 20) {
                let size = [512, 1500, 2048, 4096, 8192, 65536, 262_144, 262_145, 524_288, 600_000][Int(rng.next() % 10)]
                let nslots = (size + 2047) >> 11
                let stride = size >= 4096 ? 2 : 1
                let maxSlots: UInt64 = [UInt64(1) << 21, 32, 64][Int(rng.next() % 3)]
                let offsetSlots = (0x7bfd_b000 as UInt64 + 2047) >> 11
                let original = 0x1_0000_0000 + UInt64(step) << 17 + rng.next() % 2048
                let expected = literal.allocate(
                    nslots: nslots, stride: stride, offsetSlots: offsetSlots, maxSlots: maxSlots,
                    original: original)
                let got = pool.allocate(
                    nslots: nslots, stride: stride, offsetSlots: offsetSlots, maxSlots: maxSlots,
                    original: PhysicalAddress(original))
                #expect(got == expected, "step \(step): \(nslots) slots")
                if got != expected { return (pool, bogus) }
                if let got { live.append((got, nslots)) }
            } else {
                var m = live.remove(at: Int(rng.next() % UInt64(live.count)))
                unmaps += 1
                if bogusEvery > 0 && unmaps % bogusEvery == 0 {
                    switch kind {
                    case .anySize:
                        m.nslots = min(Int(1 + rng.next() % 160), nslabs - m.slot)
                    case .insideSegment:
                        m.slot += Int(rng.next() % UInt64(m.nslots))
                        let segmentEnd = (m.slot + 128) & ~127
                        m.nslots = Int(1 + rng.next() % UInt64(segmentEnd - m.slot))
                    }
                    bogus += 1
                }
                literal.release(slot: m.slot, nslots: m.nslots)
                pool.release(slot: m.slot, nslots: m.nslots)
            }
            #expect(pool.used == literal.used)
            if step % 16 == 0 || bogusEvery > 0 {
                let list = Array(pool.list)
                if list != literal.list {
                    let first = zip(list, literal.list).enumerated().first { $0.element.0 != $0.element.1 }!.offset
                    Issue.record("step \(step): slot \(first) reads \(list[first]), the kernel's \(literal.list[first])")
                    return (pool, bogus)
                }
                let orig = Array(pool.origAddress)
                if orig != literal.orig {
                    let first = zip(orig, literal.orig).enumerated().first { $0.element.0 != $0.element.1 }!.offset
                    Issue.record("step \(step): slot \(first)'s original address is \(orig[first]), the kernel's \(literal.orig[first])")
                    return (pool, bogus)
                }
            }
        }
        return (pool, bogus)
    }

    @Test("the kernel's own maps and unmaps keep the list canonical: the bitmap form all along")
    func canonicalRun() {
        // Ten occupancy cycles of 4,000 steps; two (or a half more) under the sanitizers, which
        // scale the soaks down through XENPV_SOAK_OPS: theirs is the code each step runs.
        let steps = max(8_000, min(40_000, 2 * soakCount("XENPV_SOAK_OPS", default: 20_000)))
        let (pool, _) = compare(nslabs: 4096, steps: steps, bogusEvery: 0, seed: 0xb17)
        #expect(pool.listIsExact == false)
        #expect(Array(pool.list).count == 4096)
    }

    @Test("releases of sizes the mappings did not have: the pool switches to the exact list and stays the kernel's")
    func bogusReleases() {
        let (pool, bogus) = compare(nslabs: 1024, steps: 12_000, bogusEvery: 7, seed: 0xb06)
        #expect(bogus > 300)
        #expect(pool.listIsExact == true)
    }

    @Test("wrong releases inside one segment (parts of mappings, free slots, several mappings): the bitmap forms all along")
    func bogusReleasesInsideSegments() {
        let (pool, bogus) = compare(nslabs: 1024, steps: 12_000, bogusEvery: 3, bogus: .insideSegment, seed: 0x5e6)
        #expect(bogus > 700)
        #expect(pool.listIsExact == false)
    }

    @Test("a release of the front or the middle of a mapping leaves the rest its original addresses")
    func releaseOfFront() {
        var pool = SlotPool(start: PhysicalAddress(0), nslabs: 256)
        let boundary: UInt64 = 1 << 21
        #expect(pool.allocate(nslots: 8, stride: 1, offsetSlots: 0, maxSlots: boundary, original: PhysicalAddress(0x10_0040)) == 0)
        pool.release(slot: 0, nslots: 3)
        #expect(Array(pool.origAddress[0...8]) == [~0, ~0, ~0, 0x10_1840, 0x10_2040, 0x10_2840, 0x10_3040, 0x10_3840, ~0])
        // Fill the rest of the pool so that the next map takes the freed front, slots 0-2.
        #expect(pool.allocate(nslots: 120, stride: 1, offsetSlots: 0, maxSlots: boundary, original: PhysicalAddress(0x40_0000)) == 8)
        #expect(pool.allocate(nslots: 128, stride: 1, offsetSlots: 0, maxSlots: boundary, original: PhysicalAddress(0x80_0000)) == 128)
        #expect(pool.allocate(nslots: 3, stride: 1, offsetSlots: 0, maxSlots: boundary, original: PhysicalAddress(0x20_0000)) == 0)
        pool.release(slot: 5, nslots: 1)
        #expect(!pool.listIsExact)
        #expect(Array(pool.origAddress[0...8]) == [0x20_0000, 0x20_0800, 0x20_1000, 0x10_1840, 0x10_2040, ~0, 0x10_3040, 0x10_3840, 0x40_0000])
        #expect(Array(pool.list[0...8]) == [0, 0, 0, 0, 0, 1, 0, 0, 0])
    }

    @Test("a release across a segment boundary numbers on past it, as the kernel's loop does")
    func releaseAcrossSegments() {
        var pool = SlotPool(start: PhysicalAddress(0), nslabs: 256)
        #expect(pool.allocate(nslots: 4, stride: 1, offsetSlots: 0, maxSlots: 1 << 21, original: PhysicalAddress(0x1000)) == 0)
        pool.release(slot: 126, nslots: 4)
        // The run ends past segment 0, so the count starts at 0 (slot 130's 126 is not read):
        // 129, 128, 127, 126 get 1, 2, 3, 4, and the free slots before continue 5, 6, … down to
        // the used slot 3. Slots 128 and 129 now say 2 and 1 although 130 on are free.
        #expect(pool.listIsExact)
        #expect(Array(pool.list[124...131]) == [6, 5, 4, 3, 2, 1, 126, 125])
        #expect(pool.list[4] == 126)
    }

    @Test("a pool ending inside a segment keeps the exact list from the start")
    func partialSegment() {
        let pool = SlotPool(start: PhysicalAddress(0), nslabs: 300)
        #expect(pool.listIsExact)
        #expect(pool.list[299] == 128 - 299 % 128)
    }
}
