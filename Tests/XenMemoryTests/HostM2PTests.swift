import Testing

@testable import XenMemory

@Suite("M2P and the P2M round trip")
struct HostM2PTests {
    @Test("max_page is exclusive, physinfo max_mfn inclusive; free frames read INVALID")
    func bounds() {
        var m2p = HostM2P(maxPage: MFN(0x80000))
        #expect(m2p.physinfoMaxMFN == MFN(0x7ffff))
        #expect(m2p.entry(MFN(0x7ffff)) == HostM2P.invalidEntry)
        #expect(m2p.entry(MFN(0x80000)) == nil)
        #expect(m2p.lookup(MFN(0x80000)) == ~0)
        m2p.set(MFN(0x100), count: 4, to: PFN(0x2000))
        m2p.markShared(MFN(0x200), count: 1)
        #expect(m2p.entry(MFN(0x102)) == 0x2002)
        #expect(m2p.entry(MFN(0x200)) == 0xffff_ffff_ffff_fffe)
        #expect(m2p.validCount == 4)
        m2p.invalidate(MFN(0x101), count: 1)
        #expect(m2p.entry(MFN(0x101)) == HostM2P.invalidEntry)
        #expect(m2p.validCount == 3)
    }

    @Test("mfn_to_pfn validates by the P2M, falls back to 1:1, bfn_to_local_pfn refuses foreign frames")
    func roundTrip() throws {
        var m2p = HostM2P(maxPage: MFN(0x100000))
        var p2m = GuestP2M(initialList: [Extent(start: 0, count: 1024, value: .machine(base: MFN(0x40000)))], nrPages: 1024)
        m2p.set(MFN(0x40000), count: 1024, to: PFN(0))
        #expect(p2m.mfnToPFN(MFN(0x40010), m2p: m2p).rawValue == 0x10)
        #expect(p2m.localPFN(ofBusFrame: MFN(0x40010), m2p: m2p) == PFN(0x10))
        #expect(p2m.machineToPhys(MachineAddress(0x4001_0abc), m2p: m2p) == PhysicalAddress(0x10abc))
        // A stale M2P entry (another guest's claim) does not round-trip...
        m2p.set(MFN(0x300), count: 1, to: PFN(0x20))
        #expect(p2m.mfnToPFN(MFN(0x300), m2p: m2p).rawValue == ~0)
        #expect(p2m.localPFN(ofBusFrame: MFN(0x300), m2p: m2p) == nil)
        // ...but a frame number beyond the P2M reads as 1:1, so mfn_to_pfn gives it back,
        // and bfn_to_local_pfn still refuses it.
        m2p.set(MFN(0x50000), count: 1, to: PFN(0x20))
        #expect(p2m.mfnToPFN(MFN(0x50000), m2p: m2p).rawValue == 0x50000)
        #expect(p2m.localPFN(ofBusFrame: MFN(0x50000), m2p: m2p) == nil)
        // A 1:1 frame gives itself from mfn_to_pfn but is not a local pfn.
        p2m.setPhysRangeIdentity(PFN(0x9f), PFN(0x100))
        #expect(p2m.mfnToPFN(MFN(0xa0), m2p: m2p).rawValue == 0xa0)
        #expect(p2m.localPFN(ofBusFrame: MFN(0xa0), m2p: m2p) == nil)
        // A foreign frame: the M2P says pfn 0x30 but the P2M word has the foreign bit.
        try p2m.setPhysToMachine(PFN(0x30), .foreign(MFN(0x60000)))
        m2p.set(MFN(0x60000), count: 1, to: PFN(0x30))
        #expect(p2m.localPFN(ofBusFrame: MFN(0x60000), m2p: m2p) == nil)
    }
}
