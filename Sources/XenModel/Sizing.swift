import Swiotlb

/// The answer for one pool: the smallest size at which the workload never found it full.
public struct PoolSizing: Sendable, Hashable {
    /// The pool's name.
    public var pool: String
    /// Slots as the scenario gives them.
    public var configuredSlots: Int
    /// The smallest size (a multiple of 128 slots) without a "buffer is full" failure, nil when
    /// even the largest size tried failed or did not boot.
    public var slots: Int?
    /// Peak `io_tlb_used` at that size.
    public var peakUsed: Int?
    /// Model runs the search made.
    public var runs: Int

    /// Creates an answer.
    public init(pool: String, configuredSlots: Int, slots: Int?, peakUsed: Int?, runs: Int) {
        self.pool = pool; self.configuredSlots = configuredSlots; self.slots = slots; self.peakUsed = peakUsed; self.runs = runs
    }

    /// `slots - peakUsed`: the margin the workload left.
    public var margin: Int? { slots.flatMap { s in peakUsed.map { s - $0 } } }
}

/// Finds, pool by pool, the smallest bounce pool for which a scenario's workload never fails.
public enum PoolSizer {
    /// The largest pool the search tries (2^25 slots = 64 GiB).
    public static let maxSlots = 1 << 25

    /// Sizes every pool of `scenario` (the others keep their configured size while one is
    /// searched). The search doubles from the configured size until the workload passes, then
    /// bisects in whole segments; the answer is verified by its own run.
    public static func size(_ scenario: Scenario, progress: ((String) -> Void)? = nil) -> [PoolSizing] {
        let base = WorkloadRunner.run(scenario)
        guard base.boot.failure == nil else { return [] }
        var out: [PoolSizing] = []
        for (i, pool) in base.pools.enumerated() {
            var runs = 0
            func probe(_ slots: Int) -> (ok: Bool, peak: Int) {
                runs += 1
                progress?("\(pool.name): trying \(slots) slots")
                let r = WorkloadRunner.run(scenario.withPoolSlots(i, slots))
                guard r.boot.failure == nil, r.pools.count > i else { return (false, 0) }
                return (r.pools[i].fullFailures == 0 && r.kernelBug == nil, r.pools[i].peakUsed)
            }
            var hi = max(128, pool.nslabs / 128 * 128)
            var hiResult = pool.fullFailures == 0 ? (true, pool.peakUsed) : probe(hi)
            while !hiResult.0 && hi < maxSlots {
                hi = min(maxSlots, hi * 2)
                hiResult = probe(hi)
            }
            guard hiResult.0 else {
                out.append(PoolSizing(pool: pool.name, configuredSlots: pool.nslabs, slots: nil, peakUsed: nil, runs: runs))
                continue
            }
            var lo = 0  // in segments: lo fails (or is zero), hi passes
            var hiSeg = hi / 128, best = hiResult
            while hiSeg - lo > 1 {
                let mid = (lo + hiSeg) / 2
                let r = probe(mid * 128)
                if r.ok { hiSeg = mid; best = r } else { lo = mid }
            }
            out.append(PoolSizing(pool: pool.name, configuredSlots: pool.nslabs, slots: hiSeg * 128, peakUsed: best.1, runs: runs))
        }
        return out
    }
}

extension Scenario {
    /// The same scenario with pool `index` (0 = low or only, 1 = high) set to `slots` in its
    /// `swiotlb=` parameter; the force mode is kept.
    public func withPoolSlots(_ index: Int, _ slots: Int) -> Scenario {
        var s = self
        let current = SwiotlbCommandLine(parsing: guest.swiotlbParameter ?? "", kernel: guest.kernel)
        var lo = current.effectiveNslabs
        var hi = current.highNslabs
        if index == 0 { lo = UInt64(slots) } else { hi = UInt64(slots) }
        var value = "\(lo)"
        if let hi { value += ",\(hi)" }
        if current.force == .force { value += ",force" }
        if current.force == .noForce { value += ",noforce" }
        let others = guest.cmdline.split(separator: " ").filter { !$0.hasPrefix("swiotlb=") }.map(String.init)
        s.guest.cmdline = (others + ["swiotlb=\(value)"]).joined(separator: " ")
        return s
    }
}
