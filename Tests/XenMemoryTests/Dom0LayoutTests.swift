import Testing
import XenPVTestSupport

@testable import XenMemory

@Suite("Dom0 builder and Linux PV memory setup")
struct Dom0LayoutTests {
    /// (option, pages out of 4 GiB available).
    static let dom0MemCases: [(String, UInt64)] = [
        ("768M", 196608),
        ("768M,max:768M", 196608),
        ("512M,max:1G", 131072),
        ("-1G", 786432),
        ("25%", 262144),
        ("1G+25%", 524288),
        ("min:2G,max:3G", 786432),
        ("2G,max:1G", 262144),
        ("0x40000K", 65536),
        ("8G", 1_048_576),
    ]

    @Test("dom0_mem= parsing and sizing", arguments: dom0MemCases)
    func dom0Mem(text: String, pages: UInt64) throws {
        // 4 GiB available.
        #expect(try Dom0MemoryOption(parsing: text).dom0Pages(available: 0x100000) == pages)
    }

    @Test("the default keeps min(1/16, 128 MiB) back")
    func defaultReserve() {
        #expect(Dom0MemoryOption().dom0Pages(available: 0x100000) == 0x100000 - 32768)
        #expect(Dom0MemoryOption().dom0Pages(available: 160000) == 160000 - 10000)
    }

    @Test("malformed dom0_mem values are refused", arguments: ["", "abc", "100%", "25%+1G", "1G+", "max:", "1Q", "1\u{FF12}G", "\u{FF12}G", "0\u{FF17}G"])
    func dom0MemErrors(text: String) {
        #expect(throws: Dom0MemoryOptionError.self) { try Dom0MemoryOption(parsing: text) }
    }

    /// The QEMU `-m 2048` host of the real capture, with the 913-page initrd module in place.
    func qemuDefault() throws -> (XenHost, Dom0Layout) {
        var host = try XenHost(e820: .qemuPC(ramBytes: 2 << 30), reserved: [Range(raw: 0x7f66f..<0x7fa00)])
        var cfg = Dom0BuildConfig()
        cfg.memory = try Dom0MemoryOption(parsing: "768M,max:768M")
        cfg.initrd = Range(raw: 0x7f66f..<0x7fa00)
        let layout = try host.buildDom0(cfg)
        return (host, layout)
    }

    @Test("a 2 GiB QEMU host: Dom0 alloc., chunks, Released/Remapped and the E820 lines")
    func qemuTwoGiB() throws {
        var (host, layout) = try qemuDefault()
        #expect(
            host.e820.xenLines == [
                " [0000000000000000, 000000000009fbff] (usable)",
                " [000000000009fc00, 000000000009ffff] (reserved)",
                " [00000000000f0000, 00000000000fffff] (reserved)",
                " [0000000000100000, 000000007ffdcfff] (usable)",
                " [000000007ffdd000, 000000007fffffff] (reserved)",
                " [00000000fffc0000, 00000000ffffffff] (reserved)",
                " [000000fd00000000, 000000ffffffffff] (reserved)",
            ])
        #expect(
            layout.log == [
                "PHYSICAL MEMORY ARRANGEMENT:",
                " Dom0 alloc.:   0000000070000000->0000000078000000 (162927 pages to be allocated)",
                " Init. ramdisk: 000000007f66f000->000000007fa00000",
            ])
        #expect(layout.nrPages == 196608)
        // 196608 pages × 8 bytes = 1.5 MiB of physmap: L3, L2, one L1 and 384 data pages.
        #expect(layout.physmapFrames.count == 387)
        #expect(layout.chunks.first == Dom0Chunk(pfn: PFN(0x8514), mfn: MFN(0x40000), order: 17))
        #expect(
            Array(layout.chunks.prefix(5)).map { [$0.pfn.rawValue, $0.mfn.rawValue, UInt64($0.order)] } == [
                [0x8514, 0x40000, 17], [0x28514, 0x78000, 14], [0x2c514, 0x7c000, 13], [0x2e514, 0x7e000, 12], [0x2f514, 0x6f800, 11],
            ])
        #expect(layout.chunks.map(\.order) == [17, 14, 13, 12, 11, 9, 7, 6, 5, 3, 2])

        var dom0 = layout.domain
        let setup = LinuxPVMemorySetup.run(
            host: &host, domain: &dom0, nrPages: layout.nrPages,
            maxReservation: layout.maxPages, map: GuestE820(dom0Layout: host.machineMemoryMap))
        #expect(setup.released == 0 && setup.remapped == 97)
        #expect(
            setup.log == [
                "Released 0 page(s)",
                "BIOS-provided physical RAM map:",
                "Xen: [mem 0x0000000000000000-0x000000000009efff] usable",
                "Xen: [mem 0x000000000009fc00-0x00000000000fffff] reserved",
                "Xen: [mem 0x0000000000100000-0x0000000030060fff] usable",
                "Xen: [mem 0x000000007ffdd000-0x000000007fffffff] reserved",
                "Xen: [mem 0x00000000fec00000-0x00000000fec00fff] reserved",
                "Xen: [mem 0x00000000fee00000-0x00000000feefffff] reserved",
                "Xen: [mem 0x00000000fffc0000-0x00000000ffffffff] reserved",
                "Xen: [mem 0x000000fd00000000-0x000000ffffffffff] reserved",
                "p2m virtual area at (____ptrval____), size is 40000000",
                "Remapped 97 page(s)",
            ])
        // The captured dom0's first runs: pfn 0 (159 pages) → 0x70000, 0x9f–0xff identity,
        // 0x100 (32512) → 0x70100, and the hole's frames moved to 0x30000 → 0x7009f.
        #expect(
            Array(dom0.p2m.runs().prefix(3)) == [
                Extent(start: 0, count: 159, value: .machine(base: MFN(0x70000))),
                Extent(start: 159, count: 97, value: .identity),
                Extent(start: 256, count: 32512, value: .machine(base: MFN(0x70100))),
            ])
        #expect(dom0.p2m.pfnToMFN(PFN(0x30000)).rawValue == 0x7009f && dom0.p2m.pfnToMFN(PFN(0x30060)).rawValue == 0x700ff)
        #expect(host.m2p.entry(MFN(0x7009f)) == 0x30000)
        #expect(dom0.p2m.lastPfnHint == PFN(0x30061))
        #expect(dom0.p2m.extraMemory.isEmpty)
        #expect(dom0.p2m.leafBacking(of: PFN(0x30000)) == nil)
        #expect(dom0.p2m.leafBacking(of: PFN(0x30200)) == .sharedIdentity)
        #expect(dom0.p2m.rawWord(PFN(0x30061)) == .identity(PFN(0x30061)))
        #expect(dom0.p2m.pfnToMFNWord(PFN(0xa0)) == .identity(PFN(0xa0)))
        assertRoundTrip(host: host, dom0: dom0, nrRAM: 196608)
    }

    @Test("a debug build scrambles the chunk pfns top-down")
    func debugBuild() throws {
        var host = try XenHost(e820: .qemuPC(ramBytes: 256 << 20))
        var cfg = Dom0BuildConfig()
        cfg.memory = try Dom0MemoryOption(parsing: "64M")
        cfg.initialMappingBytes = 0x40_0000
        cfg.separatePhysmap = false
        cfg.debugBuild = true
        let layout = try host.buildDom0(cfg)
        let first = layout.chunks[0]
        // The first chunk frame gets the last pfn, the next one the pfn below it.
        #expect(layout.domain.p2m.pfnToMFN(PFN(16383)).rawValue == first.mfn.rawValue)
        #expect(layout.domain.p2m.pfnToMFN(PFN(16382)).rawValue == first.mfn.rawValue + 1)
    }

    @Test("P2M and M2P agree for every RAM pfn of random hosts and dom0 sizes")
    func roundTripProperty() throws {
        var rng = SplitMix64(seed: 0x5eed)
        for _ in 0..<24 {
            let ramMiB = 256 + rng.next() % (12 * 1024)
            let e820 = HostE820.qemuPC(ramBytes: (ramMiB & ~1) << 20)
            var host = try XenHost(e820: e820, dmaBits: rng.next() % 3 == 0 ? 30 : nil)
            var cfg = Dom0BuildConfig()
            let dom0MiB = 64 + rng.next() % max(1, ramMiB / 2)
            switch rng.next() % 5 {
            case 0: break
            case 1: cfg.memory = try Dom0MemoryOption(parsing: "\(dom0MiB)M")
            case 2: cfg.memory = try Dom0MemoryOption(parsing: "\(dom0MiB)M,max:\(dom0MiB)M")
            case 3: cfg.memory = try Dom0MemoryOption(parsing: "-\(dom0MiB)M")
            default: cfg.memory = try Dom0MemoryOption(parsing: "\(10 + rng.next() % 80)%")
            }
            guard let layout = try? host.buildDom0(cfg) else { continue }
            var dom0 = layout.domain
            let setup = LinuxPVMemorySetup.run(
                host: &host, domain: &dom0, nrPages: layout.nrPages,
                maxReservation: layout.maxPages, map: GuestE820(dom0Layout: host.machineMemoryMap))
            assertRoundTrip(host: host, dom0: dom0, nrRAM: layout.nrPages - setup.released)
        }
    }

    @Test("a 1 TiB dom0 on a 4 TiB host stays a handful of runs")
    func terabyteDom0() throws {
        let tib: UInt64 = 1 << 40
        let e820 = HostE820([
            E820Entry(address: MachineAddress(0), size: 0x9fc00, type: .ram),
            E820Entry(address: MachineAddress(0x100000), size: 0xbff0_0000, type: .ram),
            E820Entry(address: MachineAddress(0xc000_0000), size: 0x4000_0000, type: .reserved),
            E820Entry(address: MachineAddress(1 << 32), size: 4 * tib - (3 << 30), type: .ram),
        ])
        var host = try XenHost(e820: e820)
        var cfg = Dom0BuildConfig()
        cfg.memory = try Dom0MemoryOption(parsing: "1T,max:1T")
        let layout = try host.buildDom0(cfg)
        #expect(layout.nrPages == 1 << 28)
        var dom0 = layout.domain
        let setup = LinuxPVMemorySetup.run(
            host: &host, domain: &dom0, nrPages: layout.nrPages,
            maxReservation: layout.maxPages, map: GuestE820(dom0Layout: host.machineMemoryMap))
        // 2^28 pfns plus the 262241 hole pages remapped beyond them: a 3 GiB virtual area.
        #expect(setup.p2mAreaBytes == 3 << 30)
        #expect(dom0.p2m.runs().count < 2000)
        #expect(host.m2p.runs.extents.count < 2000)
        assertRoundTrip(host: host, dom0: dom0, nrRAM: layout.nrPages - setup.released)
    }
}

/// Every machine-backed pfn maps to a frame whose M2P entry names it and that dom0 owns; the
/// number of such pfns is the RAM the domain holds.
func assertRoundTrip(host: XenHost, dom0: PVDomain, nrRAM: UInt64) {
    var ram: UInt64 = 0
    for run in dom0.p2m.runs() {
        guard case .machine(let base) = run.value else { continue }
        ram += run.count
        #expect(host.ownsAll(.dom0, base, count: run.count))
        let m2pRuns = host.m2p.runs.extents(start: base.rawValue, count: run.count)
        #expect(
            m2pRuns.count == 1 && m2pRuns[0].count == run.count && m2pRuns[0].value == .pfn(base: PFN(run.start)),
            "pfn \(Hex.plain(run.start)) → mfn \(base) ×\(run.count) has M2P \(m2pRuns)")
    }
    #expect(ram == nrRAM)
}
