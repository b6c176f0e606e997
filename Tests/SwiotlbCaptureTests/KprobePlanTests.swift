import XCTest

@testable import SwiotlbCapture

final class KprobePlanTests: XCTestCase {
    /// The sites found in 6.1.192's code, as objdump shows them (Fixtures/README.md).
    func testSitesInRealCode() throws {
        let unlock: UInt64 = 0xffff_ffff_81a5_9b80, bounce: UInt64 = 0xffff_ffff_8114_46d0
        let map = try captureFixture("code-6.1.192-swiotlb_tbl_map_single.bin")
        let unmap = try captureFixture("code-6.1.192-swiotlb_tbl_unmap_single.bin")
        XCTAssertEqual(CallSites.find(in: map, at: 0xffff_ffff_8114_4ff0, to: unlock), [0x3fe, 0x579])
        XCTAssertEqual(CallSites.find(in: map, at: 0xffff_ffff_8114_4ff0, to: bounce), [0x5fd])
        XCTAssertEqual(CallSites.find(in: unmap, at: 0xffff_ffff_8114_56b0, to: unlock), [0x158])
        XCTAssertEqual(CallSites.find(in: unmap, at: 0xffff_ffff_8114_56b0, to: bounce), [0x18a])
        XCTAssertEqual(CallSites.find(in: [0xe8, 0, 0], at: 0, to: 5), [])
    }

    /// The definitions for 6.1.192: every number from its BTF and code.
    func testDefinitions() throws {
        let btf = try BTFLayout(bytes: captureFixture("btf-6.1.192-trimmed.bin"), structs: KprobePlan.Offsets.structs)
        let plan = KprobePlan(
            offsets: try KprobePlan.Offsets(btf: btf), sites: KprobePlan.Sites(mapUnlocks: [0x3fe, 0x579], mapBounce: 0x5fd, unmapUnlocks: [0x158]))
        XCTAssertEqual(
            plan.definitions,
            [
                "p:xenpv/map swiotlb_tbl_map_single+5 dev=%di:x64 orig=%si:x64 size=%dx:u64 alloc=%cx:u64 align=%r8:x32 dir=%r9:u32 attrs=$stack1:x64"
                    + " parms=+608(%di):x64 min_align=+4(+608(%di)):x32 seg=+8(+608(%di)):x64"
                    + " pool=+632(%di):x64 start=+0(+632(%di)):x64 nslabs=+24(+632(%di)):u64 nareas=+52(+632(%di)):u32 name=+0(+0(%di)):string",
                "p:xenpv/map_unlock0 swiotlb_tbl_map_single+1022 lock=%di:x64 used=-12(%di):u64",
                "p:xenpv/map_unlock1 swiotlb_tbl_map_single+1401 lock=%di:x64 used=-12(%di):u64",
                "p:xenpv/map_done swiotlb_tbl_map_single+1533 tlb=%si:x64",
                "p:xenpv/unmap swiotlb_tbl_unmap_single+5 dev=%di:x64 tlb=%si:x64 size=%dx:u64 dir=%cx:u32 attrs=%r8:x64 name=+0(+0(%di)):string",
                "p:xenpv/unmap_unlock0 swiotlb_tbl_unmap_single+344 lock=%di:x64 used=-12(%di):u64",
                "p:xenpv/sync_device swiotlb_sync_single_for_device+5 dev=%di:x64 tlb=%si:x64 size=%dx:u64 dir=%cx:u32",
                "p:xenpv/sync_cpu swiotlb_sync_single_for_cpu+5 dev=%di:x64 tlb=%si:x64 size=%dx:u64 dir=%cx:u32",
            ])
        XCTAssertEqual(plan.eventNames, ["map", "map_unlock0", "map_unlock1", "map_done", "unmap", "unmap_unlock0", "sync_device", "sync_cpu"])
    }
}
