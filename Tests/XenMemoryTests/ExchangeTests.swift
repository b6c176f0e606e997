import Testing

@testable import XenMemory

@Suite("XENMEM ops and XENMEM_exchange")
struct ExchangeTests {
    /// RAM 0–8 MiB: the heap holds 0x100 o8 (zone 9), 0x200 o9 (zone 10), 0x400 o10 (zone 11).
    func tinyHost(domU pages: Int) -> (XenHost, [MFN]) {
        var host = try! XenHost(e820: HostE820([E820Entry(address: MachineAddress(0), size: 0x80_0000, type: .ram)]))
        host.addDomain(DomainState(id: DomID(1), maxPages: 0x700))
        let mfns = host.populatePhysmap(DomID(1), gpfns: (0..<UInt64(pages)).map { PFN($0) }, order: 0)
        return (host, mfns)
    }

    @Test("populate_physmap allocates from the top, sets the M2P and ownership")
    func populate() {
        let (host, mfns) = tinyHost(domU: 16)
        #expect(mfns == (0..<16).map { MFN(0x7ff - $0) })
        #expect(host.m2p.entry(MFN(0x7ff)) == 0 && host.m2p.entry(MFN(0x7f0)) == 15)
        #expect(host.owner(of: MFN(0x7f0)) == DomID(1))
        #expect(host.domains[DomID(1)]?.totPages == 16)
    }

    @Test("increase_reservation leaves the M2P alone; decrease_reservation frees and invalidates")
    func reservation() {
        var (host, mfns) = tinyHost(domU: 4)
        let more = host.increaseReservation(DomID(1), count: 2, order: 1)
        #expect(more == [MFN(0x7fa), MFN(0x7f8)])
        #expect(host.m2p.entry(MFN(0x7fa)) == HostM2P.invalidEntry)
        #expect(host.decreaseReservation(DomID(1), mfns: [mfns[0], mfns[1], MFN(0x150)], order: 0) == 2)
        #expect(host.m2p.entry(mfns[0]) == HostM2P.invalidEntry)
        #expect(host.owner(of: mfns[0]) == nil)
        #expect(host.heap.isFree(mfns[0]))
        #expect(host.domains[DomID(1)]?.totPages == 4 + 4 - 2)
        // address_bits at or below 12 is refused outright.
        #expect(host.populatePhysmap(DomID(1), gpfns: [PFN(99)], order: 0, addressBits: 12).isEmpty)
        // An order above max_order (9 for a domU) completes nothing.
        #expect(host.increaseReservation(DomID(1), count: 1, order: 10).isEmpty)
    }

    @Test("a complete exchange: new extents below address_bits, old frames freed and INVALID")
    func success() {
        var (host, mfns) = tinyHost(domU: 16)
        let r = host.exchange(
            caller: DomID(1),
            input: ExchangeSide(extents: mfns.map(\.rawValue), order: 0, domain: DomID(1)),
            output: ExchangeSide(extents: [0, 8], order: 3, addressBits: 22, domain: DomID(1)))
        #expect(r.error == nil && r.rc == 0)
        #expect(r.exchanged == 16)
        #expect(r.outputFrames == [MFN(0x3f8), MFN(0x3f0)])
        #expect(host.m2p.entry(MFN(0x3f8)) == 0 && host.m2p.entry(MFN(0x3ff)) == 7)
        #expect(host.m2p.entry(MFN(0x3f0)) == 8 && host.m2p.entry(MFN(0x3f7)) == 15)
        for m in mfns {
            #expect(host.m2p.entry(m) == HostM2P.invalidEntry)
            #expect(host.owner(of: m) == nil)
        }
        // The 16 freed frames merged back into zone 11's free space.
        #expect(host.heap.freePagesByZone[11] == 0x400)
        #expect(host.domains[DomID(1)]?.totPages == 16)
    }

    @Test("partial progress: nr_exchanged counts the chunks done before ENOMEM")
    func partial() {
        var (host, mfns) = tinyHost(domU: 384)
        let r = host.exchange(
            caller: DomID(1),
            input: ExchangeSide(extents: mfns.map(\.rawValue), order: 0, domain: DomID(1)),
            output: ExchangeSide(extents: [0, 128, 256], order: 7, addressBits: 21, domain: DomID(1)))
        #expect(r.error == .enomem && r.rc == -12)
        #expect(r.exchanged == 256)
        #expect(r.outputFrames == [MFN(0x180), MFN(0x100)])
        // The third chunk's inputs are untouched.
        #expect(host.owner(of: mfns[300]) == DomID(1))
        #expect(host.m2p.entry(mfns[300]) == 300)
        #expect(host.m2p.entry(mfns[0]) == HostM2P.invalidEntry)
    }

    @Test("each error code")
    func errors() {
        var (host, mfns) = tinyHost(domU: 16)
        let input = ExchangeSide(extents: mfns.map(\.rawValue), order: 0, domain: DomID(1))
        // Above max_order for a domU (9).
        #expect(
            host.exchange(
                caller: DomID(1), input: ExchangeSide(extents: Array(repeating: 0, count: 1024).enumerated().map { _ in 0 }, order: 0, domain: DomID(1)),
                output: ExchangeSide(extents: [0], order: 10, domain: DomID(1))
            ).error == .eperm)
        // Sizes that do not match.
        #expect(
            host.exchange(
                caller: DomID(1), input: input,
                output: ExchangeSide(extents: [0], order: 3, domain: DomID(1))
            ).error == .einval)
        // Different domids.
        #expect(
            host.exchange(
                caller: DomID(1), input: input,
                output: ExchangeSide(extents: [0], order: 4, domain: DomID(2))
            ).error == .einval)
        // Unknown domain.
        #expect(
            host.exchange(
                caller: DomID(1), input: ExchangeSide(extents: [0x7ff], order: 0, domain: DomID(7)),
                output: ExchangeSide(extents: [0], order: 0, domain: DomID(7))
            ).error == .esrch)
        // A frame the domain does not own (free in the heap).
        let notOwned = host.exchange(
            caller: DomID(1), input: ExchangeSide(extents: [0x150], order: 0, domain: DomID(1)),
            output: ExchangeSide(extents: [0], order: 0, domain: DomID(1)))
        #expect(notOwned.error == .einval && notOwned.exchanged == 0)
        // Nothing free below 2^20 bytes.
        let noMem = host.exchange(
            caller: DomID(1), input: input,
            output: ExchangeSide(extents: [0], order: 4, addressBits: 20, domain: DomID(1)))
        #expect(noMem.error == .enomem && noMem.exchanged == 0)
        #expect(host.owner(of: mfns[0]) == DomID(1) && host.m2p.entry(mfns[0]) == 0)
    }

    @Test("max_order by role and memop-max-order")
    func maxOrders() {
        var host = try! XenHost(e820: HostE820([E820Entry(address: MachineAddress(0), size: 0x80_0000, type: .ram)]))
        host.addDomain(DomainState(id: DomID(0), isControl: true, isHardware: true, maxPages: 1))
        host.addDomain(DomainState(id: DomID(3), isHardware: true, maxPages: 1))
        host.addDomain(DomainState(id: DomID(4), isControl: true, maxPages: 1))
        host.addDomain(DomainState(id: DomID(5), hasPassthrough: true, maxPages: 1))
        host.addDomain(DomainState(id: DomID(6), maxPages: 1))
        #expect([0, 3, 4, 5, 6].map { host.maxOrder(of: DomID($0)) } == [18, 12, 18, 12, 9])
        let hw = host.exchange(
            caller: DomID(3), input: ExchangeSide(extents: [0x200], order: 13, domain: DomID(3)),
            output: ExchangeSide(extents: [0], order: 13, domain: DomID(3)))
        #expect(hw.error == .eperm)
    }

    @Test("create_contiguous_region: one aligned machine extent below 2^address_bits, restored on failure")
    func contiguousRegion() {
        var (host, mfns) = tinyHost(domU: 64)
        var guest = PVDomain(
            id: DomID(1),
            p2m: GuestP2M(
                initialList: mfns.enumerated().map {
                    Extent(start: UInt64($0.offset), count: 1, value: .machine(base: MFN($0.element.rawValue)))
                }, nrPages: 64))
        #expect(!guest.p2m.isMachineContiguous(PhysicalAddress(0), size: 64 * 4096))
        let ok = host.createContiguousRegion(&guest, start: PFN(0), order: 6, addressBits: 21, maxOrder: XenHost.maxContiguousOrder)
        #expect(ok == .success(MachineAddress(0x1c0000)))
        #expect(guest.p2m.isMachineContiguous(PhysicalAddress(0), size: 64 * 4096))
        for i in UInt64(0)..<64 {
            #expect(guest.p2m.pfnToMFN(PFN(i)).rawValue == 0x1c0 + i)
            #expect(host.m2p.entry(MFN(0x1c0 + i)) == i)
        }
        #expect(0x1c0 % 64 == 0 && (0x1c0 + 64) << 12 <= 1 << 21)
        for m in mfns { #expect(host.m2p.entry(m) == HostM2P.invalidEntry && host.heap.isFree(m)) }

        // Nothing free below 2^20: ENOMEM and the frames are back where they were.
        let fail = host.createContiguousRegion(&guest, start: PFN(0), order: 6, addressBits: 20, maxOrder: XenHost.maxContiguousOrder)
        #expect(fail == .failure(.exchangeFailed(.enomem)))
        #expect(guest.p2m.pfnToMFN(PFN(5)).rawValue == 0x1c5 && host.m2p.entry(MFN(0x1c5)) == 5)
        #expect(
            host.createContiguousRegion(&guest, start: PFN(0), order: 10, addressBits: 32, maxOrder: XenHost.maxContiguousOrder) == .failure(.orderTooLarge(10))
        )

        // Destroy: order-0 frames again, from the top of the heap.
        host.destroyContiguousRegion(&guest, start: PFN(0), order: 6, maxOrder: XenHost.maxContiguousOrder)
        #expect(guest.p2m.pfnToMFN(PFN(0)).rawValue == 0x7ff)
        #expect(host.m2p.entry(MFN(0x7ff)) == 0)
        #expect(host.heap.isFree(MFN(0x1c0)) && host.m2p.entry(MFN(0x1c0)) == HostM2P.invalidEntry)
    }

    @Test("a domU in populate batches, ballooned out and back in")
    func domUAndBalloon() throws {
        var host = try XenHost(e820: .qemuPC(ramBytes: 1 << 30))
        var guest = try host.buildPVDomU(id: DomID(2), pages: 4096, maxPages: 8192)
        // Eight 2 MiB superpages, each the top of what is left in zone 18: 0x3fc00 (an exact
        // order-9 block), then the upper half of 0x3f800 o10, and so on downwards.
        #expect(guest.p2m.runs().map(\.count) == Array(repeating: 512, count: 8))
        #expect(guest.p2m.pfnToMFN(PFN(0)).rawValue == 0x3fc00)
        #expect(guest.p2m.pfnToMFN(PFN(512)).rawValue == 0x3fa00)
        #expect(guest.p2m.pfnToMFN(PFN(1024)).rawValue == 0x3f800)
        let out = host.balloonOut(&guest, count: 10)
        #expect(out.first == PFN(4095) && out.last == PFN(4086))
        #expect(guest.p2m.pfnToMFNWord(PFN(4090)) == .invalid)
        #expect(host.domains[DomID(2)]?.totPages == 4086)
        let back = try host.balloonIn(&guest, pfns: out)
        #expect(back.count == 10)
        for p in out {
            let m = guest.p2m.pfnToMFN(p).rawValue
            #expect(host.m2p.entry(MFN(m)) == p.rawValue)
        }
        // Within max_pages but beyond the 4096-entry list: Xen populates, the kernel BUGs.
        #expect(guest.p2m.p2mSize == 4096)
        do {
            _ = try host.balloonIn(&guest, pfns: [PFN(5000)])
            Issue.record("a pfn beyond the P2M list was set")
        } catch {
            guard case .setBeyondP2MSize(pfn: PFN(5000), _) = error else { Issue.record("\(error)"); return }
        }
    }
}
