import XCTest
import XenMemory

@testable import SwiotlbCapture

/// Text in the kernel's own formats (include/trace/events/dma.h of 6.18: `TP_printk("%s dir=%s
/// dma_addr=%llx size=%zu phys_addr=%llx attrs=%s", …)`, `__print_array`'s `{0x…,0x…}`;
/// swiotlb.h's `"dev_name: %s dma_mask=%llx dev_addr=%llx size=%zu %s"`), as tracefs `trace`
/// (with the flags column) and `trace-cmd report` (without) print them.
final class TracepointImportTests: XCTestCase {
    let pool = TracepointImport.Pool(start: PhysicalAddress(0x2ac0_0000), nslabs: 32768, areas: 2)

    func testPagesAndScatterLists() throws {
        var i = TracepointImport(pool: pool)
        let text = """
            # tracer: nop
                 kworker/0:1H-62      [000] ..... 12.000001: dma_map_page: 0000:00:03.0 dir=FROM_DEVICE dma_addr=2ac00000 size=4096 phys_addr=6590000 attrs=
                           dd-137     [001]   12.000002: dma_map_page: 0000:00:04.0 dir=TO_DEVICE dma_addr=1234000 size=512 phys_addr=1234000 attrs=
                       <idle>-0       [000] d.h1. 12.000003: dma_unmap_page: 0000:00:03.0 dir=FROM_DEVICE dma_addr=2ac00000 size=4096 attrs=
                           dd-137     [001] ..... 12.000004: dma_map_sg: 0000:00:03.0 dir=TO_DEVICE dma_addrs={0x2ac01000,0x2ac02000} sizes={0x1000,0x200} phys_addrs={0x7000000,0x7001000} attrs=SKIP_CPU_SYNC
                       <idle>-0       [001] d.h1. 12.000005: dma_unmap_sg: 0000:00:03.0 dir=TO_DEVICE phys_addrs={0x7000000,0x7001000} attrs=SKIP_CPU_SYNC
                       <idle>-0       [001] d.h1. 12.000006: dma_unmap_page: 0000:00:03.0 dir=FROM_DEVICE dma_addr=2ac09000 size=4096 attrs=
                           dd-137     [001] ..... 12.000007: swiotlb_bounced: dev_name: 0000:00:03.0 dma_mask=ffffffffffffffff dev_addr=7002000 size=2048 NORMAL
                           dd-137     [001] ..... 12.000008: block_rq_issue: 259,0 R 4096 () 0 + 8 [dd]
            """
        for l in text.split(separator: "\n") { try i.read(l) }
        var out: [String] = []
        i.write(source: "t.txt") { out.append($0) }
        XCTAssertEqual(
            out,
            [
                "# xenpv swiotlb import of t.txt, trace format v2: replay with --kernel v6.1 (no --check: no used counts)",
                "# order: the tracepoints' timestamps, not the allocator's area locks; min_align, seg_mask and failed maps are not in the tracepoints",
                "# 1 maps from swiotlb_bounced: original address and size only (no bounce address, no unmap, no direction)",
                "pool nslabs=32768 start=0x2ac00000 areas=2",
                "map id=m1 orig=0x6590000 size=4096 dir=from_device cpu=0 dev=0000:00:03.0 kernel_tlb=0x2ac00000",
                "unmap id=m1",
                "map id=m2 orig=0x7000000 size=4096 dir=to_device attrs=skip_cpu_sync cpu=1 dev=0000:00:03.0 kernel_tlb=0x2ac01000",
                "map id=m3 orig=0x7001000 size=512 dir=to_device attrs=skip_cpu_sync cpu=1 dev=0000:00:03.0 kernel_tlb=0x2ac02000",
                "unmap id=m2",
                "unmap id=m3",
                "map id=b4 orig=0x7002000 size=2048 dir=bidirectional cpu=1 dev=0000:00:03.0",
            ])
        XCTAssertEqual(i.counts.direct, 1)
        XCTAssertEqual(i.counts.unmatched, 1)
        XCTAssertEqual(i.counts.otherEvents, 1)
    }

    func testRefusals() {
        func refusal(_ line: String) -> String {
            var i = TracepointImport(pool: pool)
            do { try i.read(Substring(line)); return "accepted" } catch { return error.description }
        }
        XCTAssertEqual(
            refusal("  dd-1 [000] ..... 1.5: dma_map_page: 0000:00:03.0 dir=SIDEWAYS dma_addr=2ac00000 size=1 phys_addr=1 attrs="),
            "line 1: dir: expected BIDIRECTIONAL, TO_DEVICE, FROM_DEVICE or NONE, got 'SIDEWAYS'")
        XCTAssertEqual(
            refusal("  dd-1 [000] ..... 1.5: dma_map_page: 0000:00:03.0 dir=NONE dma_addr=2ac00000 size=x phys_addr=1 attrs="),
            "line 1: size: expected a size in bytes, got 'x'")
        XCTAssertEqual(
            refusal("  dd-1 [000] ..... 1.5: dma_map_sg: d dir=NONE dma_addrs={0x2ac00000} sizes={} phys_addrs={0x1} attrs="),
            "line 1: dma_addrs, sizes and phys_addrs do not pair up")
        XCTAssertEqual(
            refusal("  dd-1 [000] ..... 1.5: dma_map_sg: d dir=NONE nents=128/200 ents=128/200 [TRUNCATED] dma_addrs={} sizes={} phys_addrs={} attrs="),
            "line 1: a truncated dma_map_sg event (more than its 128 entries): the map is not whole")
        XCTAssertEqual(refusal("garbage"), "line 1: expected '<task>-<pid> [<cpu>] … <timestamp>: <event>: …', got 'garbage'")
    }

    /// `%llx` fields are 1 to 16 hex digits (`0x` taken too) and `__print_array` entries `0x`
    /// and 1 to 16 digits, read by the one hex reader (`Hex.value`): a sign, an empty field or a
    /// 17th digit is refused.
    func testHexFields() {
        func refusal(_ fields: String, event: String = "dma_map_page") -> String {
            var i = TracepointImport(pool: pool)
            do { try i.read(Substring("  dd-1 [000] ..... 1.5: \(event): 0000:00:03.0 dir=NONE " + fields)); return "accepted" } catch {
                return error.description
            }
        }
        XCTAssertEqual(refusal("dma_addr=2ac00000 size=1 phys_addr=1 attrs="), "accepted")
        XCTAssertEqual(refusal("dma_addr=0x2ac00000 size=1 phys_addr=0xffffffffffffffff attrs="), "accepted")
        XCTAssertEqual(refusal("dma_addr=+1 size=1 phys_addr=1 attrs="), "line 1: dma_addr: expected 1 to 16 hex digits (%llx), got '+1'")
        XCTAssertEqual(refusal("dma_addr= size=1 phys_addr=1 attrs="), "line 1: dma_addr: expected 1 to 16 hex digits (%llx), got ''")
        XCTAssertEqual(refusal("dma_addr=0x size=1 phys_addr=1 attrs="), "line 1: dma_addr: expected 1 to 16 hex digits (%llx), got '0x'")
        XCTAssertEqual(
            refusal("dma_addr=2ac00000 size=1 phys_addr=10000000000000000 attrs="),
            "line 1: phys_addr: expected 1 to 16 hex digits (%llx), got '10000000000000000'")
        XCTAssertEqual(refusal("size=1 phys_addr=1 attrs="), "line 1: missing dma_addr=")
        XCTAssertEqual(
            refusal("dma_addrs={0x2ac00000,0x+1} sizes={0x1,0x1} phys_addrs={0x1,0x2} attrs=", event: "dma_map_sg"),
            "line 1: dma_addrs: expected 0x-hex entries, got '0x+1'")
        XCTAssertEqual(
            refusal("dma_addrs={0x2ac00000} sizes={0x1} phys_addrs={2} attrs=", event: "dma_map_sg"), "line 1: phys_addrs: expected 0x-hex entries, got '2'")
        XCTAssertEqual(
            refusal("dma_addrs={0x00000000000000001} sizes={0x1} phys_addrs={0x1} attrs=", event: "dma_map_sg"),
            "line 1: dma_addrs: expected 0x-hex entries, got '0x00000000000000001'")
    }
}
