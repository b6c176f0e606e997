import Diagnosis
import Swiotlb

/// What `size` prints: per pool the smallest size without failures and a recommended size with
/// headroom, and the whole `swiotlb=` to paste for the scenario's kernel (its force mode and
/// area count kept, both pools named for the RFC).
public struct SizingAdvice: Sendable {
    /// One pool's answer.
    public struct Pool: Sendable {
        /// The pool's name (`swiotlb`, `Low Mem`, `High Mem`).
        public var name: String
        /// The search's answer.
        public var sizing: PoolSizing
        /// The recommended slots: ``SizePolicy`` on the peak at the smallest size (at least that
        /// size).
        public var recommended: UInt64
    }

    /// Per pool, low (or only) first.
    public var pools: [Pool]
    /// The fragment to paste; nil when a pool has no size that avoids failures.
    public var cmdline: String?

    /// The advice for `scenario` from the search's `answers`.
    public init(_ scenario: Scenario, _ answers: [PoolSizing]) {
        let kernel = DiagnosedKernel(scenario.guest.kernel)
        let current = SwiotlbCommandLine(parsing: scenario.guest.swiotlbParameter ?? "", kernel: scenario.guest.kernel)
        let areas = UInt64(max(current.areas ?? 1, 1))
        pools = answers.map { a in
            let fromPeak = a.peakUsed.map { SizePolicy.slots(demand: $0, factor: SizePolicy.peakFactor, kernel: kernel, areas: areas) } ?? 0
            let floor = a.slots.map { SizePolicy.kernelSize(UInt64($0), kernel: kernel, areas: areas) } ?? 0
            return Pool(name: a.pool, sizing: a, recommended: max(fromPeak, floor))
        }
        guard !pools.isEmpty, pools.allSatisfy({ $0.sizing.slots != nil }) else { cmdline = nil; return }
        cmdline = SizePolicy.cmdline(
            kernel: kernel, low: pools[0].recommended, high: pools.count > 1 ? pools[1].recommended : nil,
            areas: current.areas.map { max($0, 1) }, current: current)
    }

    /// The lines `size` prints after the scenario's name.
    public var lines: [String] {
        var out: [String] = []
        for p in pools {
            let a = p.sizing
            guard let slots = a.slots, let peak = a.peakUsed else {
                out.append("\(p.name): no size up to \(PoolSizer.maxSlots) slots avoids failures; configured \(a.configuredSlots) slots; \(a.runs) runs")
                continue
            }
            out.append(
                "\(p.name): smallest without failures \(slots) slots = \(UInt64(slots) << 11) bytes (\(SizePolicy.megabytes(UInt64(slots))) MB), peak \(peak) used (margin \(slots - peak) slots); configured \(a.configuredSlots) slots; \(a.runs) runs"
            )
            out.append(
                "\(p.name): recommended \(p.recommended) slots = \(p.recommended << 11) bytes (\(SizePolicy.megabytes(p.recommended)) MB): \(SizePolicy.peakFactor) × the peak, as the kernel rounds it"
            )
        }
        if let cmdline { out.append("paste: \(cmdline)") }
        return out
    }
}
