import Swiotlb
import Testing
import XenPVTestSupport

@testable import XenModel

/// 6.1.192 native and confidential guests (`NativeAreaPoolSetup`), each value read from Debian's
/// 6.1.192 kernel/dma/swiotlb.c, arch/x86/mm/mem_encrypt.c and mem_encrypt_amd.c.
@Suite("6.1 native scenarios")
struct V61NativeScenarioTests {
    static func scenario(_ guest: String, stream: String = "{fio: {device: v, ops: 100}}") -> String {
        "schema: 1\nhost: {ram: 2G}\nguest: \(guest)\ndevices: [{name: v, dma_bits: 64}]\nworkload: {streams: [\(stream)]}"
    }

    // sev_setup_arch (mem_encrypt_amd.c:219-247): 6 % of 2 GiB less the holes, clamped, through
    // swiotlb_adjust_size (no areas yet: no round-up) → 122MB; swiotlb_init_remap's
    // swiotlb_adjust_nareas(2) then rounds 62976 slots up to 65536 (128MB).
    @Test("a SEV guest on v6.1: sev_setup_arch's 6 %, area num for the CPUs, the round-up, forced bouncing, 6.1's debugfs")
    func sevRuns() throws {
        let r = WorkloadRunner.run(
            try ScenarioParser.parse(Self.scenario("{type: native, kernel: v6.1, memory: 2G, cpus: 2, memory_encryption: sev}"), file: "s.yaml"))
        #expect(r.boot.failure == nil && r.kernelBug == nil)
        let p = "software IO TLB: "
        let log = r.boot.kernelLog
        let wanted = [
            p + "SWIOTLB bounce buffer size adjusted to 122MB", p + "area num 2.", p + "SWIOTLB bounce buffer size roundup to 128MB",
            "Memory Encryption Features active: AMD SEV", "PCI-DMA: Using software bounce buffering for IO (SWIOTLB)",
        ]
        #expect(wanted.allSatisfy { log.contains($0) })
        #expect(log.firstIndex(of: wanted[0])! < log.firstIndex(of: wanted[1])!)
        #expect(r.pools.map(\.nslabs) == [65536] && r.pools[0].areas == 2)
        #expect(r.devices[0].bounced == 100 && r.devices[0].direct == 0)
        #expect(r.debugfs.map(\.file) == ["io_tlb_nslabs", "io_tlb_used"])
        #expect(r.messages.first == p + "Memory encryption is active and system is using DMA bounce buffers")
    }

    // swiotlb=1024,1024,force: 1024 areas raise the pool to 131072 slots (256MB), which a 256 MiB
    // guest cannot hold; halved to 65536. 6.1.192 keeps default_nareas (swiotlb.c:411-412),
    // 6.18 limit_nareas: 65536 / 128 = 512.
    @Test("a halved pool keeps default_nareas on 6.1 (1024 areas of 64 slots), 512 on 6.18")
    func halvedAreas() throws {
        var areas: [String: Int] = [:]
        for kernel in ["v6.1", "v6.18"] {
            let s = try ScenarioParser.parse(
                Self.scenario("{type: native, kernel: \(kernel), memory: 256M, cmdline: \"swiotlb=1024,1024,force\"}", stream: "{fio: {device: v, ops: 10}}"),
                file: "s.yaml")
            let r = WorkloadRunner.run(s)
            #expect(r.boot.kernelLog.contains("software IO TLB: swiotlb_memblock_alloc: Failed to allocate 268435456 bytes tlb structure"))
            #expect(r.boot.kernelLog.contains("software IO TLB: SWIOTLB bounce buffer size adjusted 131072 -> 65536 slabs"))
            #expect(r.pools.map(\.nslabs) == [65536])
            areas[kernel] = r.pools.first?.areas
        }
        #expect(areas == ["v6.1": 1024, "v6.18": 512])
    }

    @Test("dynamic pools on v6.1 are refused (CONFIG_SWIOTLB_DYNAMIC came in 6.6)")
    func noDynamicPools() {
        #expect(
            errorMessage {
                try ScenarioParser.parse(
                    Self.scenario("{type: native, kernel: v6.1, memory: 2G, swiotlb_dynamic: {start: 0x40000000, end: 0x40400000}}"), file: "s.yaml")
            } == "s.yaml:3: guest.kernel: v6.1 has no dynamic pools (guest.swiotlb_dynamic: only Linux 6.18's CONFIG_SWIOTLB_DYNAMIC is modelled)")
    }
}
