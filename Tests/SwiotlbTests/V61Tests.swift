import Testing
import XenMemory

@testable import Swiotlb

@Suite("Linux 6.1 semantics (areas, min_align_mask)")
struct V61Tests {
    func tlb(_ nslabs: Int = 256, areas: Int = 2) -> SoftwareIOTLB {
        var t = SoftwareIOTLB(kernel: .v6_1, pools: [SlotPool(start: PhysicalAddress(0xbbfd_b000), nslabs: nslabs, areas: areas)])
        t.copiesData = true
        return t
    }

    @Test("each CPU starts in its own area, with its own cursor")
    func areas() throws {
        var t = tlb()
        let a = try t.map(device: DMADevice(), original: PhysicalAddress(0x1000), mappingSize: 5000, allocSize: 5000, direction: .toDevice, cpu: 0).get()
        let b = try t.map(device: DMADevice(), original: PhysicalAddress(0x9000), mappingSize: 5000, allocSize: 5000, direction: .toDevice, cpu: 1).get()
        let c = try t.map(device: DMADevice(), original: PhysicalAddress(0x2000), mappingSize: 4000, allocSize: 4000, direction: .toDevice, cpu: 2).get()
        #expect([a.slot, b.slot, c.slot] == [0, 128, 3])
        #expect(t.pools[0].areas.map(\.used) == [5, 3] && t.pools[0].areas.map(\.index) == [5, 3] && t.pools[0].used == 8)
        try t.unmap(b.address, mappingSize: 5000, allocSize: 5000, direction: .toDevice)
        #expect(t.pools[0].areas.map(\.used) == [5, 0] && t.pools[0].used == 5)
        #expect(t.pools[0].freeRunInvariantHolds)
    }

    @Test("a full area hands over to the next one")
    func areaFallback() throws {
        var t = tlb()
        _ = try t.map(device: DMADevice(), original: PhysicalAddress(0), mappingSize: 262_144, allocSize: 262_144, direction: .none, cpu: 0).get()
        let next = try t.map(device: DMADevice(), original: PhysicalAddress(0), mappingSize: 2048, allocSize: 2048, direction: .none, cpu: 0).get()
        #expect(next.slot == 128)
    }

    @Test("min_align_mask keeps the low bits of the original address (NVMe, 4095)")
    func minAlign() throws {
        var t = tlb()
        let nvme = DMADevice(name: "nvme0", minAlignMask: 4095)
        let orig: UInt64 = 0x1234
        t.memory.write(Array(repeating: 7, count: 4096), at: PhysicalAddress(orig))
        let m = try t.map(device: nvme, original: PhysicalAddress(orig), mappingSize: 4096, allocSize: 4096, direction: .toDevice).get()
        // offset 0x234, 3 slots, stride 4; slot 0 of the pool already has bit 11 clear like orig.
        #expect(m.slot == 0 && m.nslots == 3 && m.address == PhysicalAddress(0xbbfd_b234))
        #expect(m.address.rawValue & 0xfff == orig & 0xfff)
        #expect(t.pools[0].allocSize[0] == 4096 && t.pools[0].allocSize[1] == 4096 - 2048)
        #expect(t.memory.read(m.address, count: 4096) == Array(repeating: 7, count: 4096))
        try t.unmap(m.address, mappingSize: 4096, allocSize: 4096, direction: .toDevice, minAlignMask: 4095)
        #expect(t.pools[0].used == 0 && t.pools[0].list[0] == 128)
        // An original with bit 11 set needs a slot whose address has it set too.
        let m2 = try t.map(device: nvme, original: PhysicalAddress(0x5a00), mappingSize: 512, allocSize: 512, direction: .toDevice).get()
        #expect(m2.address.rawValue & 0xfff == 0xa00)
    }

    @Test("the map always fills the bounce buffer: no stale bytes after a short device write")
    func noStaleData() throws {
        var t = tlb(128, areas: 1)
        t.memory.write(Array(repeating: 0x5e, count: 4096), at: PhysicalAddress(0x100_0000))
        let a = try t.map(device: DMADevice(), original: PhysicalAddress(0x100_0000), mappingSize: 4096, allocSize: 4096, direction: .toDevice).get()
        try t.unmap(a.address, mappingSize: 4096, allocSize: 4096, direction: .toDevice)
        _ = try t.map(device: DMADevice(), original: PhysicalAddress(0), mappingSize: 126 * 2048, allocSize: 126 * 2048, direction: .none).get()
        t.memory.write(Array(repeating: 0x22, count: 4096), at: PhysicalAddress(0x300_0000))
        let b = try t.map(device: DMADevice(), original: PhysicalAddress(0x300_0000), mappingSize: 4096, allocSize: 4096, direction: .fromDevice).get()
        #expect(b.address == a.address)
        t.memory.write(Array(repeating: 0x11, count: 100), at: b.address)
        try t.unmap(b.address, mappingSize: 4096, allocSize: 4096, direction: .fromDevice)
        let got = t.memory.read(PhysicalAddress(0x300_0000), count: 4096)
        #expect(Array(got[100...]) == Array(repeating: 0x22, count: 3996))
    }

    @Test("a sync beyond the allocation is cut short with the kernel's warning")
    func overflow() throws {
        var t = tlb(128, areas: 1)
        let m = try t.map(device: DMADevice(), original: PhysicalAddress(0x4000), mappingSize: 100, allocSize: 100, direction: .bidirectional).get()
        try t.sync(m.address, size: 4096, direction: .bidirectional, target: .cpu)
        #expect(t.messages.last?.text == "Buffer overflow detected. Allocation size: 100. Mapping size: 4096.")
    }

    @Test("swiotlb= on v6.1: the area count, and noforce allocating nothing")
    func cmdline() {
        let a = SwiotlbCommandLine(parsing: "65536,8,force", kernel: .v6_1)
        #expect(a.nslabs == 65536 && a.areas == 8 && a.force == .force)
        let b = SwiotlbCommandLine(parsing: "noforce", kernel: .v6_1)
        #expect(b.nslabs == 0 && b.force == .noForce)
    }
}
