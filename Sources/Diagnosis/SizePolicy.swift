import Swiotlb

/// How big a recommended pool is (docs/diagnose.md, "Headroom"), and how it is written for a
/// kernel.
///
/// - A measured peak without failures (debugfs `io_tlb_used_hiwater`, a replay's or model
///   run's peak): twice the peak.
/// - A pool that ran full: four times the demand seen (slots in use at the failure plus the
///   slots the failed map needed). A failed map's real demand is not visible, so the log gives
///   only a lower bound: two 32-bit NICs failing at 32764 of 32768 slots needed 131072.
/// - Never below 512 slots (1 MiB, `IO_TLB_MIN_SLABS`: the smallest pool the kernel's own
///   halving keeps).
/// - Then up to a whole segment (128 slots), and on kernels with areas to the power of two
///   ≥ 128 × areas the kernel would round it to anyway, so what is pasted is what is mapped.
public enum SizePolicy {
    /// The factor on a measured peak.
    public static let peakFactor = 2
    /// The factor on the demand seen when the pool ran full.
    public static let fullFactor = 4
    /// The smallest pool recommended (`IO_TLB_MIN_SLABS`, 1 MiB).
    public static let minimumSlots = 512

    /// `demand` slots times `factor`, rounded as the kernel would (``kernelSize(_:kernel:areas:)``).
    public static func slots(demand: Int, factor: Int, kernel: DiagnosedKernel, areas: UInt64) -> UInt64 {
        let (wanted, overflow) = max(demand, 1).multipliedReportingOverflow(by: factor)
        return kernelSize(overflow ? UInt64(IOTLB.maxModelSlots) : UInt64(max(wanted, minimumSlots)), kernel: kernel, areas: areas)
    }

    /// `slots` as the kernel would map them: a multiple of 128, at most 2^25; with areas a power
    /// of two ≥ 128 × areas.
    public static func kernelSize(_ slots: UInt64, kernel: DiagnosedKernel, areas: UInt64) -> UInt64 {
        let capped = min(IOTLB.alignToSegment(max(slots, 1)), UInt64(IOTLB.maxModelSlots))
        guard kernel.hasAreas else { return capped }
        return Linux61PoolSetup(requested: capped, areas: max(areas, 1))?.nslabs ?? capped
    }

    /// `slots` of 2 KiB in MB (MiB, as the kernel writes it), exactly: `64`, `2.5`, `0.25`.
    public static func megabytes(_ slots: UInt64) -> String {
        let whole = slots >> 9
        var rest = slots & 511
        guard rest != 0 else { return "\(whole)" }
        var digits = ""
        while rest != 0 {  // 512 = 2^9: at most nine decimals
            rest *= 10
            digits += String(rest >> 9)
            rest &= 511
        }
        return "\(whole).\(digits)"
    }

    /// The complete `swiotlb=` fragment for `kernel`: the RFC names both pools
    /// (`swiotlb=<low>,<high>`), 6.x keeps an area count when `areas` is given, and a `force`
    /// in `current` is kept (a `noforce` is dropped: it would leave no pool at all).
    public static func cmdline(kernel: DiagnosedKernel, low: UInt64, high: UInt64?, areas: UInt64?, current: SwiotlbCommandLine?) -> String {
        var value = "\(low)"
        if kernel.hasHighPool, let high { value += ",\(high)" }
        if kernel.hasAreas, let areas { value += ",\(areas)" }
        if current?.force == .force { value += ",force" }
        return "swiotlb=\(value)"
    }
}
