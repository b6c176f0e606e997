import Swiotlb
import Testing
import XenBoot
import XenMemory
import XenPVTestSupport

@testable import XenSwiotlb

@Suite("the RFC's two experiments")
struct RFCExperimentTests {
    /// fio-like random reads: `count` maps of 4 KiB–128 KiB from random dom0 buffers, up to
    /// `depth` in flight, each unmapped after the device "wrote" it.
    func fio<S>(
        _ state: inout S, count: Int, depth: Int, seed: UInt64, ramBytes: UInt64,
        map: (inout S, UInt64, Int) throws -> UInt64?, unmap: (inout S, UInt64, Int) throws -> Void
    ) rethrows -> Int {
        var rng = SplitMix64(seed: seed)
        var inFlight: [(UInt64, Int)] = []
        var peak = 0
        for _ in 0..<count {
            if inFlight.count >= depth {
                let (a, n) = inFlight.removeFirst()
                try unmap(&state, a, n)
            }
            let n = 4096 << Int(rng.next() % 6)
            let p = (0x100_0000 + rng.next() % (ramBytes / 2)) & ~0xfff
            if let a = try map(&state, p, n) { inFlight.append((a, n)) }
            peak = max(peak, inFlight.count)
        }
        return peak
    }

    @Test("Xen PV dom0, 20 GiB, swiotlb=65536,1048576,force: 128 MB low + 2048 MB high; NVMe uses the high pool only")
    func xenPVDom0() throws {
        // dom0_mem leaves Xen room for the exchanges (with the default, all but 128 MiB, the low
        // pool runs out below 4 GiB: see the next test).
        var boot = try BootedDom0(ramBytes: 20 << 30, dom0Mem: "8G,max:8G")
        // Room at the top of dom0's RAM for what Linux allocated before swiotlb.
        let top = boot.memory.free.last!.upperBound
        boot.memory.reserve(PFN(top.rawValue - 0x8000)..<top)
        var x = try boot.xenSwiotlb("65536,1048576,force", kernel: .rfcV1).get()
        #expect(x.log.count == 2)
        #expect(x.log[0].hasPrefix("software IO TLB: Low Mem mapped [mem 0x") && x.log[0].hasSuffix("] (128MB)"))
        #expect(x.log[1].hasPrefix("software IO TLB: High Mem mapped [mem 0x") && x.log[1].hasSuffix("] (2048MB)"))
        let low = x.tlb.pools[0], high = x.tlb.pools[1]
        #expect(x.log[0] == "software IO TLB: Low Mem mapped [mem 0x\(Hex.padded(low.start.rawValue, 16))-0x\(Hex.padded(low.end.rawValue, 16))] (128MB)")
        // The low pool was allocated first, top-down; the high one below it.
        #expect(high.end <= low.start)
        #expect(x.tlb.debugfs.map(\.value) == [65536, 0, 1_048_576, 0])
        // Every high segment was one exchange at 64 bits; low ones at most 32.
        #expect(x.exchanges.filter { $0.pool == 1 }.allSatisfy { $0.addressBits == 64 && $0.mfn != nil })
        #expect(x.exchanges.filter { $0.pool == 1 }.count == 8192)
        #expect(x.exchanges.filter { $0.pool == 0 }.allSatisfy { $0.addressBits <= 32 })
        #expect(checkPools(x))

        let nvme = DMADevice.pci("0000:00:04.0", bits: 64)
        let legacy = DMADevice.pci("0000:00:05.0", bits: 32)
        _ = try fio(
            &x, count: 4000, depth: 64, seed: 1, ramBytes: 16 << 30,
            map: { x, p, n in
                let h = try x.mapPage(nvme, PhysicalAddress(p), size: n, direction: .fromDevice).get()
                #expect(h.bounced && h.pool == 1)
                return h.address.rawValue
            }, unmap: { x, a, n in try x.unmapPage(nvme, DMAAddress(a), size: n, direction: .fromDevice) })
        #expect(x.tlb.pools[0].used == 0 && x.tlb.pools[1].used > 0)
        let h32 = try x.mapPage(legacy, PhysicalAddress(0x200_0000), size: 8192, direction: .toDevice).get()
        #expect(h32.pool == 0 && h32.address.rawValue < 1 << 32)
        #expect(x.tlb.pools[0].used == 4)
        #expect(x.dmaSupported(0xffff_ffff))
    }

    @Test("the same dom0 with Xen's default dom0_mem: the 128 MB low pool does not fit below 4 GiB")
    func xenPVDom0DefaultMemory() throws {
        var boot = try BootedDom0(ramBytes: 20 << 30, dom0Mem: nil)
        let top = boot.memory.free.last!.upperBound
        boot.memory.reserve(PFN(top.rawValue - 0x8000)..<top)
        guard case .failure(let e) = boot.xenSwiotlb("65536,1048576,force", kernel: .rfcV1) else {
            Issue.record("set-up succeeded"); return
        }
        #expect(e.panicked && e.rc == -12)
        #expect(Array(e.log.prefix(3)) == ["xen:swiotlb_xen: Lowering to 64MB", "xen:swiotlb_xen: Lowering to 32MB", "xen:swiotlb_xen: Lowering to 16MB"])
        #expect(e.log[3] == "xen:swiotlb_xen: Failed to get contiguous memory for DMA from Xen!")
        // The first attempt got 507 segments below 4 GiB before Xen ran out.
        #expect(e.exchanges.filter { $0.mfn != nil }.count == 507)
    }

    @Test("SEV guest, swiotlb=65536,1048576: forced bouncing, io_tlb_used stays 0, the high pool fills")
    func sevGuest() throws {
        var guest = NativeGuestBoot(e820: .qemuPC(ramBytes: 20 << 30))
        let booted = guest.swiotlb(
            commandLine: SwiotlbCommandLine(parsing: "65536,1048576", kernel: .rfcV1),
            kernel: .rfcV1, encryption: .sev)
        var dma = try #require(booted)
        #expect(dma.tlb.force == .force)
        // mem_encrypt_init's line, then pci_swiotlb_late_init's (v5.11).
        #expect(dma.log.count == 4 && dma.log[0] == "AMD Memory Encryption Features active: SEV")
        #expect(dma.log[1] == "PCI-DMA: Using software bounce buffering for IO (SWIOTLB)")
        #expect(dma.log[2].hasPrefix("software IO TLB: Low Mem mapped [mem 0x") && dma.log[2].hasSuffix("(128MB)"))
        #expect(dma.log[3].hasPrefix("software IO TLB: High Mem mapped [mem 0x") && dma.log[3].hasSuffix("(2048MB)"))
        #expect(dma.tlb.pools[0].end <= PhysicalAddress(1 << 32))
        let virtio = DMADevice(name: "virtio0")  // 64-bit, no DMA parameters
        let peak = try fio(
            &dma, count: 3000, depth: 128, seed: 2, ramBytes: 16 << 30,
            map: { d, p, n in
                let r = try d.mapPage(virtio, PhysicalAddress(p), size: n, direction: .fromDevice).get()
                #expect(r.bounced)
                return r.address.rawValue
            }, unmap: { d, a, n in try d.unmapPage(virtio, DMAAddress(a), size: n, direction: .fromDevice) })
        #expect(peak == 128)
        #expect(dma.tlb.debugfs.map(\.file) == ["io_tlb_nslabs", "io_tlb_used", "io_tlb_nslabs-highmem", "io_tlb_used-highmem"])
        #expect(dma.tlb.pools[0].used == 0 && dma.tlb.pools[1].used > 0)
        // Without a size, SEV sizes the pool: 6% of 20 GiB = 1228 MiB, clamped to 1 GiB.
        var fresh = NativeGuestBoot(e820: .qemuPC(ramBytes: 20 << 30))
        let adjusted = fresh.swiotlb(commandLine: SwiotlbCommandLine(parsing: ""), encryption: .sev)
        let sized = try #require(adjusted)
        #expect(sized.log.first == "software IO TLB: SWIOTLB bounce buffer size adjusted to 1024MB")
        // 6% of 2 GiB = 128849018 bytes → 62915 slots → 62976 after ALIGN(…, 128); 512 MiB → 64 MiB floor.
        let none = SwiotlbCommandLine()
        #expect(EncryptedGuestSizing.unlessSizeGiven.adjust(ramBytes: 2 << 30, commandLine: none)?.nslabs == 62976)
        #expect(EncryptedGuestSizing.unlessSizeGiven.adjust(ramBytes: 512 << 20, commandLine: none)?.nslabs == 32768)
    }
}
