import Swiotlb
import Testing
import XenDumps

@testable import Diagnosis

/// The RFC's `swiotlb=65536,1048576,force` on a 6.x PV dom0: 1,048,576 areas, the pool rounded
/// up to 262144 MB and halved until every remap failed — no pool. The line to paste is the RFC's
/// low pool alone, not the default with the same absurd area count.
@Suite("no pool after the RFC's command line on 6.x")
struct RFCFormNoPoolTests {
    @Test("6.18 and 6.1: no-pool names the area reading and recommends swiotlb=65536,force; v5.11 keeps the default")
    func rfcFormWithoutPool() throws {
        for release in ["v6.1", "v6.18"] {
            var e = Evidence(kernel: try #require(DiagnosedKernel(release)), kernelSource: "test")
            e.commandLine = ("console=hvc0 swiotlb=65536,1048576,force", "scenario: guest.cmdline")
            e.noPool = ["boot log: software IO TLB: No low mem"]
            let d = Diagnoser.diagnose(e)
            #expect(d.verdicts.map(\.kind) == [.noPool])
            #expect(
                d.verdicts.first?.explanation.hasSuffix(
                    "\(release) reads swiotlb=65536,1048576,force as 1048576 areas (at least 128 slots each), not the RFC's high pool of 1048576 slots: write the pool's size alone"
                ) == true)
            #expect(d.recommendation?.cmdline == "swiotlb=65536,force")
        }
        var old = Evidence(kernel: try #require(DiagnosedKernel("v5.11")), kernelSource: "test")
        old.commandLine = ("swiotlb=noforce", "cmdline")
        old.noPool = ["boot log: no pool"]
        old.failures = [Evidence.Failure(device: "nvme0", size: 4096, neededSlots: 2, used: 0, total: 0, source: "x")]
        #expect(Diagnoser.diagnose(old).recommendation?.cmdline == "swiotlb=32768")
    }
}

/// 6.18's `oversized` recommendation: the areas of the line to paste, not the pool's own
/// `limit_nareas` count; at least 128 slots per area and a power of two.
@Suite("oversized on 6.18: the recommended line's areas")
struct OversizedAreasTests {
    @Test("the RFC's line halved to 524288 slots in 4096 limited areas: swiotlb=32768,force, not 32768,128")
    func rfcFormHalved() throws {
        var e = Evidence(kernel: try #require(DiagnosedKernel("v6.18")), kernelSource: "test")
        e.commandLine = ("swiotlb=4096,65536,force", "scenario: guest.cmdline")
        e.defaultAreas = 65536  // what the log's `area num 65536.` shows: the command line's count (CPUs unknown)
        e.setupLines = ["boot log:14: software IO TLB: SWIOTLB bounce buffer size roundup to 16384MB"]
        e.allocationFailed = true
        e.pools = [Evidence.Pool(nslabs: 524288, areas: 4096, highWater: 8320, used: 0, source: "swiotlb pool")]
        let d = Diagnoser.diagnose(e)
        #expect(d.verdicts.map(\.kind) == [.cmdlineNotApplied, .oversized])
        // 2 × 8320 = 16640 slots, one area (the form without areas; CPUs unknown), a power of two.
        #expect(d.recommendation?.cmdline == "swiotlb=32768,force")
        #expect(
            d.verdicts.last?.evidence.last
                == "4096 areas: the set-up halved the pool and limit_nareas left one area per 128 slots of it (swiotlb= asked for 65536)")
    }

    @Test("given areas: as many as the smaller pool holds at 128 slots each (64 → 16 for 2048 slots)")
    func givenAreas() throws {
        var e = Evidence(kernel: try #require(DiagnosedKernel("v6.18")), kernelSource: "test")
        e.commandLine = ("swiotlb=262144,64", "cmdline")
        e.pools = [Evidence.Pool(nslabs: 262144, areas: 64, highWater: 1000, used: 0, source: "swiotlb pool")]
        let d = Diagnoser.diagnose(e)
        #expect(d.verdicts.map(\.kind) == [.oversized])
        #expect(d.recommendation?.cmdline == "swiotlb=2048,16")
        let setup = try #require(Linux61PoolSetup(requested: 2048, areas: 16))
        #expect(setup.nslabs == 2048 && setup.areaSlots == 128 && !setup.roundedUp)
    }
}

/// The possible CPUs come from the log's own CPU lines, never from an `area num` that
/// `swiotlb=<n>,<areas>` gave (x86's smpboot.c / cpu/topology.c / setup_percpu.c formats).
@Suite("possible CPUs from the log, areas apart")
struct PossibleCPUsFromLogTests {
    func evidence(_ log: String) throws -> Evidence {
        let parsed = try SwiotlbKernelLog(lines: log.split(separator: "\n"))
        let (k, source) = try #require(SystemEvidence.kernel(override: nil, log: (parsed, "dmesg")))
        var e = Evidence(kernel: k, kernelSource: source)
        SystemEvidence.add(log: (parsed, "dmesg"), debugfs: nil, cmdline: nil, to: &e)
        return e
    }

    @Test("6.18: CPU topo's present plus hotplug CPUs; area num is swiotlb='s 65536")
    func sixEighteenTopology() throws {
        let e = try evidence(
            """
            Linux version 6.18.2 (builder@ci) #1 SMP PREEMPT_DYNAMIC
            Command line: swiotlb=4096,65536,force
            [    0.010000] CPU topo: Allowing 3 present CPUs plus 2 hotplug CPUs
            [    0.020000] setup_percpu: NR_CPUS:8192 nr_cpumask_bits:5 nr_cpu_ids:5 nr_node_ids:1
            software IO TLB: area num 65536.
            software IO TLB: mapped [mem 0x0000000020000000-0x0000000060000000] (1024MB)
            """)
        #expect(e.possibleCPUs == 5)
        #expect(e.defaultAreas == 65536)
        #expect(e.pools.first?.areas == 4096)  // min(65536, 524288 / 128)
    }

    @Test("6.1: smpboot's Allowing line (the real-Xen capture's dom0: 2 CPUs)")
    func sixOneSmpboot() throws {
        let e = try evidence(
            """
            Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2
            Kernel command line: swiotlb=65536,64
            [    0.619387] smpboot: Allowing 2 CPUs, 0 hotplug CPUs
            software IO TLB: area num 64.
            """)
        #expect(e.possibleCPUs == 2)
        #expect(e.defaultAreas == 64)
    }

    @Test("nr_cpu_ids alone; no CPU line and given areas: unknown; no CPU line and no areas: area num")
    func fallbacks() throws {
        let percpu = try evidence(
            """
            Linux version 6.6.13 (builder@ci) #1 SMP
            Kernel command line: swiotlb=2048,16
            setup_percpu: NR_CPUS:64 nr_cpumask_bits:64 nr_cpu_ids:6 nr_node_ids:1
            software IO TLB: area num 16.
            """)
        #expect(percpu.possibleCPUs == 6)
        let given = try evidence(
            """
            Linux version 6.6.13 (builder@ci) #1 SMP
            Kernel command line: swiotlb=2048,16
            software IO TLB: area num 16.
            """)
        #expect(given.possibleCPUs == nil)
        #expect(given.defaultAreas == 16)
        let defaulted = try evidence(
            """
            Linux version 6.6.13 (builder@ci) #1 SMP
            Kernel command line: swiotlb=2048
            software IO TLB: area num 8.
            """)
        #expect(defaulted.possibleCPUs == 8)
    }
}
