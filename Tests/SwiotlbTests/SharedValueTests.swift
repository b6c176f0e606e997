import Testing
import XenMemory

@testable import Swiotlb

/// The values whose storage is a class marked `@unchecked Sendable` (a pool's ``SlotTables``,
/// ``PhysicalMemory``'s chunks, ``FrameTranslationTable``), shared between tasks that read them
/// and tasks that change their own copies: what ThreadSanitizer checks (`Scripts/sanitize
/// thread` runs this suite). Each copy must see only its own changes; the shared one none.
@Suite("values shared between threads")
struct SharedValueTests {
    static let poolStart: UInt64 = 0x4000_0000
    static let tasks = 8

    /// A v5.11 TLB of 256 slots with one 4096-byte mapping (slots 0-1) holding `0xA5` bytes.
    static func sharedTLB() throws -> (SoftwareIOTLB, BounceMapping) {
        var t = SoftwareIOTLB(pools: [SlotPool(start: PhysicalAddress(poolStart), nslabs: 256)])
        t.memory.write([UInt8](repeating: 0xA5, count: 4096), at: PhysicalAddress(0x100_0000))
        let m = try t.map(device: DMADevice(), original: PhysicalAddress(0x100_0000), mappingSize: 4096, allocSize: 4096, direction: .toDevice).get()
        return (t, m)
    }

    @Test("copies of one TLB mapped and unmapped in parallel stay apart")
    func tlbCopies() async throws {
        let (shared, first) = try Self.sharedTLB()
        #expect(first.address == PhysicalAddress(Self.poolStart) && first.nslots == 2)
        let results = try await withThrowingTaskGroup(of: (Int, UInt64, [UInt8], Int).self) { group in
            for k in 0..<Self.tasks {
                group.addTask {
                    var mine = shared
                    let orig = 0x200_0000 + UInt64(k) * 0x10_0000
                    mine.memory.write([UInt8](repeating: UInt8(k), count: 2048 * (k + 1)), at: PhysicalAddress(orig))
                    let m = try mine.map(
                        device: DMADevice(), original: PhysicalAddress(orig), mappingSize: 2048 * (k + 1), allocSize: 2048 * (k + 1),
                        direction: .toDevice
                    ).get()
                    let bounced = mine.memory.read(m.address, count: 2048 * (k + 1))
                    try mine.unmap(m.address, mappingSize: 2048 * (k + 1), allocSize: 2048 * (k + 1), direction: .toDevice)
                    return (k, m.address.rawValue, bounced, mine.pools[0].used)
                }
                group.addTask {
                    // A reader of the shared TLB beside the writers of its copies.
                    let bytes = shared.memory.read(first.address, count: 4096)
                    let list = Array(shared.pools[0].list.prefix(4))
                    #expect(bytes == [UInt8](repeating: 0xA5, count: 4096) && list == [0, 0, 126, 125])
                    return (-1, 0, [], shared.pools[0].used)
                }
            }
            var all: [(Int, UInt64, [UInt8], Int)] = []
            for try await r in group { all.append(r) }
            return all
        }
        for (k, address, bounced, used) in results {
            if k < 0 {
                #expect(used == 2)
                continue
            }
            // Every copy found slot 2 free (the others' maps were in their own copies).
            #expect(address == Self.poolStart + 2 * 2048)
            #expect(bounced == [UInt8](repeating: UInt8(k), count: 2048 * (k + 1)))
            #expect(used == 2)
        }
        #expect(shared.pools[0].used == 2 && shared.memory.read(PhysicalAddress(Self.poolStart + 4096), count: 16) == [UInt8](repeating: 0, count: 16))
    }

    @Test("a slot table view read in parallel while its pool changes")
    func viewsWhilePoolChanges() async throws {
        var (tlb, _) = try Self.sharedTLB()
        let view = tlb.pools[0].origAddress
        async let readers: [UInt64] = withTaskGroup(of: UInt64.self) { group in
            for _ in 0..<Self.tasks { group.addTask { view[0] &+ view[1] &+ view[2] } }
            var sums: [UInt64] = []
            for await s in group { sums.append(s) }
            return sums
        }
        for i in 0..<64 {
            let m = try tlb.map(
                device: DMADevice(), original: PhysicalAddress(0x300_0000 + UInt64(i) * 2048), mappingSize: 2048, allocSize: 2048, direction: .none
            ).get()
            #expect(m.address == PhysicalAddress(Self.poolStart + UInt64(2 + i) * 2048))
        }
        // The view keeps the tables it was made from: slots 0-1 hold the first mapping's address, 2 none.
        let expected = 0x100_0000 &+ 0x100_0800 &+ IOTLB.invalidAddress.rawValue
        #expect(await readers == [UInt64](repeating: expected, count: Self.tasks))
        #expect(tlb.pools[0].origAddress[2] == 0x300_0000 && tlb.pools[0].used == 66)
    }

    @Test("one frame translation table looked up from many tasks")
    func translationTable() async {
        let table = FrameTranslationTable(runs: [
            .constant(start: 0, ~0), .linear(start: 0x100, base: 0x8000), .keyWithBits(start: 0x10_0000, 1 << 63),
        ])
        let sums = await withTaskGroup(of: UInt64.self) { group in
            for k in 0..<UInt64(Self.tasks) {
                group.addTask {
                    var sum: UInt64 = 0
                    for key in stride(from: k, to: 0x20_0000, by: 4099) { sum = sum &+ table.lookup(key) }
                    return sum
                }
            }
            var all: [UInt64] = []
            for await s in group { all.append(s) }
            return all
        }
        for k in 0..<UInt64(Self.tasks) {
            var sum: UInt64 = 0
            for key in stride(from: k, to: 0x20_0000, by: 4099) {
                sum = sum &+ (key < 0x100 ? ~0 : key < 0x10_0000 ? 0x8000 + key - 0x100 : key | 1 << 63)
            }
            #expect(sums.contains(sum))
        }
    }
}
