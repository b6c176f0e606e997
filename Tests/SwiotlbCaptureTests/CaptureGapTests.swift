import SwiotlbCapture
import Testing

@Suite("a capture's gaps")
struct CaptureGapTests {
    @Test("missed hits come before lost events, events without misses are not named, nothing missing is no gap")
    func gaps() {
        let missed: [(event: String, count: UInt64)] = [("map_single", 3), ("unmap_single", 0), ("sync_single", 2)]
        let gap = CaptureGap.of(missed: missed, lostEvents: 7)
        #expect(gap == .missedHits([.init(event: "map_single", count: 3), .init(event: "sync_single", count: 2)]))
        #expect(gap?.description == "5 probe hits missed (map_single 3, sync_single 2): the trace is incomplete")
        #expect(CaptureGap.of(missed: [], lostEvents: 7)?.description == "7 events lost by the ring buffer: the trace is incomplete")
        #expect(CaptureGap.of(missed: [("map_single", 0)], lostEvents: 0) == nil)
    }
}
