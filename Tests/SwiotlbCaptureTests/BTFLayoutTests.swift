import XCTest

@testable import SwiotlbCapture

final class BTFLayoutTests: XCTestCase {
    /// The offsets of Debian's 6.1.192 (read by Scripts/capture-fixtures/trim-btf.py's own
    /// reader from the same bytes, and agreeing with the compiled code: `area->index` at 8 and
    /// `area->used` at 0 in swiotlb_tbl_map_single).
    func testRealKernelOffsets() throws {
        let btf = try BTFLayout(bytes: captureFixture("btf-6.1.192-trimmed.bin"), structs: KprobePlan.Offsets.structs)
        let o = try KprobePlan.Offsets(btf: btf)
        XCTAssertEqual([o.deviceKobj, o.deviceDMAParms, o.deviceIOTLBMem, o.kobjectName], [0, 608, 632, 0])
        XCTAssertEqual([o.minAlignMask, o.segmentBoundaryMask], [4, 8])
        XCTAssertEqual([o.memStart, o.memNslabs, o.memNareas], [0, 24, 52])
        XCTAssertEqual([o.areaUsed, o.areaLock], [0, 12])
        XCTAssertEqual(btf.structures["io_tlb_area"]?.size, 16)
        XCTAssertEqual(btf.structures["device"]?.size, 752)
    }

    /// A blob built here: one struct with a bitfield member (kind_flag), one unwanted struct,
    /// an INT before them (4 extra bytes), and the names.
    func testBuiltBlob() throws {
        var strings: [UInt8] = [0]
        func name(_ s: String) -> UInt32 { let o = UInt32(strings.count); strings += Array(s.utf8) + [0]; return o }
        var types: [UInt8] = []
        func u32(_ v: UInt32) { types += withUnsafeBytes(of: v.littleEndian) { Array($0) } }
        u32(name("int")); u32(1 << 24); u32(4); u32(0x20)  // INT, 4 bytes
        let a = name("io_tlb_area"), used = name("used"), bits = name("flags"), lock = name("lock")
        u32(a); u32(1 << 31 | 4 << 24 | 3); u32(16)  // STRUCT, kind_flag, 3 members
        u32(used); u32(1); u32(0)
        u32(bits); u32(1); u32(3 << 24 | 64)  // a 3-bit field at bit 64: left out
        u32(lock); u32(1); u32(96)
        u32(name("other")); u32(4 << 24 | 1); u32(8); u32(used); u32(1); u32(32)
        var blob: [UInt8] = [0x9f, 0xeb, 1, 0]
        for v in [24, 0, types.count, types.count, strings.count] { blob += withUnsafeBytes(of: UInt32(v).littleEndian) { Array($0) } }
        blob += types + strings
        let btf = try BTFLayout(bytes: blob, structs: ["io_tlb_area"])
        XCTAssertEqual(btf.structures["io_tlb_area"], BTFLayout.Structure(size: 16, members: ["used": 0, "lock": 12]))
        XCTAssertNil(btf.structures["other"])
        XCTAssertThrowsError(try btf.offset("io_tlb_area", "flags")) { XCTAssertEqual("\($0)", "struct io_tlb_area has no member flags in the kernel's BTF") }
        XCTAssertThrowsError(try btf.offset("io_tlb_mem", "start")) { XCTAssertEqual("\($0)", "no struct io_tlb_mem in the kernel's BTF") }

        // Cut short, a wrong magic, an unknown kind: one-line refusals, no trap.
        XCTAssertThrowsError(try BTFLayout(bytes: Array(blob.prefix(40)), structs: [])) {
            XCTAssertEqual("\($0)", "BTF type or string section beyond the blob's 40 bytes")
        }
        XCTAssertThrowsError(try BTFLayout(bytes: [0, 0] + blob.dropFirst(2), structs: [])) {
            XCTAssertEqual("\($0)", "no BTF magic 0xeb9f (little-endian) at the start")
        }
        var unknown = blob
        unknown[24 + 7] = 30  // the INT's kind byte
        XCTAssertThrowsError(try BTFLayout(bytes: unknown, structs: [])) { XCTAssertEqual("\($0)", "unknown BTF kind 30 at byte 24") }
        var unterminated = blob
        unterminated[unterminated.count - 1] = 0x41
        XCTAssertThrowsError(try BTFLayout(bytes: unterminated, structs: ["io_tlb_area"]))
    }
}
