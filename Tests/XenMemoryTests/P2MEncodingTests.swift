import Testing

@testable import XenMemory

@Suite("P2M words and guest P2M semantics")
struct P2MEncodingTests {
    @Test("raw words decode as Linux encodes them")
    func wordEncodings() {
        #expect(P2MWord.invalid.rawValue == 0xffff_ffff_ffff_ffff)
        #expect(P2MWord.identityBit == 0x4000_0000_0000_0000)
        #expect(P2MWord.foreignBit == 0x8000_0000_0000_0000)
        #expect(P2MWord(rawValue: 0x4000_0000_0000_009f).decoded == .identity(PFN(0x9f)))
        #expect(P2MWord(rawValue: 0x8000_0000_0012_3456).decoded == .foreign(MFN(0x123456)))
        #expect(P2MWord(rawValue: 0x70000).decoded == .machine(MFN(0x70000)))
        #expect(P2MWord.invalid.decoded == .missing)
        #expect(P2MWord.identity(PFN(0x9f)).strippedFrame == MFN(0x9f))
        #expect(P2MWord.foreign(MFN(0x42)).strippedFrame == MFN(0x42))
        #expect(P2MWord.invalid.strippedFrame == MFN(~0))
        for e in [P2MEntry.machine(MFN(7)), .identity(PFN(9)), .foreign(MFN(11)), .missing] {
            #expect(e.word.decoded == e)
        }
    }

    @Test("addresses keep their page offset through the P2M")
    func addressConversion() {
        let p2m = GuestP2M(initialList: [Extent(start: 0, count: 16, value: .machine(base: MFN(0x1000)))], nrPages: 16)
        let m = p2m.physToMachine(PhysicalAddress(0x3abc))
        #expect(m == MachineAddress(0x1003abc))
        #expect(m.pageOffset == 0xabc)
    }

    /// A list of 4 leaves: leaf 0 RAM, leaf 1 missing, leaf 2 identity, leaf 3 mixed.
    func fourLeafP2M() -> GuestP2M {
        var p2m = GuestP2M(
            initialList: [
                Extent(start: 0, count: 512, value: .machine(base: MFN(0x80000))),
                Extent(start: 1536, count: 100, value: .machine(base: MFN(0x90000))),
            ], nrPages: 2048)
        p2m.setPhysRangeIdentity(PFN(1024), PFN(1536))
        p2m.setPhysRangeIdentity(PFN(1636), PFN(1700))
        return p2m
    }

    @Test("fully missing and fully identity leaves are shared after the rebuild")
    func leafSharing() {
        var p2m = fourLeafP2M()
        #expect(p2m.p2mSize == 2048)
        let area = p2m.rebuild(hotplugLimitPages: 0)
        #expect(area == 1 << 30)
        #expect(p2m.p2mSize == (1 << 30) / 8)
        #expect(p2m.leafBacking(of: PFN(0)) == nil)
        #expect(p2m.leafBacking(of: PFN(600)) == .sharedMissing)
        #expect(p2m.leafBacking(of: PFN(1100)) == .sharedIdentity)
        #expect(p2m.leafBacking(of: PFN(1600)) == nil)
        // Beyond the old list everything is identity, shared.
        #expect(p2m.leafBacking(of: PFN(5000)) == .sharedIdentity)
        // A raw reader sees ~0 in both kinds of shared leaves...
        #expect(p2m.rawWord(PFN(600)) == .invalid)
        #expect(p2m.rawWord(PFN(1100)) == .invalid)
        // ...and the stored words in private leaves.
        #expect(p2m.rawWord(PFN(1650)) == P2MWord(rawValue: 1650 | P2MWord.identityBit))
        #expect(p2m.rawWord(PFN(1700)) == .invalid)
        #expect(p2m.rawWord(PFN(5)) == P2MWord(rawValue: 0x80005))
        // Lookups resolve them.
        #expect(p2m.pfnToMFNWord(PFN(600)) == .invalid)
        #expect(p2m.pfnToMFNWord(PFN(1100)) == .identity(PFN(1100)))
        #expect(p2m.pfnToMFN(PFN(1100)).rawValue == 1100)
        #expect(p2m.pfnToMFN(PFN(600)).rawValue == ~0)
        #expect(p2m.pfnToMFN(PFN(1537)).rawValue == 0x90001)
        // Beyond xen_max_p2m_pfn: identity.
        #expect(p2m.pfnToMFNWord(PFN(1 << 40)) == .identity(PFN(1 << 40)))
    }

    @Test("foreign frames keep the foreign bit in the full word only")
    func foreignLookup() throws {
        var p2m = fourLeafP2M()
        try p2m.setPhysToMachine(PFN(3), .foreign(MFN(0x1234)))
        #expect(p2m.pfnToMFNWord(PFN(3)) == .foreign(MFN(0x1234)))
        #expect(p2m.pfnToMFN(PFN(3)).rawValue == 0x1234)
        #expect(p2m.rawWord(PFN(3)) == P2MWord(rawValue: 0x8000_0000_0000_1234))
    }

    @Test("__set_phys_to_machine refuses to change a shared leaf; set_phys_to_machine makes it private")
    func setEntryFailures() throws {
        var p2m = fourLeafP2M()
        p2m.rebuild(hotplugLimitPages: 0)
        let gen = p2m.generation
        // Same value as the shared page: accepted without a private leaf.
        #expect(try p2m.setPhysToMachineFast(PFN(600), .invalid))
        #expect(try p2m.setPhysToMachineFast(PFN(1100), .identity(PFN(1100))))
        // A different value: refused.
        #expect(try !p2m.setPhysToMachineFast(PFN(600), .machine(MFN(0x5000))))
        #expect(try !p2m.setPhysToMachineFast(PFN(1100), .invalid))
        #expect(p2m.leafBacking(of: PFN(600)) == .sharedMissing)
        #expect(p2m.generation == gen)
        // The allocating form gives the leaf a private page, bumping the generation twice.
        #expect(try p2m.setPhysToMachine(PFN(600), .machine(MFN(0x5000))))
        #expect(p2m.leafBacking(of: PFN(600)) == nil)
        #expect(p2m.generation == gen + 2)
        #expect(p2m.pfnToMFN(PFN(600)).rawValue == 0x5000)
        // The rest of the new private leaf keeps the shared page's values.
        #expect(p2m.rawWord(PFN(601)) == .invalid)
        #expect(try p2m.setPhysToMachine(PFN(1100), .invalid))
        #expect(p2m.rawWord(PFN(1101)) == .identity(PFN(1101)))
        #expect(p2m.pfnToMFNWord(PFN(1100)) == .invalid)
    }

    @Test("a leaf allocated at or past the last-pfn hint raises it to ALIGN(pfn + 1, 512)")
    func lastPfnHintRaisedToLeafEnd() throws {
        var p2m = fourLeafP2M()
        p2m.rebuild(hotplugLimitPages: 0)
        // xen_rebuild_p2m_list: xen_p2m_last_pfn = xen_max_p2m_pfn.
        #expect(p2m.lastPfnHint == PFN(2048))
        // A private leaf below the hint leaves it alone.
        try p2m.setPhysToMachine(PFN(600), .machine(MFN(0x5000)))
        #expect(p2m.lastPfnHint == PFN(2048))
        // pfn 2048 is at the hint: the hint becomes the end of its leaf, not the pfn.
        try p2m.setPhysToMachine(PFN(2048), .machine(MFN(0x6000)))
        #expect(p2m.lastPfnHint == PFN(2560))
        try p2m.setPhysToMachine(PFN(0x1_0005), .machine(MFN(0x7000)))
        #expect(p2m.lastPfnHint == PFN(0x1_0200))
    }

    @Test("a range raises the hint for the first pfn it writes in a leaf, not for the leaf's start")
    func lastPfnHintFromRangeStart() throws {
        var p2m = fourLeafP2M()
        // A max_pfn inside a leaf, as on the captured dom0 (0x30061).
        p2m.maxP2MPfn = PFN(2100)
        p2m.rebuild(hotplugLimitPages: 0)
        #expect(p2m.lastPfnHint == PFN(2100))
        // Leaf 4 (2048-2559) starts below the hint; the range's first pfn there, 2200, is past it.
        try p2m.setRange(PFN(2200), count: 10, to: .machine(base: MFN(0x8000)))
        #expect(p2m.lastPfnHint == PFN(2560))
        // The counted form is the same walk.
        var q = fourLeafP2M()
        q.maxP2MPfn = PFN(2100)
        q.rebuild(hotplugLimitPages: 0)
        q.setPhysToMachine(PFN(2200), count: 10, machineBase: MFN(0x8000))
        #expect(q == p2m)
    }

    @Test("above xen_p2m_size only INVALID is accepted; anything else is the kernel's BUG")
    func setBeyondSize() {
        var p2m = GuestP2M(initialList: [], nrPages: 512)
        #expect(throws: P2MError.setBeyondP2MSize(pfn: PFN(600), word: .machine(MFN(1)))) {
            try p2m.setPhysToMachineFast(PFN(600), .machine(MFN(1)))
        }
        #expect((try? p2m.setPhysToMachineFast(PFN(600), .invalid)) == true)
    }

    @Test("extra memory reads INVALID beyond the list and identity elsewhere")
    func extraMemory() {
        var p2m = GuestP2M(initialList: [Extent(start: 0, count: 512, value: .machine(base: MFN(0x100)))], nrPages: 512)
        p2m.maxP2MPfn = PFN(2048)
        p2m.addExtraMemory(start: PFN(1024), count: 100)
        p2m.addExtraMemory(start: PFN(1124), count: 28)
        #expect(p2m.extraMemory.map(\.raw) == [1024..<1152])
        #expect(p2m.pfnToMFNWord(PFN(1030)) == .invalid)
        #expect(p2m.pfnToMFNWord(PFN(1151)) == .invalid)
        #expect(p2m.pfnToMFNWord(PFN(1152)) == .identity(PFN(1152)))
        #expect(p2m.pfnToMFNWord(PFN(700)) == .identity(PFN(700)))
        p2m.removeExtraMemory(start: PFN(1050), count: 10)
        #expect(p2m.extraMemory.map(\.raw) == [1024..<1050, 1060..<1152])
    }

    @Test("machine contiguity follows range_straddles_page_boundary")
    func contiguity() {
        let p2m = GuestP2M(
            initialList: [
                Extent(start: 0, count: 4, value: .machine(base: MFN(0x100))),
                Extent(start: 4, count: 4, value: .machine(base: MFN(0x104))),  // continues: merged
                Extent(start: 8, count: 4, value: .machine(base: MFN(0x300))),
            ], nrPages: 12)
        // Two machine runs (the first two merged) and the INVALID padding up to 512 entries.
        #expect(p2m.runs().map(\.count) == [8, 4, 500])
        #expect(p2m.isMachineContiguous(PhysicalAddress(0), size: 8 * 4096))
        #expect(!p2m.isMachineContiguous(PhysicalAddress(0), size: 8 * 4096 + 1))
        // One byte on each side of the 7/8 boundary straddles two frames that are not adjacent.
        #expect(!p2m.isMachineContiguous(PhysicalAddress(8 * 4096 - 1), size: 2))
        #expect(p2m.isMachineContiguous(PhysicalAddress(8 * 4096 - 1), size: 1))
        #expect(p2m.isMachineContiguous(PhysicalAddress(0x8123), size: 4096 * 3))
        // Missing frames are never contiguous with anything.
        let holes = GuestP2M(initialList: [Extent(start: 0, count: 1, value: .machine(base: MFN(5)))], nrPages: 4)
        #expect(!holes.isMachineContiguous(PhysicalAddress(0), size: 8192))
    }
}
