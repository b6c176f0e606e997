/// The outcome of one `XENMEM_exchange` hypercall.
public struct ExchangeResult: Sendable, Equatable {
    /// `nr_exchanged`: input extents exchanged (the first ones; the rest are untouched).
    public var exchanged: Int
    /// The MFN written back for each output extent that was filled.
    public var outputFrames: [MFN]
    /// The error, nil when every input extent was exchanged (rc 0).
    public var error: XenErrno?
    /// The hypercall's return value: 0 or `-errno`.
    public var rc: Int32 { error?.rc ?? 0 }
}

/// One side of a `struct xen_memory_exchange`.
public struct ExchangeSide: Sendable {
    /// `extent_start`: GMFN bases (input side) or GPFN bases (output side).
    public var extents: [UInt64]
    /// `extent_order`.
    public var order: Int
    /// `XENMEMF_address_bits` of `mem_flags` (0 = unrestricted); ignored on the input side.
    public var addressBits: Int
    /// `domid`.
    public var domain: DomID
    /// Creates one side.
    public init(extents: [UInt64], order: Int, addressBits: Int = 0, domain: DomID) {
        self.extents = extents; self.order = order; self.addressBits = addressBits; self.domain = domain
    }
}

extension XenHost {
    /// `XENMEM_exchange` (op 11) issued by `caller` for a PV domain, as `memory_exchange()` in
    /// Xen 4.17 does it: EPERM for an order above `max_order(caller)`, EINVAL for unequal sizes
    /// or domids, ESRCH for an unknown domain; then chunk by chunk (the larger of the two
    /// orders), steal the input frames (EINVAL if one is not the domain's), allocate the output
    /// extents below `2^address_bits` (ENOMEM if none, giving the stolen frames back), free the
    /// inputs (dirty, in the reverse of the order they were stolen, M2P → INVALID), assign the
    /// outputs and set M2P(mfn + i) = gpfn + i.
    public mutating func exchange(caller: DomID, input: ExchangeSide, output: ExchangeSide) -> ExchangeResult {
        func fail(_ e: XenErrno, _ done: Int = 0, _ frames: [MFN] = []) -> ExchangeResult {
            ExchangeResult(exchanged: done, outputFrames: frames, error: e)
        }
        let maxO = maxOrder(of: caller)
        if input.order > maxO || output.order > maxO { return fail(.eperm) }
        guard input.order >= 0, output.order >= 0 else { return fail(.einval) }
        let inChunkOrder = input.order <= output.order ? output.order - input.order : 0
        let outChunkOrder = input.order <= output.order ? 0 : input.order - output.order
        let nIn = input.extents.count, nOut = output.extents.count
        if nIn & ((1 << inChunkOrder) - 1) != 0 || nOut & ((1 << outChunkOrder) - 1) != 0 { return fail(.einval) }
        if nIn >> inChunkOrder != nOut >> outChunkOrder { return fail(.einval) }
        if input.domain != output.domain { return fail(.einval) }
        let dom = input.domain
        guard domains[dom] != nil else { return fail(.esrch) }
        let outBits: Int? = output.addressBits == 0 || output.addressBits >= 64 + Int(Page.shift) ? nil : output.addressBits

        var exchanged = 0
        var frames: [MFN] = []
        let chunks = nIn >> inChunkOrder
        let inPerChunk = 1 << inChunkOrder, outPerChunk = 1 << outChunkOrder
        let inPages: UInt64 = 1 << UInt64(input.order), outPages: UInt64 = 1 << UInt64(output.order)
        for c in 0..<chunks {
            // Steal the inputs (steal_page: the frame must be the domain's).
            var stolen: [MFN] = []
            var seen = Set<UInt64>()
            for j in 0..<inPerChunk {
                let base = input.extents[c * inPerChunk + j]
                for k in 0..<inPages {
                    let mfn = MFN(base &+ k)
                    // A frame listed twice is no longer the domain's the second time.
                    guard mfn.rawValue < maxPage, owner(of: mfn) == dom, seen.insert(mfn.rawValue).inserted else {
                        restore(stolen, to: dom)
                        return fail(.einval, exchanged, frames)
                    }
                    stolen.append(mfn)
                }
            }
            for run in Self.runs(of: stolen) {
                owners.remove(start: run.lowerBound, count: UInt64(run.count))
            }
            domains[dom]?.totPages -= UInt64(stolen.count)
            // Allocate the outputs (MEMF_no_owner, below address_bits).
            var allocated: [MFN] = []
            for _ in 0..<outPerChunk {
                guard let m = heap.allocate(order: output.order, addressBits: outBits) else {
                    for a in allocated { heap.free(a, order: output.order, dirty: true) }
                    restore(stolen, to: dom)
                    return fail(.enomem, exchanged, frames)
                }
                allocated.append(m)
            }
            // Free the stolen inputs, last stolen first; their M2P entries become INVALID.
            for run in Self.runs(of: stolen) { m2p.invalidate(MFN(run.lowerBound), count: UInt64(run.count)) }
            for mfn in stolen.reversed() { heap.free(mfn, order: 0, dirty: true) }
            // Assign the outputs and point the M2P at the requested gpfns.
            for (j, m) in allocated.enumerated() {
                assign(m, count: outPages, to: dom)
                let gpfn = output.extents[c * outPerChunk + j]
                m2p.set(m, count: outPages, to: PFN(gpfn))
                frames.append(m)
            }
            exchanged += inPerChunk
        }
        return ExchangeResult(exchanged: exchanged, outputFrames: frames, error: nil)
    }

    private mutating func restore(_ stolen: [MFN], to dom: DomID) {
        for run in Self.runs(of: stolen) { assign(MFN(run.lowerBound), count: UInt64(run.count), to: dom) }
    }

    /// Consecutive frames of `frames` (in their order) as ranges.
    static func runs(of frames: [MFN]) -> [Range<UInt64>] {
        var out: [Range<UInt64>] = []
        for m in frames {
            if let last = out.last, last.upperBound == m.rawValue {
                out[out.count - 1] = last.lowerBound..<(m.rawValue + 1)
            } else {
                out.append(m.rawValue..<(m.rawValue + 1))
            }
        }
        return out
    }
}
