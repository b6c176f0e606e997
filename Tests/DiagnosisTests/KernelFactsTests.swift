import Testing

@testable import Diagnosis

/// The per-kernel facts the verdicts rest on, against the kernels' sources.
@Suite struct KernelFactsTests {
    /// `swiotlb_max_mapping_size`: 262144 up to 5.18; from 5.19 less roundup(min_align_mask, 2048)
    /// (6.1.192 kernel/dma/swiotlb.c:960): NVMe's 4095 → 258048.
    @Test func maxMappingSize() throws {
        let v511 = try #require(DiagnosedKernel("v5.11"))
        let v61 = try #require(DiagnosedKernel("6.1.0-56-amd64"))
        #expect(v511.maxMappingSize(minAlignMask: 0xfff) == 262144)
        #expect(v61.maxMappingSize(minAlignMask: 0) == 262144)
        #expect(v61.maxMappingSize(minAlignMask: 0xfff) == 258048)
        #expect(v61.maxMappingSize(minAlignMask: 0x7ff) == 260096)
        #expect(DiagnosedKernel("5.18")?.maxMappingSize(minAlignMask: 0xfff) == 262144)
        #expect(DiagnosedKernel("5.19.2")?.maxMappingSize(minAlignMask: 0xfff) == 258048)
    }

    @Test func names() {
        #expect(DiagnosedKernel("rfc-v1")?.isRFC == true)
        #expect(DiagnosedKernel("v6.18")?.description == "v6.18")
        #expect(DiagnosedKernel("6.1.0-56-amd64")?.description == "v6.1")
        #expect(DiagnosedKernel("6") == nil)
        #expect(DiagnosedKernel("6.x") == nil)
        #expect(DiagnosedKernel("6.1x") == nil)
        #expect(DiagnosedKernel("v6.1")?.hasAreas == true)
        #expect(DiagnosedKernel("v6.1")?.hasHighWater == false)
        #expect(DiagnosedKernel("v6.6")?.hasHighWater == true)
        #expect(DiagnosedKernel("v6.1")?.searchCanHang == true)
        #expect(DiagnosedKernel("v6.6")?.searchCanHang == false)
    }

    @Test func megabytes() {
        #expect(SizePolicy.megabytes(1280) == "2.5")
        #expect(SizePolicy.megabytes(32768) == "64")
        #expect(SizePolicy.megabytes(128) == "0.25")
        #expect(SizePolicy.megabytes(1) == "0.001953125")
    }
}
