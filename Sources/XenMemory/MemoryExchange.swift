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
        let plan: ExchangePlan
        do { plan = try exchangePlan(caller: caller, input: input, output: output) } catch {
            return ExchangeResult(exchanged: 0, outputFrames: [], error: error)
        }
        var exchanged = 0
        var frames: [MFN] = []
        for c in 0..<plan.chunks {
            do {
                let stolen = try steal(chunk: c, plan, input.extents)
                let allocated = try allocateOutputs(plan, giveBack: stolen)
                complete(chunk: c, plan, stolen: stolen, allocated: allocated, gpfns: output.extents)
                frames += allocated
            } catch {
                return ExchangeResult(exchanged: exchanged, outputFrames: frames, error: error)
            }
            exchanged += plan.inPerChunk
        }
        return ExchangeResult(exchanged: exchanged, outputFrames: frames, error: nil)
    }

    /// How an exchange goes chunk by chunk (the larger of the two orders makes a chunk).
    private struct ExchangePlan {
        var domain: DomID
        var chunks: Int, inPerChunk: Int, outPerChunk: Int
        var inPages: UInt64, outPages: UInt64
        var outOrder: Int, outBits: Int?
    }

    /// The argument checks: EPERM for an order above `max_order(caller)`, EINVAL for unequal
    /// sizes or domids, ESRCH for an unknown domain.
    private func exchangePlan(caller: DomID, input: ExchangeSide, output: ExchangeSide) throws(XenErrno) -> ExchangePlan {
        let maxO = maxOrder(of: caller)
        if input.order > maxO || output.order > maxO { throw .eperm }
        guard input.order >= 0, output.order >= 0 else { throw .einval }
        let inChunkOrder = input.order <= output.order ? output.order - input.order : 0
        let outChunkOrder = input.order <= output.order ? 0 : input.order - output.order
        let nIn = input.extents.count, nOut = output.extents.count
        if nIn & ((1 << inChunkOrder) - 1) != 0 || nOut & ((1 << outChunkOrder) - 1) != 0 { throw .einval }
        if nIn >> inChunkOrder != nOut >> outChunkOrder { throw .einval }
        if input.domain != output.domain { throw .einval }
        guard domains[input.domain] != nil else { throw .esrch }
        let outBits: Int? = output.addressBits == 0 || output.addressBits >= 64 + Int(Page.shift) ? nil : output.addressBits
        return ExchangePlan(
            domain: input.domain, chunks: nIn >> inChunkOrder, inPerChunk: 1 << inChunkOrder, outPerChunk: 1 << outChunkOrder,
            inPages: 1 << UInt64(input.order), outPages: 1 << UInt64(output.order), outOrder: output.order, outBits: outBits)
    }

    /// Steals chunk `c`'s input frames (`steal_page`: each must be the domain's; EINVAL, with
    /// the frames stolen so far given back, when one is not).
    private mutating func steal(chunk c: Int, _ plan: ExchangePlan, _ extents: [UInt64]) throws(XenErrno) -> [MFN] {
        var stolen: [MFN] = []
        var seen = Set<UInt64>()
        for j in 0..<plan.inPerChunk {
            let base = extents[c * plan.inPerChunk + j]
            for k in 0..<plan.inPages {
                let mfn = MFN(base &+ k)
                // A frame listed twice is no longer the domain's the second time.
                guard mfn < maxPage, owner(of: mfn) == plan.domain, seen.insert(mfn.rawValue).inserted else {
                    restore(stolen, to: plan.domain)
                    throw .einval
                }
                stolen.append(mfn)
            }
        }
        for run in Self.runs(of: stolen) {
            owners.remove(start: run.lowerBound, count: UInt64(run.count))
        }
        domains[plan.domain]?.totPages -= UInt64(stolen.count)
        return stolen
    }

    /// Allocates one chunk's output extents (`MEMF_no_owner`, below `address_bits`); ENOMEM, with
    /// `stolen` given back, when the heap has none.
    private mutating func allocateOutputs(_ plan: ExchangePlan, giveBack stolen: [MFN]) throws(XenErrno) -> [MFN] {
        var allocated: [MFN] = []
        for _ in 0..<plan.outPerChunk {
            guard let m = heap.allocate(order: plan.outOrder, addressBits: plan.outBits) else {
                for a in allocated { heap.free(a, order: plan.outOrder, dirty: true) }
                restore(stolen, to: plan.domain)
                throw .enomem
            }
            allocated.append(m)
        }
        return allocated
    }

    /// Frees chunk `c`'s stolen inputs, last stolen first (their M2P entries become INVALID),
    /// assigns its outputs and points the M2P at the requested gpfns.
    private mutating func complete(chunk c: Int, _ plan: ExchangePlan, stolen: [MFN], allocated: [MFN], gpfns: [UInt64]) {
        for run in Self.runs(of: stolen) { m2p.invalidate(MFN(run.lowerBound), count: UInt64(run.count)) }
        for mfn in stolen.reversed() { heap.free(mfn, order: 0, dirty: true) }
        for (j, m) in allocated.enumerated() {
            assign(m, count: plan.outPages, to: plan.domain)
            m2p.set(m, count: plan.outPages, to: PFN(gpfns[c * plan.outPerChunk + j]))
        }
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
