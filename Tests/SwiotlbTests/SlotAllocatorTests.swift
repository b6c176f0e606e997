import Testing
import XenMemory
import XenPVTestSupport

@testable import Swiotlb

@Suite("v5.11 slot allocator")
struct SlotAllocatorTests {
    let dev = DMADevice()

    func tlb(_ nslabs: Int = 256, start: UInt64 = 0xbbfd_b000) -> SoftwareIOTLB {
        SoftwareIOTLB(pools: [SlotPool(start: PhysicalAddress(start), nslabs: nslabs)])
    }

    func map(_ t: inout SoftwareIOTLB, _ alloc: Int, device: DMADevice = DMADevice(), orig: UInt64 = 0x10_0000) throws -> Result<BounceMapping, SwiotlbMapError>
    {
        try t.map(device: device, original: PhysicalAddress(orig), mappingSize: alloc, allocSize: alloc, direction: .toDevice)
    }

    @Test("a fresh pool: each segment reads 128, 127, …, 1")
    func initialList() {
        let p = SlotPool(start: PhysicalAddress(0), nslabs: 256)
        #expect(p.list[0] == 128 && p.list[127] == 1 && p.list[128] == 128 && p.list[255] == 1)
        #expect(p.origAddress.allSatisfy { $0 == ~0 })
    }

    @Test("the reference's worked map/unmap example (section 1.7)")
    func workedExample() throws {
        var t = tlb()
        let a = try map(&t, 5000).get()  // 3 slots, stride 2, from the cursor at 0
        #expect(a.slot == 0 && a.nslots == 3)
        #expect(Array(t.pools[0].list[0...3]) == [0, 0, 0, 125])
        #expect(t.pools[0].index == 3)
        let b = try map(&t, 4000).get()  // 2 slots, stride 1: slot 3
        #expect(b.slot == 3 && t.pools[0].index == 5 && t.pools[0].used == 5)
        try t.unmap(a.address, mappingSize: 5000, allocSize: 5000, direction: .toDevice)
        #expect(Array(t.pools[0].list[0...5]) == [3, 2, 1, 0, 0, 123])
        try t.unmap(b.address, mappingSize: 4000, allocSize: 4000, direction: .toDevice)
        #expect(Array(t.pools[0].list[0...5]) == [128, 127, 126, 125, 124, 123])
        #expect(t.pools[0].used == 0 && t.pools[0].index == 5)
        #expect(t.pools[0].origAddress[0] == ~0)
    }

    @Test("slot k of a mapping records orig + k*2048")
    func originalAddresses() throws {
        var t = tlb()
        let m = try map(&t, 3 * 2048, orig: 0x12345).get()
        #expect(Array(t.pools[0].origAddress[m.slot..<(m.slot + 3)]) == [0x12345, 0x12345 + 2048, 0x12345 + 4096])
        #expect(m.address == PhysicalAddress(0xbbfd_b000))
    }

    @Test("the boundary example: a 64 KiB segment boundary with the pool at bus 0xbbfdb000")
    func boundary() throws {
        var t = tlb()
        for _ in 0..<7 { _ = try map(&t, 2048).get() }
        #expect(t.pools[0].index == 7)
        // offset_slots = 0x177fb6, max_slots = 32: (0x16 + i) % 32 + 4 > 32 rejects i = 7, 8, 9.
        let m = try map(&t, 8192, device: DMADevice(segmentBoundaryMask: 0xffff)).get()
        #expect(m.slot == 10)
        #expect(Array(t.pools[0].list[6...11]) == [0, 3, 2, 1, 0, 0])
        // Without the boundary the same request would take slot 8.
        var u = tlb()
        for _ in 0..<7 { _ = try map(&u, 2048).get() }
        #expect(try map(&u, 8192).get().slot == 8)
    }

    @Test("the cursor wraps; page-sized mappings start on even slots")
    func wrapAndStride() throws {
        var t = tlb()
        let a = try map(&t, 262_144).get()
        let b = try map(&t, 262_144).get()
        #expect(a.slot == 0 && b.slot == 128 && t.pools[0].index == 0)
        try t.unmap(a.address, mappingSize: 262_144, allocSize: 262_144, direction: .toDevice)
        #expect(try map(&t, 2048).get().slot == 0)
        #expect(t.pools[0].index == 1)
        let even = try map(&t, 4096).get()
        #expect(even.slot == 2 && even.nslots == 2)
        #expect(t.pools[0].list[1] == 1)
    }

    @Test("262144 bytes fit in one segment; 262145 never fit")
    func largest() throws {
        var t = tlb()
        #expect(try map(&t, 262_144).get().nslots == 128)
        #expect(try map(&t, 262_145) == .failure(.full))
        #expect(t.messages.last?.text == "swiotlb buffer is full (sz: 262145 bytes), total 256 (slots), used 128 (slots)")
        var fresh = tlb()
        #expect(try map(&fresh, 262_145) == .failure(.full))
        #expect(fresh.messages.last?.text == "swiotlb buffer is full (sz: 262145 bytes), total 256 (slots), used 0 (slots)")
        #expect(IOTLB.maxMappingSize == 262_144)
    }

    @Test("full although half the slots are free when they are fragmented")
    func fragmentation() throws {
        var t = tlb()
        var maps: [BounceMapping] = []
        for _ in 0..<256 { maps.append(try map(&t, 2048).get()) }
        #expect(try map(&t, 2048) == .failure(.full))
        for m in maps where m.slot % 2 == 0 { try t.unmap(m.address, mappingSize: 2048, allocSize: 2048, direction: .toDevice) }
        #expect(t.pools[0].used == 128)
        #expect(try map(&t, 4096) == .failure(.full))
        #expect(t.messages.last?.text == "swiotlb buffer is full (sz: 4096 bytes), total 256 (slots), used 128 (slots)")
        // NO_WARN keeps it quiet.
        let before = t.messages.count
        _ = try t.map(device: dev, original: PhysicalAddress(0), mappingSize: 4096, allocSize: 4096, direction: .toDevice, attributes: .noWarn)
        #expect(t.messages.count == before)
    }

    @Test("mapping_size > alloc_size: Invalid sizes, warned once per boot (dev_warn_once), whatever the device")
    func invalidSizes() throws {
        var t = tlb()
        let d = DMADevice(name: "0000:00:04.0")
        #expect(try t.map(device: d, original: PhysicalAddress(0), mappingSize: 5000, allocSize: 4096, direction: .toDevice) == .failure(.invalidSize))
        #expect(try t.map(device: d, original: PhysicalAddress(0), mappingSize: 5000, allocSize: 4096, direction: .toDevice) == .failure(.invalidSize))
        #expect(
            try t.map(device: DMADevice(name: "nvme0"), original: PhysicalAddress(0), mappingSize: 6000, allocSize: 4096, direction: .toDevice)
                == .failure(.invalidSize))
        #expect(t.messages.map(\.description) == ["0000:00:04.0: Invalid sizes (mapping: 5000 bytes, alloc: 4096 bytes)"])
        #expect(t.pools[0].used == 0)
    }

    @Test("the free-run invariant holds after every operation of long random traces")
    func invariantProperty() throws {
        var rng = SplitMix64(seed: 11)
        // 4,000 steps a round; under the sanitizers, which scale the soaks down through
        // XENPV_SOAK_OPS, 1,000 (the pool is full within a few hundred).
        let steps = max(1_000, min(4_000, soakCount("XENPV_SOAK_OPS", default: 20_000) / 5))
        for round in 0..<6 {
            var t = tlb(round % 2 == 0 ? 1024 : 512)
            var live: [(BounceMapping, Int)] = []
            for _ in 0..<steps {
                if live.isEmpty || rng.next() % 3 != 0 {
                    let size = Int(1 + rng.next() % (rng.next() % 4 == 0 ? 262_144 : 16_384))
                    let mask: UInt64 = rng.next() % 5 == 0 ? 0xffff : ~0
                    if case .success(let m) = try map(&t, size, device: DMADevice(segmentBoundaryMask: mask)) {
                        live.append((m, size))
                        if mask == 0xffff {
                            let first = (0xbbfd_b000 >> 11) + UInt64(m.slot)
                            #expect(first / 32 == (first + UInt64(m.nslots) - 1) / 32)
                        }
                        #expect(m.slot / 128 == (m.slot + m.nslots - 1) / 128)
                    }
                } else {
                    let (m, size) = live.remove(at: Int(rng.next() % UInt64(live.count)))
                    try t.unmap(m.address, mappingSize: size, allocSize: size, direction: .toDevice)
                }
                #expect(t.pools[0].freeRunInvariantHolds)
            }
            #expect(t.pools[0].used == live.reduce(0) { $0 + $1.0.nslots })
            #expect(t.pools[0].used == t.pools[0].list.filter { $0 == 0 }.count)
        }
    }
}
