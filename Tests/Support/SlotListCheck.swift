import Swiotlb

extension SlotPool {
    /// Whether the `io_tlb_list` of the segment holding `slot` is the kernel's numbering: each
    /// free slot's entry counts the free slots from it to the next used slot or the segment's end.
    public func segmentListHolds(containing slot: Int) -> Bool {
        let first = slot / IOTLB.segmentSlots * IOTLB.segmentSlots
        var expected: UInt32 = 0
        for i in stride(from: min(first + IOTLB.segmentSlots - 1, nslabs - 1), through: first, by: -1) {
            if list[i] == 0 { expected = 0; continue }
            expected += 1
            if list[i] != expected { return false }
        }
        return true
    }
}
