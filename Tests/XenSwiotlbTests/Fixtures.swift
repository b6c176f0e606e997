import Swiotlb
import Testing
import XenBoot
import XenMemory

@testable import XenSwiotlb

/// A booted host and PV dom0 with Linux's PV memory set-up done, ready for xen-swiotlb.
typealias BootedDom0 = PVGuestBoot

extension PVGuestBoot {
    /// QEMU `-m ramBytes`, Xen `dom0_mem=`, optional frames taken out of Xen's heap.
    init(ramBytes: UInt64, dom0Mem: String?, reserved: [Range<UInt64>] = [], initrd: Range<UInt64>? = nil) throws {
        let host = try XenHost(e820: .qemuPC(ramBytes: ramBytes), reserved: (reserved + (initrd.map { [$0] } ?? [])).map { Range(raw: $0) })
        var cfg = Dom0BuildConfig()
        if let d = dom0Mem { cfg.memory = try Dom0MemoryOption(parsing: d) }
        cfg.initrd = initrd.map { Range(raw: $0) }
        self = try PVGuestBoot.dom0(on: host, cfg)
    }

    /// The real capture's host: qemu -m 2048, dom0_mem=768M,max:768M, the 913-page initrd.
    static func realDefault() throws -> BootedDom0 {
        try BootedDom0(ramBytes: 2 << 30, dom0Mem: "768M,max:768M", initrd: 0x7f66f..<0x7fa00)
    }

    /// Pages the captured dom0's kernel had taken below its initial memory's end before
    /// xen-swiotlb set up: 20 MiB, `nr_pages` 0x30000 (768 MiB) down to 0x2ec00.
    static let kernelTopPages: UInt64 = 0x1400

    /// Takes out of free memory what Linux had allocated at the top of dom0's RAM when
    /// xen-swiotlb set up, as the captured boot (`../shared/fixtures/real-xen-default`: QEMU
    /// `-m 2048`, `dom0_mem=768M,max:768M`, Linux 6.1.192) shows it, so that the buffer ends
    /// where that kernel's did.
    ///
    /// dom0 starts with `nr_pages` = `dom0Bytes` / 4 KiB (0x30000); Linux's PV memory set-up
    /// moves the 97 pages of the hole at pfn 0x9f…0xff to just above it (`Remapped 97 page(s)`,
    /// usable E820 up to 0x30060fff, all of it in ``memory``). memblock allocates top-down, and
    /// before `mem_init` sets up swiotlb it has taken `NODE_DATA` (`allocated [mem
    /// 0x2fe8a000-0x2feb4fff]`), the memmap, the P2M tree's pages, then the per-cpu first chunk
    /// (2 MiB atom) at 0x2ec00000 with the dentry (1 MiB) and inode (512 KiB) hashes in holes
    /// above it (`shared/reference/real-dom0-layout.md` §5.1: consistent with the data, not
    /// proven). So the buffer ended at 0x2ec00000 (`software IO TLB: mapped [mem
    /// 0x000000002ac00000-0x000000002ec00000]`). ``PseudoPhysicalAllocator`` does not place
    /// those allocations one by one: this reserves from ``kernelTopPages`` below `nr_pages` to
    /// the top of the guest's RAM, as a scenario's `swiotlb_end` does. Other dom0 sizes (the
    /// 1 GiB dom0 of a 6 GiB host: from 0x3ec00) keep the capture's 20 MiB; no boot of theirs
    /// was captured.
    mutating func reserveKernelTop(dom0Bytes: UInt64) {
        memory.reserve(PFN((dom0Bytes >> Page.shift) - Self.kernelTopPages)..<setup.e820.maxRAMFrame)
    }

    func xenSwiotlb(_ cmdline: String = "", kernel: SwiotlbKernel = .v5_11, early: Bool = true) -> Result<XenSwiotlb, XenSwiotlbInitError> {
        xenSwiotlb(XenSwiotlbConfig(kernel: kernel, commandLine: SwiotlbCommandLine(parsing: cmdline, kernel: kernel), early: early))
    }
}

/// Linux 6.1 and later on a dom0 with nothing free below 4 GiB (a 6 GiB host, `dom0_mem=1G`,
/// frames 0x100…0xfffff out of Xen's heap): every remap fails from 64 MiB down to 1 MiB, each
/// trying `dma_bits` 18…32 on its first segment, and no pool is set up ("No low mem").
/// Checks that and returns the booted dom0 and its xen-swiotlb.
func expectHalvedToNothing(_ kernel: SwiotlbKernel) throws -> (boot: BootedDom0, x: XenSwiotlb) {
    let boot = try BootedDom0(ramBytes: 6 << 30, dom0Mem: "1G,max:1G", reserved: [0x100..<0x100000])
    let x = try boot.xenSwiotlb("", kernel: kernel).get()
    #expect(x.tlb.pools.isEmpty)
    #expect(
        x.log == ["software IO TLB: area num 1."]
            + [67_108_864, 33_554_432, 16_777_216, 8_388_608, 4_194_304, 2_097_152, 1_048_576].map {
                "software IO TLB: swiotlb_memblock_alloc: Failed to remap \($0) bytes"
            }
            + ["PCI-DMA: Using software bounce buffering for IO (SWIOTLB)", "software IO TLB: No low mem"])
    #expect(x.exchanges.count == 7 * 15 && x.exchanges.allSatisfy { $0.mfn == nil })
    #expect(x.exchanges.prefix(15).map(\.addressBits) == Array(18...32))
    return (boot, x)
}

/// Checks the pools' segments and the P2M/M2P agreement after set-up.
func checkPools(_ x: XenSwiotlb, lowLimit: UInt64 = 1 << 32) -> Bool {
    var ok = true
    for (i, pool) in x.tlb.pools.enumerated() {
        let firstPFN = pool.start.pfn.rawValue
        for seg in 0..<(pool.nslabs / 128) {
            let pfn = PFN(firstPFN + UInt64(seg * 64))
            let mfn = x.dom0.p2m.pfnToMFN(pfn).rawValue
            ok = ok && x.dom0.p2m.isMachineContiguous(pfn.address, size: 64 * 4096)
            if i == 0 { ok = ok && mfn % 64 == 0 && (mfn + 64) << Page.shift <= lowLimit }
            for k in UInt64(0)..<64 { ok = ok && x.host.m2p.entry(MFN(mfn + k)) == pfn.rawValue + k }
        }
    }
    return ok
}
