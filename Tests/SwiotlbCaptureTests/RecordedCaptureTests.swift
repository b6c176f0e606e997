import Swiotlb
import XCTest
import XenMemory

@testable import SwiotlbCapture

/// The first 600 probe hits `xenpv swiotlb capture --raw` recorded in a real Xen 4.17 PV dom0
/// (Debian 6.1.192, NVMe and virtio, swiotlb=force; Fixtures/README.md). That capture's probe
/// read the device name one pointer short (fixed since): the names are garbage bytes, which the
/// parser must take and the writer leave out. Counts from `grep -c` on the fixture: 122 `map:`,
/// 121 `map_unlock1:`, 121 `map_done:`, 118 `unmap:`, 118 `unmap_unlock0:` (the last map is cut).
final class RecordedCaptureTests: XCTestCase {
    func testParsePairWriteAndReplay() throws {
        let text = String(decoding: try captureFixture("raw-dom0.txt"), as: UTF8.self)
        var t = TracefsText()
        for line in text.split(separator: "\n") { try t.read(line) }
        XCTAssertEqual(t.events.count, 600)
        XCTAssertEqual(t.lostEvents, 0)
        XCTAssertEqual(t.events.filter { $0.kind == .mapUnlock }.count, 121)
        XCTAssertEqual(Set(t.events.filter { $0.kind == .map }.map { "\($0.poolStart.rawValue) \($0.poolNslabs) \($0.poolAreas)" }), ["717225984 32768 2"])
        let pairing = CapturePairing(events: t.events)
        XCTAssertEqual(pairing.unpaired, 0)
        XCTAssertEqual(pairing.openAtEnd, 1)
        let writer = try CaptureTraceWriter(pairing, context: CaptureTraceWriterTests.context)
        var lines: [String] = []
        let counts = writer.write { lines.append($0) }
        XCTAssertEqual([counts.maps, counts.unmaps, counts.failedMaps, counts.beforeStart], [121, 118, 0, 0])
        XCTAssertFalse(lines.contains { $0.contains(" dev=") })
        var check = ReplayCheck(kernel: .v6_1)
        for (i, l) in lines.enumerated() {
            var bytes = Array(l.utf8)
            try bytes.withUnsafeMutableBufferPointer { try check.feed(bytes: UnsafeBufferPointer($0), line: i + 1) }
        }
        XCTAssertEqual(check.summary, ["121 maps, 121/121 bounce addresses and used counts identical"])
    }
}
