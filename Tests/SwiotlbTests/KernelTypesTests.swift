import Testing
import XenMemory

@testable import Swiotlb

@Suite("Kernel types: the registry and the operations callers ask of each kernel")
struct KernelTypesTests {
    @Test("the registry maps each name to its type, in --help order; an unknown name is none")
    func registry() {
        #expect(SwiotlbKernel.allCases.map(\.rawValue) == ["v5.11", "rfc-v1", "v6.1", "v6.18"])
        #expect(SwiotlbKernel(rawValue: "v6.1") == .v6_1)
        #expect(SwiotlbKernel(rawValue: "v6.1")?.model.title == "Linux 6.1.192")
        #expect(SwiotlbKernel(rawValue: "v6.6") == nil)
        #expect(SwiotlbKernel.default == .v5_11)
    }

    // 6.1.192 kernel/dma/swiotlb.c swiotlb_max_mapping_size: IO_TLB_SIZE * IO_TLB_SEGSIZE less
    // roundup(min_align_mask, IO_TLB_SIZE) when the device has a mask; v5.11: 256 KiB always.
    @Test(
        "swiotlb_max_mapping_size per kernel and min_align_mask",
        arguments: [
            (SwiotlbKernel.v5_11, UInt64(0), 262_144), (.v5_11, 0xfff, 262_144), (.rfcV1, 0xfff, 262_144),
            (.v6_1, 0, 262_144), (.v6_1, 0x7ff, 260_096), (.v6_1, 0xfff, 258_048), (.v6_1, 0x1fff, 253_952),
            (.v6_1, 0x3ffff, 0),
        ])
    func maxMappingSize(kernel: SwiotlbKernel, minAlign: UInt64, expected: Int) {
        let tlb = SoftwareIOTLB(kernel: kernel, pools: [SlotPool(start: PhysicalAddress(0x100000), nslabs: 128)])
        #expect(tlb.maxMappingSize(for: DMADevice(minAlignMask: minAlign)) == expected)
    }

    // setup_io_tlb_npages: v5.11 <n>[,force|noforce]; the RFC <lo>,<hi>; 6.1 <n>,<areas> and
    // noforce as swiotlb_force_disable (no pool).
    @Test("swiotlb=1024,4,noforce read by each kernel")
    func commandLine() {
        let v511 = SwiotlbCommandLine(parsing: "1024,4,noforce", kernel: .v5_11)
        #expect(v511.nslabs == 1024 && v511.areas == nil && v511.highNslabs == nil && v511.ignored == "4,noforce")
        let rfc = SwiotlbCommandLine(parsing: "1024,4,noforce", kernel: .rfcV1)
        #expect(rfc.nslabs == 1 && rfc.highNslabs == 1 && rfc.force == .noForce)
        let v61 = SwiotlbCommandLine(parsing: "1024,4,noforce", kernel: .v6_1)
        #expect(v61.nslabs == 0 && v61.areas == 4 && v61.force == .noForce)
    }

    // simple_strtoul reads ASCII digits only: a fullwidth digit ends the number.
    @Test("swiotlb=1\u{FF10}24: the number stops at the fullwidth digit")
    func fullwidthDigits() {
        let v511 = SwiotlbCommandLine(parsing: "1\u{FF10}24", kernel: .v5_11)
        #expect(v511.nslabs == 128 && v511.ignored == "\u{FF10}24")
        let hex = SwiotlbCommandLine(parsing: "0x\u{FF11}", kernel: .v5_11)
        #expect(hex.nslabs == 0 && hex.ignored == "x\u{FF11}")
    }

    @Test("a format v2 allocation field a kernel cannot honour is refused naming the kernels that read it")
    func refusedField() {
        var r = TraceReplayer(kernel: .rfcV1)
        #expect(
            throws: TraceError(line: 2, token: "min_align=0xfff", message: "kernel rfc-v1 cannot honour this field (format v2; only v6.1 and v6.18 read it)")
        ) {
            _ = try r.feed("pool nslabs=128 start=0x100000", line: 1)
            _ = try r.feed("map id=a orig=0x1000 size=4096 dir=to_device min_align=0xfff", line: 2)
        }
    }

    @Test("pool names: none on v5.11 and 6.1; the RFC's Low Mem / High Mem; a second v5.11 trace pool is the RFC's")
    func poolNames() {
        #expect(Linux5_11.poolName(index: 0, of: 1, declared: "x") == nil)
        #expect(Linux5_11.poolName(index: 1, of: 2, declared: nil) == "High Mem")
        #expect(RFCv1.poolName(index: 0, of: 1, declared: nil) == "Low Mem")
        #expect(Linux6_1.poolName(index: 0, of: 1, declared: "x") == nil)
    }

    /// The error that stops `trace` under `kernel`.
    static func stop(_ kernel: SwiotlbKernel, _ trace: [String]) -> TraceError? {
        var r = TraceReplayer(kernel: kernel)
        for (i, l) in trace.enumerated() {
            do throws(TraceError) { _ = try r.feed(Substring(l), line: i + 1) } catch { return error }
        }
        return nil
    }

    // The kernel-vectors harness: 1 for input errors, 3 for 6.1.192's endless search, 4 where a
    // BUG_ON fires (here swiotlb_tbl_sync_single's BUG_ON for a sync against DMA_NONE).
    @Test("exit statuses: 1 malformed, 3 the 6.1 hang, 4 a kernel BUG")
    func exitStatuses() throws {
        let bug = try #require(
            Self.stop(
                .v5_11,
                [
                    "pool nslabs=128 start=0x100000", "map id=a orig=0x1000 size=512 dir=none",
                    "sync id=a target=cpu",
                ]))
        #expect(bug.exitStatus == 4 && bug.isKernelBug && !bug.isKernelHang)
        #expect(bug.report(file: "t") == "t:3: kernel BUG: sync for cpu with direction none: 'id=a'")
        let malformed = try #require(Self.stop(.v6_1, ["pool nslabs=128 start=0x100000", "map id=a orig=0xZZ size=512 dir=none"]))
        #expect(malformed.exitStatus == 1 && !malformed.isKernelBug)
        let hang = try #require(
            Self.stop(
                .v6_1,
                [
                    "pool nslabs=128 start=0x1000000", "map id=a orig=0x100000 size=4096 dir=to_device",
                    "map id=b orig=0x200800 size=258048 dir=to_device min_align=0xfff",
                ]))
        #expect(hang.exitStatus == 3 && hang.isKernelHang)
    }
}
