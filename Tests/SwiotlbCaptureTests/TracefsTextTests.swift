import XCTest
import XenMemory

@testable import SwiotlbCapture

final class TracefsTextTests: XCTestCase {
    /// Lines in the form a 6.1.192 dom0 printed them (the header and the columns of its
    /// `trace`, a task name with spaces and brackets, the `LOST` line of trace_pipe).
    func testLines() throws {
        var t = TracefsText()
        let text = """
            # tracer: nop
            #
            #           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
                kworker/u4:1-25      [000] ..Zff           11: map: (swiotlb_tbl_map_single+0x5/0x6c0) dev=0xffff888004f390d0 orig=0x6590000 size=4096 alloc=4096 align=0x0 dir=2 attrs=0x0 parms=0xffff888004f39300 min_align=0xfff seg=0xffffffff pool=0xffffffff8331bd00 start=0x2ac00000 nslabs=32768 nareas=2 name="nvme0"
              <idle>-0       [001] d.Z..           14: unmap_unlock0: (swiotlb_tbl_unmap_single+0x158/0x1a0) lock=0xffff88800400000c used=0
               a [1] b-42    [001] d.h1.          900: map_done: (swiotlb_tbl_map_single+0x5fd/0x6c0) tlb=0x2ac04c00
            CPU:1 [LOST 12 EVENTS]
                      dd-137     [000] ..... 901: unmap: (swiotlb_tbl_unmap_single+0x5/0x1a0) dev=0xffff888004f390d0 tlb=0x2ac00000 size=4096 dir=2 attrs=0x0 name=(fault)
            """
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) { try t.read(line) }
        XCTAssertEqual(t.lostEvents, 12)
        XCTAssertEqual(t.events.map(\.kind), [.map, .unmapUnlock, .mapDone, .unmap])
        XCTAssertEqual(t.events.map(\.counter), [11, 14, 900, 901])
        XCTAssertEqual(t.events.map(\.cpu), [0, 1, 1, 0])
        let m = t.events[0]
        XCTAssertEqual(
            [
                m.device, m.original.rawValue, m.size, m.alloc, m.direction, m.dmaParms, m.minAlign, m.segmentBoundary, m.poolStart.rawValue, m.poolNslabs,
                m.poolAreas,
            ],
            [0xffff_8880_04f3_90d0, 0x659_0000, 4096, 4096, 2, 0xffff_8880_04f3_9300, 0xfff, 0xffff_ffff, 0x2ac0_0000, 32768, 2])
        XCTAssertEqual(m.deviceName, "nvme0")
        XCTAssertEqual(t.events[1].lock, 0xffff_8880_0400_000c)
        XCTAssertEqual(t.events[2].tlb, PhysicalAddress(0x2ac0_4c00))
        XCTAssertNil(t.events[3].deviceName)
    }

    func testRefusals() {
        func refusal(_ line: String) -> String {
            var t = TracefsText()
            do { try t.read(Substring(line)); return "accepted" } catch { return error.description }
        }
        XCTAssertEqual(
            refusal("  dd-1 [000] ..... 12.345678: map: (x) dev=0x1"),
            "line 1: timestamp '12.345678' is not the counter clock's integer (the capture sets trace_clock to counter)")
        XCTAssertEqual(refusal("  dd-1 [000] ..... 12: bounce: (x) dev=0x1"), "line 1: 'bounce' is not an event of the capture")
        XCTAssertEqual(
            refusal("  dd-1 [000] ..... 12: map: (x) dev=0x12345678901234567"), "line 1: dev: expected 0x and at most 16 hex digits, got '0x12345678901234567'")
        XCTAssertEqual(refusal("  dd-1 [000] ..... 12: map: (x) colour=1"), "line 1: unknown field 'colour'")
        XCTAssertEqual(refusal("  dd-1 [000] ..... 12: map: (x) name=nvme0"), "line 1: name: expected a quoted device name, got 'nvme0'")
        XCTAssertEqual(refusal("hello"), "line 1: expected '<task>-<pid> [<cpu>] <flags> <counter>: <event>: …', got 'hello'")
        XCTAssertEqual(refusal(String(repeating: "x", count: 5000)), "line 1: longer than 4096 bytes: not tracefs event text")
        // Quoted as every refusal quotes a token (ErrorToken): control characters as \u{…},
        // at most 80 bytes and `…` after a cut.
        XCTAssertEqual(refusal("hel\u{1}lo\u{7f}"), "line 1: expected '<task>-<pid> [<cpu>] <flags> <counter>: <event>: …', got 'hel\\u{1}lo\\u{7f}'")
        XCTAssertEqual(
            refusal(String(repeating: "y", count: 100)),
            "line 1: expected '<task>-<pid> [<cpu>] <flags> <counter>: <event>: …', got '\(String(repeating: "y", count: 80))…'")
        XCTAssertEqual(
            refusal("  dd-1 [000] ..... 12: map: (x) " + String(repeating: "k", count: 90) + "=1"),
            "line 1: unknown field '\(String(repeating: "k", count: 80))…'")
    }
}
