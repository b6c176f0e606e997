import Testing
import XenMemory

@testable import Swiotlb

@Suite("swiotlb= parsing, bounce data, the RFC's two pools")
struct BounceAndPoolsTests {
    static let v511Cases: [(String, UInt64, SwiotlbForce)] = [
        ("1000", 1024, .normal), ("65537,force", 65664, .force), ("1", 128, .normal),
        ("noforce", 1, .noForce), ("force", 0, .force), ("0x10000", 65536, .normal),
        ("65536", 65536, .normal), ("32768,noforce", 1, .noForce),
    ]

    @Test("swiotlb= on v5.11", arguments: v511Cases)
    func parseV511(text: String, nslabs: UInt64, force: SwiotlbForce) {
        let c = SwiotlbCommandLine(parsing: text)
        #expect(c.nslabs == nslabs && c.force == force && c.highNslabs == nil)
    }

    @Test("swiotlb= on the RFC")
    func parseRFC() {
        let a = SwiotlbCommandLine(parsing: "65536,1048576,force", kernel: .rfcV1)
        #expect(a.nslabs == 65536 && a.highNslabs == 1_048_576 && a.force == .force)
        #expect(((a.nslabs << 11) >> 20, (a.highNslabs! << 11) >> 20) == (128, 2048))
        let b = SwiotlbCommandLine(parsing: ",524288,force", kernel: .rfcV1)
        #expect(b.nslabs == 0 && b.effectiveNslabs == 32768 && b.highNslabs == 524_288 && b.force == .force)
        let c = SwiotlbCommandLine(parsing: "65536,force", kernel: .rfcV1)
        #expect(c.nslabs == 65536 && c.highNslabs == nil && c.force == .force)
        let d = SwiotlbCommandLine(parsing: "65536,1048576,noforce", kernel: .rfcV1)
        #expect(d.nslabs == 1 && d.highNslabs == 1 && d.force == .noForce)
        let e = SwiotlbCommandLine(parsing: "65536,1000", kernel: .rfcV1)
        #expect(e.highNslabs == 1024)
        // v5.11 does not know the second number: it is ignored text.
        let f = SwiotlbCommandLine(parsing: "65536,1048576,force")
        #expect(f.nslabs == 65536 && f.highNslabs == nil && f.force == .normal && f.ignored == "1048576,force")
    }

    @Test("info lines, max segment and debugfs of a v5.11 pool")
    func infoV511() {
        let t = SoftwareIOTLB(pools: [SlotPool(start: PhysicalAddress(0xbbfd_b000), nslabs: 32768)])
        #expect(t.infoLines == ["software IO TLB: mapped [mem 0x00000000bbfdb000-0x00000000bffdb000] (64MB)"])
        #expect(t.maxSegmentSize == 67_108_864)
        #expect(t.debugfs.map(\.file) == ["io_tlb_nslabs", "io_tlb_used"] && t.debugfs.map(\.value) == [32768, 0])
        let forced = SoftwareIOTLB(pools: [SlotPool(start: PhysicalAddress(0), nslabs: 128)], force: .force)
        #expect(forced.maxSegmentSize == 1)
        #expect(t.isBounceBuffer(PhysicalAddress(0xbbfd_b000)) && !t.isBounceBuffer(PhysicalAddress(0xbffd_b000)))
    }

    @Test("bytes written before a TO_DEVICE map are in the bounce buffer; FROM_DEVICE unmap copies back")
    func bounceData() throws {
        var t = SoftwareIOTLB(pools: [SlotPool(start: PhysicalAddress(0x4000_0000), nslabs: 256)])
        let orig: UInt64 = 0x1234_5000
        let data = (0..<6000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        t.memory.write(data, at: PhysicalAddress(orig))
        let out = try t.map(device: DMADevice(), original: PhysicalAddress(orig), mappingSize: 6000, allocSize: 6000, direction: .toDevice).get()
        #expect(t.memory.read(out.address, count: 6000) == data)
        try t.unmap(out.address, mappingSize: 6000, allocSize: 6000, direction: .toDevice)

        let dst: UInt64 = 0x2000_0000
        let inb = try t.map(device: DMADevice(), original: PhysicalAddress(dst), mappingSize: 4096, allocSize: 4096, direction: .fromDevice).get()
        let deviceBytes = [UInt8](repeating: 0xab, count: 4096)
        t.memory.write(deviceBytes, at: inb.address)
        try t.unmap(inb.address, mappingSize: 4096, allocSize: 4096, direction: .fromDevice)
        #expect(t.memory.read(PhysicalAddress(dst), count: 4096) == deviceBytes)
    }

    @Test("v5.11 does not pre-fill FROM_DEVICE buffers: a short device write returns stale bytes")
    func staleData() throws {
        var t = SoftwareIOTLB(pools: [SlotPool(start: PhysicalAddress(0x4000_0000), nslabs: 128)])
        let secret = [UInt8](repeating: 0x5e, count: 4096)
        t.memory.write(secret, at: PhysicalAddress(0x100_0000))
        let a = try t.map(device: DMADevice(), original: PhysicalAddress(0x100_0000), mappingSize: 4096, allocSize: 4096, direction: .toDevice).get()
        try t.unmap(a.address, mappingSize: 4096, allocSize: 4096, direction: .toDevice)
        // Wrap the cursor back to slot 0 by filling the rest of the pool.
        let filler = try t.map(device: DMADevice(), original: PhysicalAddress(0), mappingSize: 126 * 2048, allocSize: 126 * 2048, direction: .none).get()
        #expect(filler.slot == 2 && t.pools[0].index == 0)
        let b = try t.map(device: DMADevice(), original: PhysicalAddress(0x300_0000), mappingSize: 4096, allocSize: 4096, direction: .fromDevice).get()
        #expect(b.address == a.address)
        t.memory.write([UInt8](repeating: 0x11, count: 100), at: b.address)  // the device writes 100 bytes
        try t.unmap(b.address, mappingSize: 4096, allocSize: 4096, direction: .fromDevice)
        let got = t.memory.read(PhysicalAddress(0x300_0000), count: 4096)
        #expect(Array(got[0..<100]) == [UInt8](repeating: 0x11, count: 100))
        #expect(Array(got[100...]) == [UInt8](repeating: 0x5e, count: 3996))
    }

    @Test("syncs: directions, the intra-slot offset, BUG on a contradiction")
    func syncs() throws {
        var t = SoftwareIOTLB(pools: [SlotPool(start: PhysicalAddress(0x4000_0000), nslabs: 128)])
        let orig: UInt64 = 0x500_0000
        let m = try t.map(device: DMADevice(), original: PhysicalAddress(orig), mappingSize: 8192, allocSize: 8192, direction: .bidirectional).get()
        t.memory.write([1, 2, 3, 4], at: m.address.advanced(by: 2048 + 16))
        try t.sync(m.address.advanced(by: 2048 + 16), size: 4, direction: .bidirectional, target: .cpu)
        #expect(t.memory.read(PhysicalAddress(orig + 2048 + 16), count: 4) == [1, 2, 3, 4])
        t.memory.write([9, 9], at: PhysicalAddress(orig))
        try t.sync(m.address, size: 2, direction: .bidirectional, target: .device)
        #expect(t.memory.read(m.address, count: 2) == [9, 9])
        // No-ops.
        try t.sync(m.address, size: 2, direction: .toDevice, target: .cpu)
        try t.sync(m.address, size: 2, direction: .fromDevice, target: .device)
        #expect(throws: SwiotlbBug.syncDirection(.none, .cpu)) { try t.sync(m.address, size: 2, direction: .none, target: .cpu) }
        #expect(throws: SwiotlbBug.syncDirection(.none, .device)) { try t.sync(m.address, size: 2, direction: .none, target: .device) }
        // SKIP_CPU_SYNC: no copy at map or unmap.
        t.memory.write([7], at: PhysicalAddress(0x600_0000))
        let s = try t.map(
            device: DMADevice(), original: PhysicalAddress(0x600_0000), mappingSize: 1, allocSize: 1, direction: .bidirectional, attributes: .skipCPUSync
        ).get()
        #expect(t.memory.read(s.address, count: 1) == [0])
    }

    func rfcTLB() -> SoftwareIOTLB {
        SoftwareIOTLB(
            kernel: .rfcV1,
            pools: [
                SlotPool(name: "Low Mem", start: PhysicalAddress(0x2_34e0_0000), nslabs: 65536),
                SlotPool(name: "High Mem", start: PhysicalAddress(0x1_66f3_3000), nslabs: 1_048_576),
            ], force: .force)
    }

    @Test("the RFC's info lines and debugfs values")
    func rfcInfo() {
        let t = rfcTLB()
        #expect(
            t.infoLines == [
                "software IO TLB: Low Mem mapped [mem 0x0000000234e00000-0x000000023ce00000] (128MB)",
                "software IO TLB: High Mem mapped [mem 0x0000000166f33000-0x00000001e6f33000] (2048MB)",
            ])
        #expect(t.debugfs.map(\.file) == ["io_tlb_nslabs", "io_tlb_used", "io_tlb_nslabs-highmem", "io_tlb_used-highmem"])
        #expect(t.debugfs.map(\.value) == [65536, 0, 1_048_576, 0])
    }

    static let maskCases: [(UInt64, UInt64, Int)] = [
        (0xffff_ffff, 0, 0),  // 32-bit device
        (0xff_ffff_ffff, 0, 0),  // 40-bit device
        (~0, 0, 1),  // 64-bit device
        (~0, 0xffff_ffff, 0),  // 64-bit mask behind a 32-bit bus limit
        (0, ~0, 1),  // no mask, a 64-bit bus limit
        (0, 0, 0),  // nothing at all
    ]

    @Test("the RFC picks the high pool only for exactly DMA_BIT_MASK(64)", arguments: maskCases)
    func rfcSelection(mask: UInt64, limit: UInt64, pool: Int) throws {
        var t = rfcTLB()
        let d = DMADevice(dmaMask: mask, busDMALimit: limit)
        #expect(t.poolIndex(for: d) == pool)
        let m = try t.map(device: d, original: PhysicalAddress(0x1000), mappingSize: 4096, allocSize: 4096, direction: .toDevice).get()
        #expect(m.pool == pool)
        #expect(t.pools[pool].used == 2 && t.pools[1 - pool].used == 0)
        try t.unmap(m.address, mappingSize: 4096, allocSize: 4096, direction: .toDevice)
        #expect(t.pools[pool].used == 0)
    }

    @Test("per-pool full messages name the pool")
    func rfcFull() throws {
        var t = SoftwareIOTLB(
            kernel: .rfcV1,
            pools: [
                SlotPool(name: "Low Mem", start: PhysicalAddress(0), nslabs: 128),
                SlotPool(name: "High Mem", start: PhysicalAddress(1 << 32), nslabs: 128),
            ])
        _ = try t.map(device: DMADevice(), original: PhysicalAddress(0), mappingSize: 262_144, allocSize: 262_144, direction: .none).get()
        #expect(try t.map(device: DMADevice(), original: PhysicalAddress(0), mappingSize: 2048, allocSize: 2048, direction: .none) == .failure(.full))
        #expect(t.messages.last?.text == "High Mem swiotlb buffer is full (sz: 2048 bytes), total 128 (slots), used 128 (slots)")
        #expect(
            try t.map(device: DMADevice(dmaMask: 0xffff_ffff), original: PhysicalAddress(0), mappingSize: 2048, allocSize: 2048, direction: .none).get().pool
                == 0)
    }
}
