/// A Linux x86-64 PV domain as the model holds it: its id and the P2M its kernel keeps.
public struct PVDomain: Sendable {
    /// The domain id.
    public var id: DomID
    /// The guest's P2M.
    public var p2m: GuestP2M
    /// Creates a domain record.
    public init(id: DomID, p2m: GuestP2M) { self.id = id; self.p2m = p2m }
}

/// Why `xen_create_contiguous_region` failed (it returns -ENOMEM for both).
public enum ContiguousRegionError: Error, Equatable, Sendable {
    /// `order` beyond the kernel's limit (`MAX_CONTIG_ORDER`, 9 in v5.11).
    case orderTooLarge(Int)
    /// `XENMEM_exchange` did not exchange every frame; the old frames were put back.
    case exchangeFailed(XenErrno)
    /// The region reaches beyond the P2M list: the kernel BUGs writing the new frames.
    case beyondP2M(P2MError)

    /// The kernel's return value (where it returns at all).
    public var rc: Int32 { XenErrno.enomem.rc }
}

extension XenHost {
    /// `MAX_CONTIG_ORDER` (2 MiB) of kernels before the Feb 2025 change "x86/xen: allow larger
    /// contiguous memory regions in PV guests" (v5.11); later ones (6.18, and Debian's 6.1.192
    /// as a backport) grow their frame list on demand (`alloc_discontig_frames`) and have no limit.
    public static let maxContiguousOrder = 9

    /// `xen_create_contiguous_region(pstart, order, address_bits, &dma_handle)` as v5.11 does it:
    /// record the old MFNs and set the P2M entries INVALID, exchange `2^order` order-0 frames for
    /// one order-`order` extent below `2^address_bits`, then point the P2M at the new frames (the
    /// M2P is set by the exchange) — or, on failure, put the old frames back. Returns the machine
    /// address of the region. `maxOrder`: the kernel's largest order (``maxContiguousOrder``),
    /// nil for none.
    public mutating func createContiguousRegion(
        _ guest: inout PVDomain, start: PFN, order: Int, addressBits: Int,
        maxOrder: Int?
    ) -> Result<MachineAddress, ContiguousRegionError> {
        if let maxOrder, order > maxOrder { return .failure(.orderTooLarge(order)) }
        let n: UInt64 = 1 << UInt64(order)
        var inFrames: [UInt64] = []
        inFrames.reserveCapacity(Int(n))
        for i in 0..<n { inFrames.append(guest.p2m.pfnToMFN(start.advanced(by: i)).rawValue) }
        // Zap: every entry INVALID (a store into the list; shared missing leaves already hold it).
        guest.p2m.setRangeWithinList(start, count: n, to: .missing)
        let result = exchange(
            caller: guest.id,
            input: ExchangeSide(extents: inFrames, order: 0, domain: guest.id),
            output: ExchangeSide(extents: [start.rawValue], order: order, addressBits: addressBits, domain: guest.id))
        do throws(P2MError) {
            if result.error == nil, let base = result.outputFrames.first {
                try guest.p2m.setRange(start, count: n, to: .machine(base: base))
                return .success(base.address)
            }
            try restoreFrames(&guest, start: start, frames: inFrames)
        } catch {
            return .failure(.beyondP2M(error))
        }
        return .failure(.exchangeFailed(result.error ?? .enomem))
    }

    /// `xen_destroy_contiguous_region(pstart, order)` (v5.11): exchange the order-`order` extent
    /// back for `2^order` unrestricted order-0 frames; on failure keep the contiguous frames.
    /// Orders above `maxOrder` (the kernel's limit, nil for none) are ignored, as in the kernel.
    /// A region reaching beyond the P2M list is the kernel's BUG, returned.
    @discardableResult
    public mutating func destroyContiguousRegion(_ guest: inout PVDomain, start: PFN, order: Int, maxOrder: Int?) -> Result<Void, P2MError> {
        if let maxOrder, order > maxOrder { return .success(()) }
        let n: UInt64 = 1 << UInt64(order)
        let inFrame = guest.p2m.pfnToMFN(start).rawValue
        guest.p2m.setRangeWithinList(start, count: n, to: .missing)
        let result = exchange(
            caller: guest.id,
            input: ExchangeSide(extents: [inFrame], order: order, domain: guest.id),
            output: ExchangeSide(extents: (0..<n).map { start.rawValue + $0 }, order: 0, domain: guest.id))
        return Result { () throws(P2MError) in
            if result.error == nil {
                try restoreFrames(&guest, start: start, frames: result.outputFrames.map(\.rawValue))
            } else {
                try guest.p2m.setRange(start, count: n, to: .machine(base: MFN(inFrame)))
            }
        }
    }

    /// Points `start + i` at `frames[i]` (an INVALID frame stays INVALID), a run at a time.
    private func restoreFrames(_ guest: inout PVDomain, start: PFN, frames: [UInt64]) throws(P2MError) {
        var i = 0
        while i < frames.count {
            let pfn = start.advanced(by: UInt64(i))
            let value = P2MRun(word: P2MWord(rawValue: frames[i]), at: pfn)
            var j = i + 1
            if case .machine = value {
                while j < frames.count && frames[j] == frames[j - 1] &+ 1 { j += 1 }
            }
            try guest.p2m.setRange(pfn, count: UInt64(j - i), to: value)
            i = j
        }
    }
}
