import Testing
import XenDumps
import XenPVTestSupport

@testable import Diagnosis

/// Verdicts from kernel logs and debugfs values shaped like the public reports in issue 22.
@Suite struct LogVerdictTests {
    /// Diagnoses `log` (and `debugfs`), the kernel taken from the log's `Linux version`.
    func diagnose(_ log: String, debugfs: [(file: String, value: Int)]? = nil, kernel: String? = nil) throws -> Diagnosis {
        let parsed = try SwiotlbKernelLog(lines: log.split(separator: "\n", omittingEmptySubsequences: false))
        let (k, source) = try #require(SystemEvidence.kernel(override: kernel.flatMap(DiagnosedKernel.init), log: (parsed, "dmesg")))
        var e = Evidence(kernel: k, kernelSource: source)
        SystemEvidence.add(log: (parsed, "dmesg"), debugfs: debugfs.map { ($0, "debugfs") }, cmdline: nil, to: &e)
        return Diagnoser.diagnose(e)
    }

    /// USB/IP asks 512 KiB with 4 of 32768 slots used: raising swiotlb= cannot help.
    @Test func usbipOverMaxMappingSize() throws {
        let d = try diagnose(
            """
            [    0.000000] Linux version 5.10.0-28-amd64 (debian-kernel@lists.debian.org) #1 SMP Debian 5.10.209-2
            [    0.000000] Command line: BOOT_IMAGE=/boot/vmlinuz-5.10.0-28-amd64 root=/dev/sda1 ro swiotlb=65536
            [    1.311342] software IO TLB: mapped [mem 0x00000000b3e80000-0x00000000bbe80000] (128MB)
            [  312.118012] vhci_hcd vhci_hcd.0: swiotlb buffer is full (sz: 524288 bytes), total 65536 (slots), used 4 (slots)
            """)
        #expect(d.verdicts.map(\.kind) == [.overMaxMappingSize])
        let v = d.verdicts[0]
        #expect(v.device == "vhci_hcd vhci_hcd.0")
        #expect(v.figures.map(\.1) == [524288, 262144, 1])
        #expect(v.evidence[0] == "dmesg:4: [  312.118012] vhci_hcd vhci_hcd.0: swiotlb buffer is full (sz: 524288 bytes), total 65536 (slots), used 4 (slots)")
        #expect(d.recommendation == nil)
        #expect(d.hasProblem)
    }

    /// amdgpu asks 2 MiB on Xen (6.1): over the max mapping size, whatever the pool.
    @Test func amdgpuOverMaxMappingSize() throws {
        let d = try diagnose(
            """
            Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org) (gcc-12) #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1
            Kernel command line: placeholder root=/dev/mapper/qubes_dom0-root swiotlb=2097152
            software IO TLB: area num 8.
            software IO TLB: mapped [mem 0x0000000008000000-0x0000000108000000] (4096MB)
            amdgpu 0000:0a:00.0: swiotlb buffer is full (sz: 2097152 bytes), total 2097152 (slots), used 0 (slots)
            amdgpu 0000:0a:00.0: swiotlb buffer is full (sz: 2097152 bytes), total 2097152 (slots), used 0 (slots)
            """)
        #expect(d.verdicts.map(\.kind) == [.overMaxMappingSize])
        #expect(d.verdicts[0].device == "amdgpu 0000:0a:00.0")
        #expect(d.verdicts[0].figures.map(\.1) == [2_097_152, 262144, 2])
        #expect(d.verdicts[0].explanation.hasPrefix("no pool size helps"))
    }

    /// A Wi-Fi driver's used creeps 31415 → 31983 between failures: a leak, not a small pool.
    @Test func wifiLeakCreeping() throws {
        let d = try diagnose(
            """
            [    0.000000] Linux version 5.15.0-91-generic (buildd@lcy02-amd64-045) #101-Ubuntu SMP
            [    0.721342] software IO TLB: mapped [mem 0x00000000a9000000-0x00000000ad000000] (64MB)
            [ 3601.000001] iwlwifi 0000:00:14.3: swiotlb buffer is full (sz: 4096 bytes), total 32768 (slots), used 31415 (slots)
            [ 5402.000002] iwlwifi 0000:00:14.3: swiotlb buffer is full (sz: 4096 bytes), total 32768 (slots), used 31700 (slots)
            [ 7203.000003] iwlwifi 0000:00:14.3: swiotlb buffer is full (sz: 4096 bytes), total 32768 (slots), used 31983 (slots)
            """)
        #expect(d.verdicts.map(\.kind) == [.leak])
        #expect(d.verdicts[0].device == "iwlwifi 0000:00:14.3")
        #expect(d.verdicts[0].evidence.last == "used 31415 → 31983 of 32768 slots over 3 failures, never falling")
        #expect(d.recommendation == nil)
    }

    /// stmmac at 32764 of 32768 (two 32-bit NICs): undersized; the report's fix was 131072.
    @Test func stmmacUndersized() throws {
        let d = try diagnose(
            """
            [    0.000000] Linux version 5.15.93 (oe-user@oe-host) #1 SMP PREEMPT
            [    0.000000] Kernel command line: console=ttyS0,115200 root=/dev/mmcblk0p2
            [    0.000000] software IO TLB: mapped [mem 0x00000000bbc00000-0x00000000bfc00000] (64MB)
            [ 1021.443222] stmmaceth 1c50000.ethernet: swiotlb buffer is full (sz: 1536 bytes), total 32768 (slots), used 32764 (slots)
            [ 1021.443290] stmmaceth 1c50000.ethernet: swiotlb buffer is full (sz: 1536 bytes), total 32768 (slots), used 32760 (slots)
            """)
        #expect(d.verdicts.map(\.kind) == [.undersized])
        #expect(d.verdicts[0].device == "stmmaceth 1c50000.ethernet")
        #expect(d.verdicts[0].evidence[1] == "demand at least 32765 slots (32764 used + 1 needed) of 32768")
        let r = try #require(d.recommendation)
        #expect(r.cmdline == "swiotlb=131072")
        #expect(r.slots == 131072 && r.bytes == 268_435_456)
    }

    /// The same on a 6.1 host with `swiotlb=32768,force`: the force mode is kept, and the size
    /// is the power of two 6.1 maps anyway.
    @Test func undersizedKeepsForce() throws {
        let d = try diagnose(
            """
            Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2
            Kernel command line: console=hvc0 swiotlb=32768,force
            software IO TLB: area num 2.
            software IO TLB: mapped [mem 0x000000002ac00000-0x000000002ec00000] (64MB)
            e1000e 0000:00:19.0: swiotlb buffer is full (sz: 9000 bytes), total 32768 (slots), used 32766 (slots)
            """)
        #expect(d.verdicts.map(\.kind) == [.undersized])
        #expect(d.recommendation?.cmdline == "swiotlb=262144,force")  // 4 × 32771 → a power of two
    }

    /// The RFC's high pool runs full: both pools are named, the low one kept.
    @Test func rfcHighPoolUndersized() throws {
        let d = try diagnose(
            """
            Kernel command line: swiotlb=65536,1048576,force
            software IO TLB: Low Mem mapped [mem 0x0000000234e00000-0x000000023ce00000] (128MB)
            software IO TLB: High Mem mapped [mem 0x0000000166f33000-0x00000001e6f33000] (2048MB)
            nvme 0000:00:04.0: High Mem swiotlb buffer is full (sz: 262144 bytes), total 1048576 (slots), used 1048448 (slots)
            """, kernel: "rfc-v1")
        #expect(d.verdicts.map(\.kind) == [.undersized])
        #expect(d.verdicts[0].device == "nvme 0000:00:04.0")
        let r = try #require(d.recommendation)
        #expect(r.cmdline == "swiotlb=65536,4194304,force")
        #expect(r.pools.map(\.slots) == [65536, 4_194_304])
    }

    /// A SEV-SNP guest at the 1 GiB cap with an NVMe asking 2 MiB: the cap is not the problem.
    @Test func sevAtTheCapWithNVMe() throws {
        let d = try diagnose(
            """
            [    0.000000] Linux version 6.6.13 (builder@ci) #1 SMP PREEMPT_DYNAMIC
            [    0.000000] Memory Encryption Features active: AMD SEV SEV-ES SEV-SNP
            [    0.012000] software IO TLB: SWIOTLB bounce buffer size adjusted to 1024MB
            [    0.110000] Memory: 32617408K/33553980K available (16384K kernel code)
            [    0.520000] software IO TLB: area num 4.
            [    1.200000] software IO TLB: mapped [mem 0x0000000080000000-0x00000000c0000000] (1024MB)
            [   10.000000] nvme 0000:00:04.0: swiotlb buffer is full (sz: 2097152 bytes), total 524288 (slots), used 0 (slots)
            """)
        #expect(d.verdicts.map(\.kind) == [.overMaxMappingSize])
        #expect(d.verdicts[0].device == "nvme 0000:00:04.0")
    }

    /// SEV's 6 % when no size is given: 4 GiB of memory → 245 MiB → 6.6 rounds to 256 MiB;
    /// a 64 MiB pool is not what the kernel's reading gives.
    @Test func sevDefaultNotApplied() throws {
        let d = try diagnose(
            """
            Linux version 6.6.13 (builder@ci) #1 SMP PREEMPT_DYNAMIC
            Memory Encryption Features active: AMD SEV
            Memory: 4000000K/4194304K available
            software IO TLB: area num 1.
            software IO TLB: mapped [mem 0x0000000080000000-0x0000000084000000] (64MB)
            """)
        #expect(d.verdicts.map(\.kind) == [.cmdlineNotApplied])
        #expect(d.verdicts[0].figures.map(\.1) == [131072, 32768])
        #expect(CommandLineCheck.encryptedDefaultSlots(memoryBytes: 4 << 30) == 125952)
        #expect(CommandLineCheck.encryptedDefaultSlots(memoryBytes: 64 << 30) == 524288)
        #expect(CommandLineCheck.encryptedDefaultSlots(memoryBytes: 512 << 20) == 32768)
    }

    /// io_tlb_used_hiwater of 4 slots in a 512 MiB pool: oversized, give back all but 1 MB.
    @Test func hiwaterOversized() throws {
        let d = try diagnose(
            """
            Linux version 6.6.13 (builder@ci) #1 SMP PREEMPT_DYNAMIC
            Kernel command line: root=/dev/vda1 swiotlb=262144
            software IO TLB: area num 1.
            software IO TLB: mapped [mem 0x0000000060000000-0x0000000080000000] (512MB)
            """, debugfs: [("io_tlb_nslabs", 262144), ("io_tlb_used", 0), ("io_tlb_used_hiwater", 4)])
        #expect(d.verdicts.map(\.kind) == [.oversized])
        #expect(d.verdicts[0].figures.map(\.1) == [4, 262144, 512, 535_822_336])
        #expect(d.recommendation?.cmdline == "swiotlb=512")
    }

    /// 64 vCPUs raise a 2048-slot swiotlb= to 8192 slots (64 areas of 128): with a high-water of
    /// 10 the recommendation keeps a count of areas the smaller pool can hold.
    @Test func perCPUAreasOversized() throws {
        let d = try diagnose(
            """
            Linux version 6.6.13 (builder@ci) #1 SMP PREEMPT_DYNAMIC
            Kernel command line: swiotlb=2048
            software IO TLB: area num 64.
            software IO TLB: SWIOTLB bounce buffer size roundup to 16MB
            software IO TLB: mapped [mem 0x0000000060000000-0x0000000061000000] (16MB)
            """, debugfs: [("io_tlb_nslabs", 8192), ("io_tlb_used", 2), ("io_tlb_used_hiwater", 10)])
        #expect(d.verdicts.map(\.kind) == [.oversized])
        #expect(d.verdicts[0].evidence.contains("64 areas (one per CPU unless swiotlb= gives a count) need at least 8192 slots (16 MB)"))
        #expect(d.recommendation?.cmdline == "swiotlb=512,4")
    }

    /// The RFC's `swiotlb=65536,1048576,force` on 6.1 is read as 1048576 areas.
    @Test func rfcFormOnSixOne() throws {
        let d = try diagnose(
            """
            Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2
            Kernel command line: console=hvc0 swiotlb=65536,1048576,force
            software IO TLB: area num 1048576.
            software IO TLB: SWIOTLB bounce buffer size roundup to 262144MB
            swiotlb_init_remap: Failed to allocate 274877906944 bytes tlb structure
            software IO TLB: mapped [mem 0x0000000020000000-0x0000000060000000] (1024MB)
            """)
        #expect(d.verdicts.map(\.kind) == [.cmdlineNotApplied])
        #expect(d.verdicts[0].explanation.contains("1048576 is an area count here, not the RFC's high pool of 1048576 slots"))
        #expect(d.verdicts[0].explanation.contains("the allocation failed and the kernel halved the pool"))
        #expect(d.recommendation?.cmdline == "swiotlb=65536,force")
    }

    /// "My swiotlb= did not take": 131072 asked, 64 MB mapped, nothing in the log explains it.
    @Test func cmdlineDidNotTake() throws {
        let d = try diagnose(
            """
            [    0.000000] Linux version 5.10.0-28-amd64 (debian-kernel@lists.debian.org) #1 SMP Debian 5.10.209-2
            [    0.000000] Command line: BOOT_IMAGE=/vmlinuz ro swiotlb=131072 quiet
            [    1.311342] software IO TLB: mapped [mem 0x00000000b3e80000-0x00000000b7e80000] (64MB)
            """)
        #expect(d.verdicts.map(\.kind) == [.cmdlineNotApplied])
        #expect(d.verdicts[0].figures.map(\.1) == [131072, 32768])
    }

    /// What the kernel skipped of `swiotlb=` is quoted as every refusal quotes: 80 bytes, `…` after.
    @Test func ignoredTextQuoted() throws {
        let junk = String(repeating: "q", count: 100)
        let d = try diagnose(
            """
            [    0.000000] Linux version 5.10.0-28-amd64 (debian-kernel@lists.debian.org) #1 SMP Debian 5.10.209-2
            [    0.000000] Command line: BOOT_IMAGE=/vmlinuz ro swiotlb=131072\(junk) quiet
            [    1.311342] software IO TLB: mapped [mem 0x00000000b3e80000-0x00000000b7e80000] (64MB)
            """)
        #expect(d.verdicts.map(\.kind) == [.cmdlineNotApplied])
        #expect(d.verdicts[0].explanation.hasSuffix("'\(junk.prefix(80))…' is ignored by the kernel"))
    }

    /// Fragmentation from a log: a 2-slot map failed with 40 % of the pool free.
    @Test func fragmentationFromLog() throws {
        let d = try diagnose(
            """
            Linux version 5.10.0-28-amd64 #1 SMP Debian 5.10.209-2
            software IO TLB: mapped [mem 0x00000000b3e80000-0x00000000b7e80000] (64MB)
            mt7921e 0000:02:00.0: swiotlb buffer is full (sz: 4096 bytes), total 32768 (slots), used 19000 (slots)
            """)
        #expect(d.verdicts.map(\.kind) == [.fragmentation])
        #expect(d.recommendation?.cmdline == "swiotlb=65536")
    }

    /// A device warned there is no pool to bounce through.
    @Test func noPool() throws {
        let d = try diagnose(
            """
            Linux version 6.1.0-56-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2
            Kernel command line: swiotlb=noforce
            [   3.1] xhci_hcd 0000:00:14.0: Can not allocate SWIOTLB buffer earlier and can't now provide you with the DMA bounce buffer
            """)
        #expect(d.verdicts.map(\.kind) == [.noPool])
        #expect(d.verdicts[0].device == "xhci_hcd 0000:00:14.0")
        #expect(d.recommendation?.cmdline == "swiotlb=32768")
    }

    /// The real dom0 capture (Debian 6.1.192 under Xen 4.17): healthy, exit status 0.
    @Test func realDom0Healthy() throws {
        let log = commandOutputLines("cat '\(realXenDefaultFixture)/dom0-dmesg.txt'").joined(separator: "\n")
        let debugfs = try SwiotlbDebugfs.read(lines: commandOutputLines("cat '\(realXenDefaultFixture)/swiotlb-debugfs-after.txt'"))
        #expect(debugfs.count == 2)
        let d = try diagnose(log, debugfs: debugfs)
        #expect(d.kernel == DiagnosedKernel(major: 6, minor: 1))
        #expect(d.verdicts.map(\.kind) == [.healthy])
        #expect(
            d.verdicts[0].evidence == [
                "dmesg:325: [    1.913842] software IO TLB: mapped [mem 0x000000002ac00000-0x000000002ec00000] (64MB); debugfs: io_tlb_nslabs 32768, io_tlb_used 0: 32768 slots (64 MB), used 0"
            ])
        #expect(!d.hasProblem)
    }

    /// A malformed full message is refused with its line.
    @Test func malformedFullLine() {
        do {
            _ = try SwiotlbKernelLog(lines: ["Linux version 6.1.0", "dev: swiotlb buffer is full (sz: 12 bytes), total x"])
            Issue.record("read")
        } catch {
            #expect(
                error.description
                    == "line 2: swiotlb buffer is full: expected '(sz: <bytes> bytes), total <slots> (slots), used <slots> (slots)', got 'swiotlb buffer is full (sz: 12 bytes), total x'"
            )
        }
    }
}
