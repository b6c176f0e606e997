import Swiotlb
import SwiotlbReference
import XenMemory

/// The issue-10 allocator workload on xenpv's `SoftwareIOTLB`, operation for operation the one
/// the C reference (`swiotlb_ref_run`) runs: a 32768-slot pool at 0x7bfdb000, maps with
/// probability 0.75 while fewer than half the slots are used (else 0.25), otherwise an unmap of
/// a random live mapping; sizes uniform over {512, 1500, 2048, 4096, 8192, 65536}, directions
/// uniform, maps with `DMA_ATTR_SKIP_CPU_SYNC`.
struct AllocatorWorkload {
    static let nslabs = 32768
    static let start: UInt64 = 0x7bfd_b000
    static let sizes = [512, 1500, 2048, 4096, 8192, 65536]
    static let directions: [DMADirection] = [.toDevice, .fromDevice, .bidirectional]
    static let originBase: UInt64 = 0x1_0000_0000
    static let originSpan: UInt64 = 256 << 20

    /// A live mapping, as small as the C reference's (the live table is read at random).
    struct Mapping { var tlb: PhysicalAddress; var id: UInt32; var size: UInt32; var direction: DMADirection }

    /// A live mapping of the runs on `SlotPool` directly.
    typealias SlotMapping = (slot: Int32, nslots: Int32, size: Int32, direction: Int32)

    /// What the run did, in the C reference's terms; a fresh one has counted nothing.
    struct Outcome: Equatable {
        var maps: UInt64 = 0, unmaps: UInt64 = 0, full: UInt64 = 0
        /// FNV-1a-style hash of every slot chosen, in order (`~0` for a full pool).
        var slotChecksum: UInt64 = 0xcbf2_9ce4_8422_2325
        var bytesCopied: UInt64 = 0

        /// Counts a map that took `slot`, or found the pool full (nil), as the C reference does.
        @inline(__always)
        mutating func countMap(slot: Int?) {
            maps &+= 1
            if slot == nil { full &+= 1 }
            slotChecksum = (slotChecksum ^ UInt64(truncatingIfNeeded: slot ?? -1)) &* 0x100_0000_01b3
        }
    }

    /// Runs `ops` operations; with `moveBytes` the unmaps copy the bytes back as the kernel does.
    static func run(ops: Int, seed: UInt64, moveBytes: Bool) -> Outcome {
        var noTrace: String? = nil
        return play(ops: ops, seed: seed, moveBytes: moveBytes, trace: &noTrace)
    }

    /// The workload as a replay trace: a `pool` line, then one `map` or `unmap` line per
    /// operation (ids `m0`, `m1`, …), the choices made as `run` makes them.
    static func trace(ops: Int, seed: UInt64) -> String {
        var text: String? = "pool nslabs=\(nslabs) start=0x\(String(start, radix: 16))\n"
        text!.reserveCapacity(ops * 64)
        _ = play(ops: ops, seed: seed, moveBytes: false, trace: &text)
        return text!
    }

    /// The run, writing each operation as a trace line into `trace` when it is not nil.
    static func play(ops: Int, seed: UInt64, moveBytes: Bool, trace: inout String?) -> Outcome {
        precondition(ops <= Int(UInt32.max), "mapping ids are 32-bit")
        var tlb = SoftwareIOTLB(pools: [SlotPool(start: PhysicalAddress(start), nslabs: nslabs)])
        tlb.copiesData = moveBytes
        let device = DMADevice(segmentBoundaryMask: 0xffff_ffff)
        let attributes: DMAAttributes = [.skipCPUSync, .noWarn]
        let directions = Self.directions
        var draws = Draws(seed: seed)
        var live = LiveMappings<Mapping>()
        defer { live.deallocate() }
        var out = Outcome()
        for op in 0..<ops {
            if draws.nextIsMap(used: tlb.pools[0].used, liveCount: live.count) {
                let (size, d, orig) = draws.mapArguments()
                let direction = directions[d]
                if trace != nil {
                    trace! += "map id=m\(op) orig=0x\(String(orig, radix: 16)) size=\(size) dir=\(direction.rawValue) attrs=skip_cpu_sync\n"
                }
                let result = try! tlb.map(
                    device: device, original: PhysicalAddress(orig), mappingSize: size, allocSize: size,
                    direction: direction, attributes: attributes)
                switch result {
                case .success(let m):
                    out.countMap(slot: m.slot)
                    live.append(Mapping(tlb: m.address, id: UInt32(truncatingIfNeeded: op), size: UInt32(size), direction: direction))
                case .failure:
                    out.countMap(slot: nil)
                }
            } else {
                let m = live.removeOne(drawnBy: &draws)
                if trace != nil { trace! += "unmap id=m\(m.id)\n" }
                let size = Int(m.size)
                if m.direction != .toDevice { out.bytesCopied &+= UInt64(size) }
                try! tlb.unmap(m.tlb, mappingSize: size, allocSize: size, direction: m.direction)
                out.unmaps &+= 1
            }
        }
        return out
    }

    /// The run on the allocator itself, `SlotPool`, as the C reference runs its `pool_alloc` and
    /// `pool_free`: slots found and taken, original addresses recorded, slots given back; no
    /// device checks, messages or bounce bookkeeping around them (``play`` has those).
    static func runPool(ops: Int, seed: UInt64) -> Outcome {
        var pool = PoolSlots()
        return runSlots(ops: ops, seed: seed, on: &pool)
    }

    /// The workload's own cost: the same random draws and live-mapping table as ``runPool``, with
    /// a stand-in that hands out slots by counting instead of searching (no slot tables). What the
    /// allocator benchmarks take beyond this is the allocator's.
    static func runHarness(ops: Int, seed: UInt64) -> Outcome {
        var counter = CountingSlots()
        return runSlots(ops: ops, seed: seed, on: &counter)
    }

    /// The workload on a bare slot allocator: draws, the live table and the outcome.
    @inline(__always)
    static func runSlots(ops: Int, seed: UInt64, on slots: inout some WorkloadSlots) -> Outcome {
        var draws = Draws(seed: seed)
        var live = LiveMappings<SlotMapping>()
        defer { live.deallocate() }
        var out = Outcome()
        for _ in 0..<ops {
            if draws.nextIsMap(used: slots.used, liveCount: live.count) {
                let (size, d, orig) = draws.mapArguments()
                let nslots = (size + IOTLB.slotSize - 1) >> IOTLB.shift
                let slot = slots.take(nslots: nslots, stride: size >= 4096 ? 2 : 1, original: orig)
                out.countMap(slot: slot)
                guard let slot else { continue }
                live.append((Int32(slot), Int32(nslots), Int32(size), Int32(truncatingIfNeeded: d)))
            } else {
                let m = live.removeOne(drawnBy: &draws)
                if m.direction != 0 && slots.isMapped(slot: Int(m.slot)) { out.bytesCopied &+= UInt64(m.size) }
                slots.give(slot: Int(m.slot), nslots: Int(m.nslots))
                out.unmaps &+= 1
            }
        }
        return out
    }

    /// The same run in the C reference.
    static func runReference(ops: Int, seed: UInt64, moveBytes: Bool) -> Outcome {
        var r = swiotlb_ref_result()
        precondition(swiotlb_ref_run(UInt64(ops), seed, Int32(nslabs), start, moveBytes ? 1 : 0, &r, nil) == 0, "C reference: out of memory")
        return Outcome(r)
    }

    /// The run's operations drawn in advance: the C reference runs the workload and writes down
    /// each map (slots, stride, original address) and each unmap (which live mapping), so that a
    /// run over them times the allocator and the live table without the random draws.
    static func drawn(ops: Int, seed: UInt64) -> [swiotlb_ref_op] {
        var r = swiotlb_ref_result()
        return [swiotlb_ref_op](unsafeUninitializedCapacity: ops) { buffer, count in
            precondition(swiotlb_ref_run(UInt64(ops), seed, Int32(nslabs), start, 0, &r, buffer.baseAddress) == 0, "C reference: out of memory")
            count = ops
        }
    }

    /// Operations drawn in advance, on the C reference's allocator.
    static func runDrawnReference(_ ops: [swiotlb_ref_op]) -> Outcome {
        var r = swiotlb_ref_result()
        let rc = ops.withUnsafeBufferPointer { swiotlb_ref_run_drawn($0.baseAddress, UInt64($0.count), Int32(nslabs), start, &r) }
        precondition(rc == 0, "C reference: out of memory")
        return Outcome(r)
    }

    /// Operations drawn in advance, on `SlotPool`.
    static func runDrawnPool(_ ops: [swiotlb_ref_op]) -> Outcome {
        var pool = PoolSlots()
        return runDrawn(ops, on: &pool)
    }

    /// Operations drawn in advance with slots handed out by counting: the floor of the two above.
    static func runDrawnFloor(_ ops: [swiotlb_ref_op]) -> Outcome {
        var counter = CountingSlots()
        return runDrawn(ops, on: &counter)
    }

    /// Operations drawn in advance on an allocator that is told the slots (those `SlotPool`
    /// chose on them): the kernel's writes without the search, the floor under any allocator
    /// that keeps v5.11's tables.
    static func runDrawnKnownSlots(_ ops: [swiotlb_ref_op], chosen: [Int32]) -> Outcome {
        chosen.withUnsafeBufferPointer { chosen in
            var known = KnownSlots(chosen: chosen)
            defer { known.deallocate() }
            return runDrawn(ops, on: &known)
        }
    }

    /// The slots `SlotPool` chooses for the maps of `ops`, in order (-1 where the pool is full).
    static func chosenSlots(_ ops: [swiotlb_ref_op]) -> [Int32] {
        var recorder = RecordingSlots()
        _ = runDrawn(ops, on: &recorder)
        return recorder.chosen
    }

    /// Operations drawn in advance on a bare slot allocator: the live table and the outcome.
    @inline(__always)
    static func runDrawn(_ ops: [swiotlb_ref_op], on slots: inout some WorkloadSlots) -> Outcome {
        var live = LiveMappings<(slot: Int32, nslots: Int32)>()
        defer { live.deallocate() }
        var out = Outcome()
        ops.withUnsafeBufferPointer { ops in
            for op in ops {
                if op.stride != 0 {
                    let slot = slots.take(nslots: Int(op.arg), stride: Int(op.stride), original: op.orig)
                    out.countMap(slot: slot)
                    guard let slot else { continue }
                    live.append((Int32(truncatingIfNeeded: slot), op.arg))
                } else {
                    let m = live.remove(at: Int(op.arg))
                    slots.give(slot: Int(m.slot), nslots: Int(m.nslots))
                    out.unmaps &+= 1
                }
            }
        }
        return out
    }
}

/// The workload's random choices, drawn from SplitMix64 in the C reference's order: one number
/// deciding map or unmap, then three for a map's size, direction and original address, or one
/// for the live mapping an unmap takes.
struct Draws {
    private var rng: SplitMix64
    private let sizes = AllocatorWorkload.sizes

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    /// Whether the next operation maps: with probability 0.75 while fewer than half the slots are
    /// used, else 0.25; always when nothing is live.
    @inline(__always)
    mutating func nextIsMap(used: Int, liveCount: Int) -> Bool {
        let r = rng.next()
        return liveCount == 0 || (used < AllocatorWorkload.nslabs / 2 ? r % 100 < 75 : r % 100 < 25)
    }

    /// A map's size in bytes, its direction (an index into `AllocatorWorkload.directions`) and
    /// its 64-byte-aligned original address.
    @inline(__always)
    mutating func mapArguments() -> (size: Int, direction: Int, original: UInt64) {
        let size = sizes[Int(rng.next() % 6)]
        let direction = Int(rng.next() % 3)
        let orig = AllocatorWorkload.originBase + ((rng.next() % (AllocatorWorkload.originSpan - 65536)) & ~63)
        return (size, direction, orig)
    }

    /// The index of the live mapping to unmap, of `liveCount`.
    @inline(__always)
    mutating func victim(liveCount: Int) -> Int { Int(rng.next() % UInt64(liveCount)) }
}

/// A bare slot allocator the workload can run on.
protocol WorkloadSlots {
    /// Slots in use.
    var used: Int { get }
    /// Takes `nslots` slots for a mapping of `original`; the first slot, or nil when full.
    mutating func take(nslots: Int, stride: Int, original: UInt64) -> Int?
    /// Whether `slot` holds an original address (an unmap copies back only then).
    func isMapped(slot: Int) -> Bool
    /// Gives back `nslots` slots from `slot`.
    mutating func give(slot: Int, nslots: Int)
}

/// xenpv's `SlotPool` as the workload's pool, behind the PCI device's 4 GiB segment boundary.
struct PoolSlots: WorkloadSlots {
    private var pool = SlotPool(start: PhysicalAddress(AllocatorWorkload.start), nslabs: AllocatorWorkload.nslabs)
    private let offsetSlots = ((AllocatorWorkload.start & 0xffff_ffff) + UInt64(IOTLB.slotSize - 1)) >> UInt64(IOTLB.shift)
    private let maxSlots: UInt64 = 1 << UInt64(32 - IOTLB.shift)

    var used: Int { pool.used }

    @inline(__always)
    mutating func take(nslots: Int, stride: Int, original: UInt64) -> Int? {
        pool.allocate(nslots: nslots, stride: stride, offsetSlots: offsetSlots, maxSlots: maxSlots, original: PhysicalAddress(original))
    }

    @inline(__always)
    func isMapped(slot: Int) -> Bool { pool.originalAddress(ofSlot: slot) != IOTLB.invalidAddress }

    @inline(__always)
    mutating func give(slot: Int, nslots: Int) { pool.release(slot: slot, nslots: nslots) }
}

/// `SlotPool` writing down each slot it chooses.
struct RecordingSlots: WorkloadSlots {
    private var pool = PoolSlots()
    /// The slots chosen so far, in order (-1 for a full pool).
    private(set) var chosen: [Int32] = []

    var used: Int { pool.used }

    mutating func take(nslots: Int, stride: Int, original: UInt64) -> Int? {
        let slot = pool.take(nslots: nslots, stride: stride, original: original)
        chosen.append(Int32(truncatingIfNeeded: slot ?? -1))
        return slot
    }

    func isMapped(slot: Int) -> Bool { pool.isMapped(slot: slot) }

    mutating func give(slot: Int, nslots: Int) { pool.give(slot: slot, nslots: nslots) }
}

/// An allocator told its slots in advance: a map takes the next one, marks its slots used in a
/// bitmap and writes each slot's original address (`orig + k * 2048`); an unmap clears the bits
/// and writes `INVALID_PHYS_ADDR` — the writes v5.11 makes to its tables, with a bitmap for the
/// list, and no search. All in this module, without a call or a copy-on-write check: the floor
/// under any allocator that chooses the same slots and keeps v5.11's per-slot tables.
struct KnownSlots: WorkloadSlots {
    private let chosen: UnsafeBufferPointer<Int32>
    private var next = 0
    private let bits = UnsafeMutablePointer<UInt64>.allocate(capacity: AllocatorWorkload.nslabs / 64)
    private let original = UnsafeMutablePointer<UInt64>.allocate(capacity: AllocatorWorkload.nslabs)
    private(set) var used = 0

    init(chosen: UnsafeBufferPointer<Int32>) {
        self.chosen = chosen
        bits.initialize(repeating: 0, count: AllocatorWorkload.nslabs / 64)
        original.initialize(repeating: IOTLB.invalidAddress.rawValue, count: AllocatorWorkload.nslabs)
    }

    /// Frees the tables.
    func deallocate() {
        bits.deallocate()
        original.deallocate()
    }

    @inline(__always)
    mutating func take(nslots: Int, stride: Int, original orig: UInt64) -> Int? {
        let slot = Int(chosen[next])
        next &+= 1
        guard slot >= 0 else { return nil }
        mark(slot: slot, nslots: nslots, used: true)
        var a = orig
        for k in slot..<(slot &+ nslots) {
            original[k] = a
            a &+= UInt64(IOTLB.slotSize)
        }
        used &+= nslots
        return slot
    }

    @inline(__always)
    func isMapped(slot: Int) -> Bool { original[slot] != IOTLB.invalidAddress.rawValue }

    @inline(__always)
    mutating func give(slot: Int, nslots: Int) {
        mark(slot: slot, nslots: nslots, used: false)
        (original + slot).update(repeating: IOTLB.invalidAddress.rawValue, count: nslots)
        used &-= nslots
    }

    /// Sets or clears the bits of `nslots` slots from `slot` (inside one segment: up to three words).
    @inline(__always)
    private func mark(slot: Int, nslots: Int, used: Bool) {
        let first = slot &>> 6, last = (slot &+ nslots &- 1) &>> 6
        let head = ~UInt64(0) &<< UInt64(slot & 63)
        let tail = ~UInt64(0) &>> UInt64(63 &- ((slot &+ nslots &- 1) & 63))
        var w = first
        while w <= last {
            let mask = (w == first ? head : ~0) & (w == last ? tail : ~0)
            if used { bits[w] |= mask } else { bits[w] &= ~mask }
            w &+= 1
        }
    }
}

/// A stand-in that hands out slots by counting round the pool: the workload's floor.
struct CountingSlots: WorkloadSlots {
    private(set) var used = 0
    private var next = 0

    @inline(__always)
    mutating func take(nslots: Int, stride: Int, original: UInt64) -> Int? {
        if used &+ nslots > AllocatorWorkload.nslabs { return nil }
        let slot = next
        next = (next &+ nslots) & (AllocatorWorkload.nslabs &- 1)
        used &+= nslots
        return slot
    }

    @inline(__always)
    func isMapped(slot: Int) -> Bool { true }

    @inline(__always)
    mutating func give(slot: Int, nslots: Int) { used &-= nslots }
}

/// A run's live mappings in a fixed buffer (every mapping holds a slot, so at most a pool's
/// worth): an unmap takes one at random and moves the last into its place, as the C reference
/// does.
struct LiveMappings<Element> {
    private let base = UnsafeMutablePointer<Element>.allocate(capacity: AllocatorWorkload.nslabs)
    /// Mappings held.
    private(set) var count = 0

    /// Frees the buffer.
    func deallocate() { base.deallocate() }

    /// Adds a mapping just made.
    @inline(__always)
    mutating func append(_ m: Element) {
        base[count] = m
        count &+= 1
    }

    /// Removes and returns the mapping the next draw picks.
    @inline(__always)
    mutating func removeOne(drawnBy draws: inout Draws) -> Element {
        remove(at: draws.victim(liveCount: count))
    }

    /// Removes and returns mapping number `k`, moving the last into its place.
    @inline(__always)
    mutating func remove(at k: Int) -> Element {
        let m = base[k]
        count &-= 1
        base[k] = base[count]
        return m
    }
}

extension AllocatorWorkload.Outcome {
    /// The C reference's result.
    init(_ r: swiotlb_ref_result) {
        self.init(maps: r.maps, unmaps: r.unmaps, full: r.full, slotChecksum: r.slot_checksum, bytesCopied: r.bytes_copied)
    }
}
