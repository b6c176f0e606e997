import Testing
import XenBoot
import XenDumps
import XenLive
import XenMemory

@Suite("scale: a 16 TiB host with a 4 TiB PV dom0, analysed run by run")
struct ScaleTests {
    @Test("every RAM page of the 4 TiB dom0 is there and maps back through the M2P")
    func sixteenTiBHost() throws {
        var config = Dom0BuildConfig()
        config.memory = try Dom0MemoryOption(parsing: "4T,max:4T")
        let dom0 = try PVGuestBoot.dom0(on: try XenHost(e820: .qemuPC(ramBytes: 16 << 40)), config)
        let setup = dom0.setup
        // The holes below 4 GiB (0x9f-0xff and 0xbffdd-0xfffff) and QEMU's 12 GiB reservation at
        // 0xfd00000000 are remapped above the 2^30 RAM pfns.
        #expect(setup.remapped == (0x100 - 0x9f) + (0x100000 - 0xbffdd) + (12 << 18))
        let backend = ModelBackend(host: dom0.host, guests: [dom0.domain])
        let (p2m, source) = try backend.p2m(domain: 0)
        let s = P2MSummary(p2m, source: source, m2p: try backend.m2p())
        #expect(s.ram == 1 << 30)
        #expect(s.identity == (0x100 - 0x9f) + (0xc0000 - 0xbffdd))
        #expect(s.identityRanges.map(\.raw) == [0x9f..<0x100, 0xbffdd..<0xc0000])
        #expect(s.below4G == 0)
        #expect(s.m2pMismatches == 0)
        #expect(s.runLengthHistogram.enumerated().reduce(0) { $0 + $1.element } == s.contiguousRuns)
    }
}
