import Testing

@testable import XenMemory

@Suite("Xen buddy heap")
struct XenHeapTests {
    /// MFNs 0x100–0x7ff: one block each in zones 9 (0x100 o8), 10 (0x200 o9), 11 (0x400 o10).
    func smallHeap() -> XenHeap {
        var h = XenHeap()
        h.insert(Range(raw: 0x100..<0x800))
        return h
    }

    @Test("init_heap_pages cuts a range into maximal aligned blocks")
    func insertion() {
        let h = smallHeap()
        #expect(h.blocks(zone: 9, order: 8) == [MFN(0x100)])
        #expect(h.blocks(zone: 10, order: 9) == [MFN(0x200)])
        #expect(h.blocks(zone: 11, order: 10) == [MFN(0x400)])
        #expect(h.freePages == 0x700)
        #expect(h.freePagesByZone[9] == 0x100 && h.freePagesByZone[11] == 0x400)
        var odd = XenHeap()
        odd.insert(Range(raw: 0x7f66f..<0x7f680))
        #expect(odd.blocks(zone: 19, order: 0) == [MFN(0x7f66f)])
        #expect(odd.blocks(zone: 19, order: 4) == [MFN(0x7f670)])
    }

    @Test("highest zone first, smallest sufficient order, the top of a split block")
    func highestZoneFirst() {
        var h = smallHeap()
        #expect(h.allocate(order: 0) == MFN(0x7ff))
        // The split left 0x400 o9, 0x600 o8, …, 0x7fe o0 (all dirty: at list tails).
        #expect(h.blocks(zone: 11, order: 9) == [MFN(0x400)])
        #expect(h.blocks(zone: 11, order: 0) == [MFN(0x7fe)])
        #expect(h.allocate(order: 0) == MFN(0x7fe))
        // Address limits pick lower zones: 21 bits = zone 9, 22 bits = zone 10.
        #expect(h.allocate(order: 0, addressBits: 21) == MFN(0x1ff))
        #expect(h.allocate(order: 3, addressBits: 22) == MFN(0x3f8))
        // Nothing below 20 bits (zone 8 and under are empty).
        #expect(h.allocate(order: 0, addressBits: 20) == nil)
        // The first split left 0x780 as the zone-11 order-6 block: taken whole.
        #expect(h.allocate(order: 6) == MFN(0x780))
        #expect(h.freePages == 0x700 - 1 - 1 - 1 - 8 - 64)
    }

    @Test("freeing merges buddies back into the original block")
    func mergeOnFree() {
        var h = smallHeap()
        let a = h.allocate(order: 0)!
        let b = h.allocate(order: 4, addressBits: 22)!
        h.free(a, order: 0, dirty: true)
        h.free(b, order: 4, dirty: true)
        #expect(h.blocks(zone: 11, order: 10) == [MFN(0x400)])
        #expect(h.blocks(zone: 10, order: 9) == [MFN(0x200)])
        #expect(h.freePages == 0x700)
    }

    @Test("without MEMF_no_scrub a clean block in a lower zone beats dirty ones above")
    func cleanFirst() {
        var h = smallHeap()
        // Make a clean order-6 block in zone 10 whose buddy stays allocated.
        #expect(h.allocate(order: 6, addressBits: 22) == MFN(0x3c0))
        #expect(h.allocate(order: 6, addressBits: 22) == MFN(0x380))
        h.free(MFN(0x3c0), order: 6, dirty: false)
        #expect(h.blocks(zone: 10, order: 6) == [MFN(0x3c0)])
        #expect(h.allocate(order: 6) == MFN(0x3c0))
        // With MEMF_no_scrub the dirty zone-11 block is taken.
        h.free(MFN(0x3c0), order: 6, dirty: false)
        #expect(h.allocate(order: 6, noScrub: true) == MFN(0x7c0))
    }

    @Test("dirty heads rotate to the tail during the clean pass")
    func dirtyRotation() {
        var h = XenHeap()
        // Two separate order-1 blocks in zone 11: 0x400 and 0x408 (no buddies free).
        h.free(MFN(0x400), order: 1, dirty: true)
        h.free(MFN(0x408), order: 1, dirty: true)
        #expect(h.blocks(zone: 11, order: 1) == [MFN(0x400), MFN(0x408)])
        // An order-1 request: the first pass rotates 0x400 to the tail, the second takes 0x408.
        #expect(h.allocate(order: 1) == MFN(0x408))
        #expect(h.blocks(zone: 11, order: 1) == [MFN(0x400)])
    }

    @Test("a DMA zone is used last, and MEMF_no_dma refuses it")
    func dmaZone() {
        var h = XenHeap(dmaBits: 22)
        h.insert(Range(raw: 0x100..<0x800))
        #expect(h.allocate(order: 10) == MFN(0x400))
        #expect(h.allocate(order: 9, noDMA: true) == nil)
        #expect(h.allocate(order: 9) == MFN(0x200))
    }

    @Test("xc_availheap widths")
    func availHeap() {
        let h = smallHeap()
        #expect(h.availableBytes() == 0x700 << 12)
        #expect(h.availableBytes(maxWidth: 22) == 0x300 << 12)
        #expect(h.availableBytes(minWidth: 23) == 0x400 << 12)
    }
}
