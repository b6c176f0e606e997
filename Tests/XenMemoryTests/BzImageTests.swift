import Testing

@testable import XenMemory

/// How Xen 4.17 sizes dom0's kernel module from the kernel image (`bzimage_headroom`).
@Suite("dom0's kernel image as Xen's boot module")
struct BzImageTests {
    /// The setup header of Debian's linux-image-6.1.0-57-amd64 (6.1.192-3) `vmlinuz`: 8247232
    /// bytes, 39 setup sectors, boot protocol 2.15, payload_offset 0x2cc, payload_length
    /// 0x7befe4 (xz: fd 37 7a 58 5a 00), whose last four bytes give 0x3eda7b4 decompressed.
    static func debianHeader() -> [UInt8] {
        var h = [UInt8](repeating: 0, count: BzImage.headerBytes)
        h[0x1f1] = 39
        h[0x202..<0x206] = ArraySlice("HdrS".utf8)
        h[0x206] = 0x0f; h[0x207] = 0x02
        for (i, b) in [0xcc, 0x02, 0, 0, 0xe4, 0xef, 0x7b, 0].enumerated() { h[0x248 + i] = UInt8(b) }
        return h
    }

    @Test("Debian 6.1.192's xz bzImage: headroom 0x469a000, a 0x4e78-page module, as the default capture's P2M shows below its initrd")
    func debianKernel() throws {
        let layout = try BzImage.layout(header: Self.debianHeader(), fileBytes: 8_247_232)
        #expect(layout == .bzImage(payload: 0x52cc..<0x7c42b0))  // (39 + 1) * 512 + 0x2cc
        let image = try BzImage(fileBytes: 8_247_232, payload: 0x52cc..<0x7c42b0, payloadHead: [0xfd, 0x37], payloadTail: [0xb4, 0xa7, 0xed, 0x03])
        #expect(!image.isGzip)
        #expect(image.decompressedBytes == 0x3eda7b4)
        #expect(image.xenHeadroomBytes == 0x469a000)  // 0x3eda7b4 + 0x7befe4, page-rounded
        #expect(image.xenModulePages == 0x4e78)
        // fixtures/real-xen-default: the initrd at 0x7f66f, the module's first frame at 0x7a7f7.
        #expect(image.xenModuleFrames(belowInitrd: Range(raw: 0x7f66f..<0x7fa00), e820: .qemuPC(ramBytes: 2 << 30))?.raw == 0x7a7f7..<0x7f66f)
        #expect(image.xenModuleFrames(belowInitrd: Range(raw: 0x4000..<0x4100), e820: .qemuPC(ramBytes: 2 << 30)) == nil)
    }

    @Test("gzip adds 8 bytes a 32 KiB block and 32 KiB + 18; an ELF kernel gets no headroom")
    func gzipAndELF() throws {
        let gz = try BzImage(fileBytes: 0x300000, payload: 0x4000..<0x2f0000, payloadHead: [0x1f, 0x8b], payloadTail: [0, 0, 0, 0x01])
        #expect(gz.isGzip)
        #expect(gz.xenHeadroomBytes == 0x1000000 + 0x1000 + 0x9000)  // 0x1000000 + 0x1000 + 0x8012, page-rounded
        #expect(try BzImage.layout(header: [0x7f, 0x45, 0x4c, 0x46, 2], fileBytes: 0x2000001) == .elf)
        #expect(BzImage(elfBytes: 0x2000001).xenModulePages == 0x2001)
    }

    @Test("not a bootable image: one line saying why")
    func refusals() {
        #expect(throws: BzImageError.notAKernel("shorter than a bzImage setup header (592 bytes)")) { try BzImage.layout(header: [1, 2], fileBytes: 2) }
        var h = Self.debianHeader()
        h[0x202] = 0
        #expect(throws: BzImageError.notAKernel("no 'HdrS' at 0x202 and no ELF header")) { try BzImage.layout(header: h, fileBytes: 8_247_232) }
        h = Self.debianHeader()
        h[0x206] = 0x07; h[0x207] = 0x02
        #expect(throws: BzImageError.notAKernel("boot protocol 2.07: Xen needs 2.08 or later")) { try BzImage.layout(header: h, fileBytes: 8_247_232) }
        #expect(throws: BzImageError.notAKernel("its payload (8122340 bytes at 21196) does not lie within its 8000000 bytes")) {
            try BzImage.layout(header: Self.debianHeader(), fileBytes: 8_000_000)
        }
    }
}
