import XenMemory

/// One swiotlb operation put together from its probe hits, placed where the allocator
/// committed it (inside its area lock).
public struct CapturedOp: Sendable, Equatable {
    /// What it was.
    public enum Kind: Sendable, Equatable {
        /// A map: `tlb` is the address it returned (0 when it failed).
        case map(failed: Bool)
        /// An unmap of the buffer at `tlb`.
        case unmap
        /// A sync of the buffer at `tlb`, for the device or for the CPU.
        case sync(forDevice: Bool)
    }

    /// What it was.
    public var kind: Kind
    /// The `counter` clock at its commit: the last area-lock release of its slot search (map),
    /// its release (unmap), its entry (sync).
    public var order: UInt64
    /// The probe hit at its entry (its arguments).
    public var entry: CapturedEvent
    /// The bounce buffer address.
    public var tlb: PhysicalAddress
    /// The pool's used slots over all areas right after it (nil for a sync).
    public var kernelUsed: UInt64?
}

/// Puts a capture's probe hits together into operations, in the allocator's own order.
///
/// Hits are ordered by the `counter` clock. On each CPU, an operation's hits come between its
/// entry and its last hit, but an interrupt can run whole operations (an NVMe completion's
/// unmap) in between: each CPU keeps a stack of open operations, and a hit belongs to the one
/// on top. A map's slot search releases one area lock per area tried; the area's `used`, read
/// under the lock, rises at the area that gave the slots and is unchanged where none was found.
/// After as many unchanged releases as the pool has areas the map has failed. Each area's
/// last `used` is kept, so the pool's total after each operation is known.
public struct CapturePairing: Sendable {
    /// The operations, in commit order.
    public private(set) var ops: [CapturedOp] = []
    /// Hits that belong to no open operation (an operation cut by the capture's start).
    public private(set) var unpaired = 0
    /// Operations still open when the capture stopped (dropped).
    public private(set) var openAtEnd = 0

    private struct Open {
        var entry: CapturedEvent
        var attempts = 0
        var committed: UInt64? = nil
        var used: UInt64 = 0
    }

    /// Pairs `events` (in any order). The pool's areas start empty: a capture armed before the
    /// first map (or with `io_tlb_used` 0) sees every slot it counts.
    public init(events: [CapturedEvent]) {
        let sorted = events.sorted { $0.counter < $1.counter }
        var stacks: [Int: [Open]] = [:]
        var areaUsed: [UInt64: UInt64] = [:]
        var total: UInt64 = 0
        var done: [CapturedOp] = []
        done.reserveCapacity(sorted.count / 3)
        func release(_ e: CapturedEvent) -> (previous: UInt64, now: UInt64) {
            let previous = areaUsed[e.lock] ?? 0
            areaUsed[e.lock] = e.areaUsed
            total = total &- previous &+ e.areaUsed
            return (previous, e.areaUsed)
        }
        for e in sorted {
            switch e.kind {
            case .map, .unmap:
                stacks[e.cpu, default: []].append(Open(entry: e))
            case .syncDevice, .syncCPU:
                done.append(CapturedOp(kind: .sync(forDevice: e.kind == .syncDevice), order: e.counter, entry: e, tlb: e.tlb, kernelUsed: nil))
            case .mapUnlock:
                guard var top = stacks[e.cpu]?.last, top.entry.kind == .map, top.committed == nil else { unpaired += 1; continue }
                let (previous, now) = release(e)
                if now > previous {
                    top.committed = e.counter
                    top.used = total
                    stacks[e.cpu]![stacks[e.cpu]!.count - 1] = top
                } else {
                    top.attempts += 1
                    if UInt64(top.attempts) >= max(top.entry.poolAreas, 1) {
                        stacks[e.cpu]!.removeLast()
                        done.append(CapturedOp(kind: .map(failed: true), order: e.counter, entry: top.entry, tlb: PhysicalAddress(0), kernelUsed: total))
                    } else {
                        stacks[e.cpu]![stacks[e.cpu]!.count - 1] = top
                    }
                }
            case .mapDone:
                guard let top = stacks[e.cpu]?.last, top.entry.kind == .map, let order = top.committed else { unpaired += 1; continue }
                stacks[e.cpu]!.removeLast()
                done.append(CapturedOp(kind: .map(failed: false), order: order, entry: top.entry, tlb: e.tlb, kernelUsed: top.used))
            case .unmapUnlock:
                guard let top = stacks[e.cpu]?.last, top.entry.kind == .unmap else { unpaired += 1; continue }
                stacks[e.cpu]!.removeLast()
                _ = release(e)
                done.append(CapturedOp(kind: .unmap, order: e.counter, entry: top.entry, tlb: top.entry.tlb, kernelUsed: total))
            }
        }
        openAtEnd = stacks.values.reduce(0) { $0 + $1.count }
        done.sort { $0.order < $1.order }
        ops = done
    }
}
