import Swiotlb

/// The pool sizes the verdicts propose, gathered into one recommendation: per pool the largest
/// proposal wins; pools nobody proposed keep their size.
struct SizeChoice {
    let kernel: DiagnosedKernel
    /// The `swiotlb=` on the command line, read with the kernel's rules.
    let current: SwiotlbCommandLine?
    /// Per pool (low or only first): the slots now, and the slots proposed.
    private var now: [UInt64]
    private var proposed: [UInt64?]
    /// Areas to write (`swiotlb=<n>,<areas>`): the command line's, or fewer proposed.
    private var areas: UInt64?
    /// The areas the kernel rounds to (the pool's, else 1).
    private let poolAreas: UInt64
    private var reasons: [String] = []
    /// A recommendation that changes the form rather than a size (the RFC form on 6.x).
    private var formChanged = false

    init(_ e: Evidence) {
        kernel = e.kernel
        current = e.commandLine.flatMap { CommandLineCheck.swiotlbValue(in: $0.text) }.map { SwiotlbCommandLine(parsing: $0, kernel: e.kernel.cmdlineRules) }
        let count = e.kernel.hasHighPool ? 2 : 1
        var sizes = e.pools.prefix(count).map { UInt64($0.nslabs) }
        if sizes.isEmpty { sizes = [current?.effectiveNslabs ?? UInt64(IOTLB.defaultSlots)] }
        if count == 2 && sizes.count == 1, let high = current?.highNslabs { sizes.append(high) }
        now = sizes
        proposed = Array(repeating: nil, count: sizes.count)
        areas = e.kernel.hasAreas ? current?.areas.map { max($0, 1) } : nil
        poolAreas = UInt64(max(e.pools.first?.areas ?? 1, 1))
    }

    /// Proposes `factor` × `demand` slots (rounded as the kernel would) for pool `pool`; returns
    /// the slots chosen.
    @discardableResult
    mutating func propose(pool: Int, demand: Int, factor: Int, reason: String) -> UInt64 {
        // A changed form without areas (the RFC's line rewritten for 6.x) leaves the kernel's
        // default areas, not the pool's: one per possible CPU, taken as 1.
        let slots = SizePolicy.slots(demand: demand, factor: factor, kernel: kernel, areas: areas ?? (formChanged ? 1 : poolAreas))
        propose(pool: pool, slots: slots, areas: nil, reason: reason)
        return slots
    }

    /// Proposes `slots` for pool `pool`, and `areas` to write when given.
    mutating func propose(pool: Int, slots: UInt64, areas newAreas: UInt64?, reason: String) {
        guard pool < proposed.count else { return }
        if let p = proposed[pool], p >= slots { return }
        proposed[pool] = slots
        if let newAreas { areas = newAreas }
        reasons.append(reason)
    }

    /// Proposes the kernel's own form of the command line with `low` slots (the RFC form on a
    /// kernel that reads its second number as areas).
    mutating func proposeForm(low: UInt64, areas newAreas: UInt64?, reason: String) {
        proposed[0] = SizePolicy.kernelSize(low, kernel: kernel, areas: newAreas ?? 1)
        areas = newAreas
        formChanged = true
        reasons.append(reason)
    }

    /// The `default_nareas` the recommended line gives pool `p` (a power of two): its area
    /// count when it writes one; else the possible CPUs the evidence shows; else one when the
    /// form changed (the pool's areas were the command line's count), else the pool's areas.
    func pastedAreas(possibleCPUs: Int?, pool p: Evidence.Pool) -> UInt64 {
        let wanted: UInt64
        if let areas {
            wanted = areas
        } else if let possibleCPUs {
            wanted = UInt64(max(possibleCPUs, 1))
        } else {
            wanted = UInt64(formChanged ? 1 : max(p.areas, 1))
        }
        return Linux61PoolSetup.powerOfTwoAtLeast(wanted) ?? wanted
    }

    /// The recommendation, when a size or the form changed.
    func recommendation() -> Recommendation? {
        guard formChanged || proposed.contains(where: { $0 != nil }) else { return nil }
        let sizes = zip(now, proposed).map { $1 ?? $0 }
        let names: [String?] = sizes.count == 2 ? ["Low Mem", "High Mem"] : [nil]
        let line = SizePolicy.cmdline(kernel: kernel, low: sizes[0], high: sizes.count > 1 ? sizes[1] : nil, areas: areas, current: current)
        return Recommendation(
            cmdline: line, pools: zip(names, sizes).map { Recommendation.Pool(name: $0, slots: $1) },
            reason: reasons.joined(separator: "; "))
    }
}
