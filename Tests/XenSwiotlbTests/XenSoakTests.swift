import Swiotlb
import Testing
import XenMemory
import XenPVTestSupport

@testable import XenSwiotlb

/// Operations of the xen-swiotlb soak: `XENPV_SOAK_OPS`, as the swiotlb soak (default small
/// enough for CI).
let xenSoakOps = soakCount("XENPV_SOAK_OPS", default: 20_000)

@Suite("soak: xen-swiotlb over the P2M, every invariant after every step")
struct XenSoakTests {
    /// A mapping the soak holds.
    struct Live {
        var device: DMADevice
        var handle: DMAHandle
        var original: PhysicalAddress
        var size: Int
        var direction: DMADirection
        var slots: Range<Int>
        var fill: UInt8?
    }

    /// The pool and slots a bounce buffer of `size` bytes at `bounce` occupies, or nil when
    /// `bounce` lies in no pool.
    func slots(of bounce: PhysicalAddress, size: Int, in tlb: SoftwareIOTLB) -> (pool: Int, slots: Range<Int>)? {
        guard let p = tlb.pools.firstIndex(where: { $0.contains(bounce) }) else { return nil }
        let first = Int((bounce.rawValue - tlb.pools[p].start.rawValue) >> UInt64(IOTLB.shift))
        let last = Int((bounce.rawValue + UInt64(size) - 1 - tlb.pools[p].start.rawValue) >> UInt64(IOTLB.shift))
        return (p, first..<(last + 1))
    }

    /// Whether every page of `size` bytes from `phys` is machine-contiguous with the first, and
    /// each page's frame names the page back in the M2P: checked page by page, not through the
    /// model's own range test.
    func machineContiguous(_ x: XenSwiotlb, _ phys: PhysicalAddress, size: Int) -> Bool {
        let firstPFN = phys.rawValue >> Page.shift
        let lastPFN = (phys.rawValue + UInt64(size) - 1) >> Page.shift
        let firstMFN = x.dom0.p2m.pfnToMFN(PFN(firstPFN)).rawValue
        for k in 0...(lastPFN - firstPFN) {
            let mfn = x.dom0.p2m.pfnToMFN(PFN(firstPFN + k)).rawValue
            guard mfn == firstMFN + k, x.host.m2p.entry(MFN(mfn)) == firstPFN + k else { return false }
        }
        return true
    }

    @Test(
        "one pool (v5.11) and two pools (rfc-v1): machine-contiguous bounces within each mask, bytes round trip",
        arguments: [("4096,force", SwiotlbKernel.v5_11), ("2048,8192,force", .rfcV1)])
    func xenSwiotlbSoak(commandLine: String, kernel: SwiotlbKernel) throws {
        // 6 GiB of RAM: dom0's 3 GiB run above 4 GiB, so the high pool's frames may too.
        let boot = try BootedDom0(ramBytes: 6 << 30, dom0Mem: "3G,max:3G")
        var x = try boot.xenSwiotlb(commandLine, kernel: kernel).get()
        #expect(x.tlb.pools.count == (kernel == .rfcV1 ? 2 : 1))
        #expect(checkPools(x))
        x.tlb.copiesData = true
        let devices = [
            DMADevice.pci("d32", bits: 32), .pci("d64", bits: 64),
            DMADevice(name: "d30", dmaMask: 0x3fff_ffff), DMADevice(name: "d22", dmaMask: 0x3f_ffff),
            DMADevice(name: "d64k", segmentBoundaryMask: 0xffff),
        ]
        let directions: [DMADirection] = [.toDevice, .fromDevice, .bidirectional]
        let sizes = [64, 512, 1500, 2048, 4096, 8192, 16384, 65536]
        let ramTop = UInt64(3) << 30
        var rng = SplitMix64(seed: 0xd0_50a4 &+ UInt64(commandLine.count))
        var live: [Live] = []
        var occupied = [Set<Int>](repeating: [], count: x.tlb.pools.count)
        var maps = 0, unmaps = 0, notCapable = 0, full = 0
        for step in 0..<xenSoakOps {
            if live.isEmpty || rng.next() % 100 < (live.count < 200 ? 60 : 40) {
                let device = devices[Int(rng.next() % UInt64(devices.count))]
                let direction = directions[Int(rng.next() % 3)]
                let size = rng.next() % 4 == 0 ? Int(1 + rng.next() % 65536) : sizes[Int(rng.next() % UInt64(sizes.count))]
                let original = PhysicalAddress((0x100_0000 + rng.next() % (ramTop / 2)) & ~0x3f)
                let fill: UInt8? = step % 8 == 0 ? UInt8(truncatingIfNeeded: step | 1) : nil
                if let fill, direction != .fromDevice { x.tlb.memory.write([UInt8](repeating: fill, count: size), at: original) }
                let usedBefore = x.tlb.pools.map(\.used)
                switch try x.mapPage(device, original, size: size, direction: direction, attributes: .noWarn) {
                case .failure(let e):
                    // A refused mapping leaves every pool as it was.
                    #expect(x.tlb.pools.map(\.used) == usedBefore, "step \(step): \(e) kept slots")
                    if e == .bounceBufferNotCapable { notCapable += 1 } else { full += 1 }
                case .success(let h):
                    maps += 1
                    #expect(h.bounced, "step \(step): not bounced under force")
                    #expect(device.isCapable(h.address, size: UInt64(size)), "step \(step): bounce beyond the mask")
                    let bounce = x.dmaToPhys(h.address)
                    #expect(x.physToDMA(bounce) == h.address, "step \(step): P2M/M2P round trip")
                    #expect(machineContiguous(x, bounce, size: size), "step \(step): bounce not machine-contiguous")
                    #expect(x.isXenBounceBuffer(h.address), "step \(step)")
                    let place = try #require(slots(of: bounce, size: size, in: x.tlb), "step \(step): bounce outside the pools")
                    #expect(place.pool == h.pool, "step \(step)")
                    // v5.11 and the RFC hand out the slot's own address (no offset kept).
                    #expect((bounce.rawValue - x.tlb.pools[place.pool].start.rawValue) % UInt64(IOTLB.slotSize) == 0, "step \(step): bounce inside a slot")
                    for s in place.slots { #expect(occupied[place.pool].insert(s).inserted, "step \(step): slot \(s) mapped twice") }
                    #expect(
                        place.slots.lowerBound / IOTLB.segmentSlots == (place.slots.upperBound - 1) / IOTLB.segmentSlots,
                        "step \(step): mapping crosses a segment")
                    #expect(x.tlb.pools[place.pool].segmentListHolds(containing: place.slots.lowerBound), "step \(step)")
                    if let fill, direction != .fromDevice {
                        #expect(
                            x.tlb.memory.read(bounce, count: size) == [UInt8](repeating: fill, count: size),
                            "step \(step): bytes not bounced out")
                    }
                    live.append(
                        Live(
                            device: device, handle: h, original: original, size: size, direction: direction,
                            slots: place.slots, fill: fill))
                }
            } else {
                let l = live.remove(at: Int(rng.next() % UInt64(live.count)))
                let bounce = x.dmaToPhys(l.handle.address)
                let deviceByte = (l.fill ?? 0) &+ 1
                if l.fill != nil && l.direction != .toDevice {
                    x.tlb.memory.write([UInt8](repeating: deviceByte, count: l.size), at: bounce)
                }
                try x.unmapPage(l.device, l.handle.address, size: l.size, direction: l.direction)
                unmaps += 1
                if l.fill != nil && l.direction != .toDevice {
                    #expect(
                        x.tlb.memory.read(l.original, count: l.size) == [UInt8](repeating: deviceByte, count: l.size),
                        "step \(step): bytes not copied back")
                }
                let pool = try #require(l.handle.pool)
                for s in l.slots { occupied[pool].remove(s) }
                #expect(x.tlb.pools[pool].segmentListHolds(containing: l.slots.lowerBound), "step \(step)")
            }
            for (i, p) in x.tlb.pools.enumerated() {
                #expect(p.used == occupied[i].count, "step \(step): pool \(i) counts \(p.used) used, \(occupied[i].count) held")
            }
        }
        // The pools' frames never moved: every segment still contiguous and named back by the M2P.
        #expect(checkPools(x))
        let listsHold = x.tlb.pools.allSatisfy { $0.freeRunInvariantHolds }
        #expect(listsHold)
        #expect(maps > xenSoakOps / 4 && unmaps > xenSoakOps / 4, "\(maps) maps, \(unmaps) unmaps")
        // The 22-bit device's bounce is refused whenever its slots' frames lie above 4 MiB; a run
        // of the default length or longer gets there (a few hundred steps may not).
        #expect(xenSoakOps < 20_000 || notCapable > 0, "the refusal of a bounce beyond the mask never ran (\(full) full)")
    }
}
