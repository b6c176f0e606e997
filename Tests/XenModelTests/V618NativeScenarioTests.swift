import Swiotlb
import Testing
import XenMemory
import XenPVTestSupport

@testable import XenModel

/// 6.18 native and confidential guests as scenarios: `memory_encryption: sev|tdx`,
/// `swiotlb_dynamic`, and what the run reports of the dynamic pools.
@Suite("6.18 native scenarios")
struct V618NativeScenarioTests {
    static func scenario(_ guest: String) -> String {
        "schema: 1\nhost: {ram: 2G}\nguest: \(guest)\ndevices: [{name: v, dma_bits: 64}]\nworkload: {streams: [{fio: {device: v, ops: 100}}]}"
    }

    static let refused: [(String, String)] = [
        (
            scenario("{type: native, memory: 2G, memory_encryption: tdx}"),
            "s.yaml:3: guest.memory_encryption: v5.11 sizes SEV guests only (sev_setup_arch): a TDX guest needs 6.x"
        ),
        (
            scenario("{type: native, kernel: v6.18, memory: 2G, memory_encryption: snp}"),
            "s.yaml:3: guest.memory_encryption: expected none, sev or tdx, got 'snp'"
        ),
        (
            scenario("{type: native, kernel: rfc-v1, memory: 2G, swiotlb_dynamic: {start: 0x40000000, end: 0x40400000}}"),
            "s.yaml:3: guest.kernel: rfc-v1 has no dynamic pools (guest.swiotlb_dynamic: only Linux 6.18's CONFIG_SWIOTLB_DYNAMIC is modelled)"
        ),
        (
            scenario("{type: native, kernel: v6.18, memory: 2G, swiotlb_dynamic: {start: 0x40000800, end: 0x40400000}}"),
            "s.yaml:3: guest.swiotlb_dynamic: start and end must be page aligned"
        ),
        (
            scenario("{type: native, kernel: v6.18, memory: 2G, swiotlb_dynamic: {start: 0x40400000, end: 0x40000000}}"),
            "s.yaml:3: guest.swiotlb_dynamic.end: end must be above start"
        ),
    ]

    @Test("TDX on v5.11, an unknown encryption, dynamic pools on a kernel without them, bad ranges: refused", arguments: refused)
    func refusals(text: String, message: String) {
        #expect(errorMessage { try ScenarioParser.parse(text, file: "s.yaml") } == message)
    }

    @Test("a PV guest with swiotlb_dynamic runs: can_grow false (xen_swiotlb_fixup is a remap callback), no pool added, misses fail")
    func pvNeverGrows() throws {
        let text =
            "schema: 1\nhost: {ram: 2G}\nguest: {type: pv-domu, kernel: v6.18, memory: 1G, cmdline: \"swiotlb=512,force\", swiotlb_dynamic: {start: 0x30000000, end: 0x30400000}}\n"
            + "devices: [{name: v, dma_bits: 64}]\nworkload: {streams: [{fio: {device: v, block_size: 64K, queue_depth: 64, ops: 200}}]}"
        let r = WorkloadRunner.run(try ScenarioParser.parse(text, file: "s.yaml"))
        #expect(r.boot.failure == nil)
        let d = try #require(r.dynamicPools)
        #expect(!d.canGrow && d.grown.isEmpty && d.transientMaps == 0)
        // 512 slots (1 MiB) hold 32 maps of 64 KiB: the rest of the queue fails, as without dynamic pools.
        #expect(r.devices[0].failed > 0 && r.pools.map(\.nslabs) == [512])
        let files = Dictionary(uniqueKeysWithValues: r.debugfs.map { ($0.file, $0.value) })
        #expect(files["io_tlb_nslabs"] == 512 && files["io_tlb_transient_nslabs"] == 0)
        #expect(TextReport.render(r).contains { $0.hasPrefix("never grows: swiotlb_init_remap was given a remap callback (xen_swiotlb_fixup)") })
    }

    @Test("a dynamic range that is not free guest RAM is refused after the boot, naming the field")
    func dynamicRangeNotRAM() throws {
        let s = try ScenarioParser.parse(
            Self.scenario("{type: native, kernel: v6.18, memory: 2G, swiotlb_dynamic: {start: 0x7ff00000, end: 0x80100000}}"), file: "s.yaml")
        let r = WorkloadRunner.run(s)
        #expect(r.boot.failure?.description == "guest.swiotlb_dynamic: 0x7ff00000-0x80100000 is not free guest RAM (the first MiB, a hole or early_reserved)")
    }

    @Test("a SEV guest on v6.18 runs: 6.18's lines, forced bouncing, debugfs with io_tlb_used_hiwater")
    func sevRuns() throws {
        let s = try ScenarioParser.parse(Self.scenario("{type: native, kernel: v6.18, memory: 2G, cpus: 2, memory_encryption: sev}"), file: "s.yaml")
        let r = WorkloadRunner.run(s)
        #expect(r.boot.failure == nil)
        #expect(r.boot.kernelLog.contains("software IO TLB: SWIOTLB bounce buffer size adjusted to 122MB"))
        #expect(r.boot.kernelLog.contains("Memory Encryption Features active: AMD SEV"))
        #expect(r.devices[0].bounced == 100 && r.devices[0].direct == 0)
        // 62976 slots adjusted, then swiotlb_adjust_nareas(2) rounds them up to a power of two.
        #expect(r.boot.kernelLog.contains("software IO TLB: SWIOTLB bounce buffer size roundup to 128MB"))
        #expect(r.pools.map(\.nslabs) == [65536] && r.pools[0].areas == 2)
        #expect(r.debugfs.map(\.file) == ["io_tlb_nslabs", "io_tlb_used", "io_tlb_used_hiwater"] && r.dynamicPools == nil)
    }

    @Test(
        "workload.op_time sets the clock: at 100 ms an operation each interval of 1250 jiffies prints at most 10 lines, after its 'callbacks suppressed' line")
    func operationTime() throws {
        let text = try readText("\(examplesDirectory)/v618-tdx-guest.yaml").replacingOccurrences(of: "  seed: 3\n", with: "  seed: 3\n  op_time: 100ms\n")
        let s = try ScenarioParser.parse(text, file: "t.yaml")
        #expect(s.workload.operationNanoseconds == 100_000_000)
        let r = WorkloadRunner.run(s)
        let p = "software IO TLB: Failed to allocate new pool"
        // After the first 10, each suppressed line is followed by the next interval's first line.
        #expect(Array(r.messages[1...10]) == Array(repeating: p, count: 10))
        #expect(r.messages[11].hasPrefix("swiotlb_dyn_alloc: ") && r.messages[11].hasSuffix(" callbacks suppressed") && r.messages[12] == p)
        #expect(r.suppressedMessages > 0)
        #expect(
            errorMessage { try ScenarioParser.parse(text.replacingOccurrences(of: "op_time: 100ms", with: "op_time: 2s"), file: "t.yaml") }
                == "t.yaml:24: workload.op_time: expected a duration like 10us, 2ms or 500ns of at most 1s, got '2s'")
    }

    @Test("docs/examples/v618-tdx-guest.yaml: the worker's pools (1024, then halved to 512 slots), transient pools, 'Failed to allocate new pool'")
    func tdxExample() throws {
        let r = WorkloadRunner.run(try example("v618-tdx-guest.yaml"))
        #expect(r.boot.failure == nil && r.kernelBug == nil)
        #expect(r.devices[0].failed == 0 && r.devices[0].bounced == 4000)
        let d = try #require(r.dynamicPools)
        #expect(d.memory == PhysicalAddress(0x4000_0000)..<PhysicalAddress(0x4040_0000))
        // Transient pools come from the DMA atomic pools (a TDX guest): 2 GiB less the early
        // allocations is 1-2 GiB of totalram_pages, so 33-63 pages, get_order → 64 (256 KiB) each.
        #expect(
            r.boot.kernelLog.filter { $0.hasPrefix("DMA: ") }
                == ["GFP_KERNEL", "GFP_KERNEL|GFP_DMA", "GFP_KERNEL|GFP_DMA32"].map {
                    "DMA: preallocated 256 KiB \($0) pool for atomic allocations"
                })
        // The first worker runs before anything else takes the range: its 1024 slots (2 MiB) at its
        // start; the atomic pools then grow from the next 256 KiB blocks (0x40200000 up), so the
        // second worker finds no free 2 MiB block and takes 512 slots at the free 1 MiB at 0x40300000.
        #expect(
            d.grown.map(\.start) == [PhysicalAddress(0x4000_0000), PhysicalAddress(0x4030_0000)] && d.grown.map(\.nslabs) == [1024, 512]
                && d.grown.map(\.areas) == [4, 4])
        // The first map's pr_warn_once, then the worker's pr_warn_ratelimited: 8000 operations of
        // 10 µs are 80 ms, one interval of DEFAULT_RATELIMIT_BURST (10) lines; every miss after
        // the two grown pools is a failed worker (655), the rest held back.
        let p = "software IO TLB: "
        #expect(
            r.messages == [p + "Memory encryption is active and system is using DMA bounce buffers"]
                + Array(repeating: p + "Failed to allocate new pool", count: 10))
        #expect(r.suppressedMessages == d.transientMaps - d.grown.count - KernelRateLimit.burst)
        let files = Dictionary(uniqueKeysWithValues: r.debugfs.map { ($0.file, $0.value) })
        // io_tlb_nslabs: the boot pool and the grown ones (1024 + 1024 + 512); transient pools not.
        #expect(files["io_tlb_nslabs"] == 2560 && files["io_tlb_used"] == 0 && files["io_tlb_transient_nslabs"] == 0)
        #expect(files["io_tlb_used_hiwater"] == 3072)
        #expect(d.transientMaps == 657 && d.peakTransientSlots == 512)
        let text = TextReport.render(r).joined(separator: "\n")
        #expect(text.contains("grown start=0x40000000 nslabs=1024 areas=4 peak used=1024 final used=0"))
        #expect(text.contains("transient pools: 657 maps, at most 512 slots at once"))
        // The JSON member, without the layout's spaces and line breaks.
        let json = String(JSONReport.render(r).filter { $0 != " " && $0 != "\n" })
        #expect(
            json.contains(
                #""dynamic_pools":{"memory_start":1073741824,"memory_end":1077936128,"can_grow":true,"grown":[{"start":1073741824,"nslabs":1024,"areas":4,"peak_used":1024,"final_used":0},{"start":1076887552,"nslabs":512,"areas":4,"peak_used":512,"final_used":0}],"transient_maps":657,"peak_transient_slots":512}"#
            ))
    }
}
