import Swiotlb
import Testing
import XenBoot
import XenMemory
import XenSwiotlb

@Suite("the one boot path: a host, dom0 or a domU, Linux's PV set-up, then (xen-)swiotlb")
struct GuestBootTests {
    @Test("dom0 of the real capture: Xen's lines, the first 16 MiB kept out of free memory, xen-swiotlb above it")
    func dom0() throws {
        let dom0 = try BootedDom0.realDefault()
        #expect(dom0.xenLog.first == "Xen-e820 RAM map:")
        #expect(dom0.xenLog.contains(" Dom0 alloc.:   0000000070000000->0000000078000000 (162927 pages to be allocated)"))
        #expect(dom0.memory.free.first?.lowerBound == PFN(0x1000))
        #expect(dom0.usableFrames.first?.lowerBound == PFN(0x1000))
        #expect(dom0.usableFrames.allSatisfy { $0.lowerBound >= EarlyReservedFrames.pv.upperBound })
        let x = try dom0.xenSwiotlb(XenSwiotlbConfig()).get()
        // v5.11's default 64 MiB pool, every segment machine-contiguous below 4 GiB (the real
        // capture's 0x2ac00000 needs its kernel's early reservations: RealComparisonTests).
        #expect(x.log.last?.hasSuffix("(64MB)") == true)
        #expect(x.tlb.pools.map(\.nslabs) == [32768])
        #expect(x.tlb.pools[0].start >= EarlyReservedFrames.pv.upperBound.address)
        #expect(checkPools(x))
    }

    @Test("dom0 Xen cannot build: its panic line last, the reason typed")
    func dom0Panics() throws {
        var cfg = Dom0BuildConfig()
        cfg.memory = try Dom0MemoryOption(parsing: "16M")
        let host = try XenHost(e820: .qemuPC(ramBytes: 2 << 30))
        do {
            _ = try PVGuestBoot.dom0(on: host, cfg)
            Issue.record("a 16 MiB dom0 was built")
        } catch {
            #expect(error.reason == .dom0(.tooSmallForKernel(pages: 4096, needed: 32768)))
            #expect(error.xenLog.first == "Xen-e820 RAM map:")
            #expect(error.xenLog.last == "Panic on CPU 0: Domain 0 allocation is too small for kernel image")
        }
    }

    @Test("a 1 GiB domU: one RAM range, usable from 16 MiB; a domU larger than the host fails typed")
    func domU() throws {
        let host = try XenHost(e820: .qemuPC(ramBytes: 2 << 30))
        let domU = try PVGuestBoot.domU(on: host, pages: 0x40000)
        #expect(domU.domain.id == DomID(1))
        #expect(domU.usableFrames == [PFN(0x1000)..<PFN(0x40000)])
        #expect(domU.xenLog == PVGuestBoot.e820Lines(of: host))
        do {
            _ = try PVGuestBoot.domU(on: host, pages: 0x100000)
            Issue.record("a 4 GiB domU fitted a 2 GiB host")
        } catch {
            guard case .domU(.outOfMemory) = error.reason else { Issue.record("\(error.reason)"); return }
        }
    }

    @Test("a native guest keeps the first MiB: Linux's real-mode reservation")
    func native() {
        let guest = NativeGuestBoot(e820: .qemuPC(ramBytes: 1 << 30))
        #expect(guest.memory.free.first == PFN(0x100)..<PFN(0x3ffdd))
        #expect(guest.e820Lines.first == "BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable")
    }
}
