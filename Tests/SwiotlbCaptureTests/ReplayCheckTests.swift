import Swiotlb
import XCTest

@testable import SwiotlbCapture

final class ReplayCheckTests: XCTestCase {
    private func check(_ lines: [String]) throws -> [String] {
        var c = ReplayCheck(kernel: .v6_1)
        for (i, l) in lines.enumerated() {
            var bytes = Array(l.utf8)
            try bytes.withUnsafeMutableBufferPointer { b in try c.feed(bytes: UnsafeBufferPointer(b), line: i + 1) }
        }
        return c.summary
    }

    /// The trace format's example under v6.1 (a at slot 0, 3 slots; b at slot 3, 2 slots).
    func testIdentical() throws {
        XCTAssertEqual(
            try check([
                "pool nslabs=256 start=0xbbfdb000",
                "map id=a orig=0x1000 size=5000 dir=to_device kernel_tlb=0xbbfdb000 kernel_used=3",
                "map id=b orig=0x9000 size=4000 dir=from_device kernel_tlb=0xBBFDC800 kernel_used=5 # a comment kernel_tlb=0x0",
                "unmap id=a kernel_used=2",
                "unmap id=b kernel_used=0",
            ]), ["2 maps, 2/2 bounce addresses and used counts identical"])
    }

    func testFirstDifference() throws {
        XCTAssertEqual(
            try check([
                "pool nslabs=256 start=0xbbfdb000",
                "map id=a orig=0x1000 size=5000 dir=to_device kernel_tlb=0xbbfdb000 kernel_used=3",
                "map id=b orig=0x9000 size=4000 dir=from_device kernel_tlb=0xbbfdd000 kernel_used=5",
                "unmap id=a kernel_used=1",
                "map id=c orig=0x9000 size=4000 dir=from_device kernel_used=5",
            ]),
            [
                "3 maps, 1/3 bounce addresses and used counts identical",
                "first difference: line 3: id=b: kernel tlb=0xbbfdd000, model tlb=0xbbfdc800 (3 differing operations in all)",
            ])
        XCTAssertEqual(
            try check([
                "pool nslabs=128 start=0xbbfdb000",
                "map id=a orig=0x1000 size=262144 dir=to_device kernel_used=0",
                "map id=b orig=0x1000 size=262144 dir=to_device kernel_used=0",
            ]),
            [
                "2 maps, 0/2 bounce addresses and used counts identical",
                "first difference: line 2: id=a: kernel failed (no kernel_tlb=), model tlb=0xbbfdb000; kernel used=0, model used=128 (2 differing operations in all)",
            ])
    }

    /// The trace parser reads `kernel_used=` on maps and unmaps and changes nothing with it.
    func testKernelUsedKey() throws {
        var r = TraceReplayer(kernel: .v6_1)
        XCTAssertEqual(try r.feed("pool nslabs=128 start=0x1000000", line: 1), [])
        XCTAssertEqual(try r.feed("map id=a orig=0x0 size=4096 dir=none kernel_tlb=0x5 kernel_used=99", line: 2), ["map id=a tlb=0x1000000 used=2"])
        XCTAssertThrowsError(try r.feed("sync id=a target=cpu kernel_used=2", line: 3)) {
            XCTAssertEqual(($0 as? TraceError)?.report(file: "t"), "t:3: unknown key: 'kernel_used=2'")
        }
        XCTAssertThrowsError(try r.feed("unmap id=a kernel_used=0x2", line: 4)) {
            XCTAssertEqual(($0 as? TraceError)?.report(file: "t"), "t:4: expected a decimal number: 'kernel_used=0x2'")
        }
        XCTAssertEqual(try r.feed("unmap id=a kernel_used=7", line: 5), ["unmap id=a used=0"])
    }
}
