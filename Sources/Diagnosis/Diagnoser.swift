import Swiotlb
import XenMemory

/// Turns evidence into verdicts and a recommendation (the rules are in docs/diagnose.md).
///
/// Per device, in the order its first failure or leftover mapping was seen: maps above the max
/// mapping size are `over-max-mapping-size`; a device whose mappings outlive the evidence, or
/// whose failures show `used` creeping up, is a `leak`; its other failures are `fragmentation`
/// when the pool had room but no run long enough, else `undersized`. Then the pools
/// (`no-pool`, `cmdline-not-applied`, `oversized`), a `kernel-hang` first of all, and `healthy`
/// when nothing is wrong.
public enum Diagnoser {
    /// The verdicts for `e`.
    public static func diagnose(_ e: Evidence) -> Diagnosis {
        var verdicts: [Verdict] = []
        var sizes = SizeChoice(e)
        if let hang = e.hang {
            verdicts.append(
                Verdict(
                    .kernelHang, device: hang.device, evidence: [hang.source],
                    explanation:
                        "Linux 6.1.192's slot search never ends for this map (it loops with the area lock held); upstream bounded it in 6.3 (7c3940bf81e5): a newer kernel, or a driver without min_align_mask for such sizes"
                ))
        }
        let poolless = !e.noPool.isEmpty || (!e.pools.isEmpty && e.pools.allSatisfy { $0.nslabs == 0 })
        let noPoolWanted =
            sizes.current?.force == .noForce && e.failures.isEmpty
            && !e.noPool.contains { $0.contains("Can not allocate SWIOTLB buffer") }
        if poolless && !noPoolWanted { verdicts.append(noPool(e, &sizes)) }
        if let v = CommandLineCheck.verdict(e, &sizes) { verdicts.append(v) }
        verdicts += deviceVerdicts(e, &sizes)
        if !verdicts.contains(where: { [.leak, .undersized, .fragmentation, .overMaxMappingSize].contains($0.kind) }) {
            verdicts += oversized(e, &sizes)
        }
        if verdicts.isEmpty { verdicts.append(healthy(e)) }
        return Diagnosis(verdicts: verdicts, recommendation: sizes.recommendation(), notes: e.notes, kernel: e.kernel)
    }

    /// The device verdicts: over the max mapping size, leak, fragmentation, undersized.
    static func deviceVerdicts(_ e: Evidence, _ sizes: inout SizeChoice) -> [Verdict] {
        var order: [String] = []
        var seen = Set<String>()
        for d in e.failures.map(\.device) + e.stillMapped.map(\.device) where seen.insert(d).inserted { order.append(d) }
        var out: [Verdict] = []
        for device in order {
            let failures = e.failures.filter { $0.device == device }
            let over = failures.filter { $0.size > e.kernel.maxMappingSize(minAlignMask: $0.minAlignMask) }
            if let biggest = over.max(by: { $0.size < $1.size }) { out.append(overMax(e, biggest, count: over.count)) }
            let rest = failures.filter { $0.size <= e.kernel.maxMappingSize(minAlignMask: $0.minAlignMask) }
            if let leak = leak(e, device, rest) { out.append(leak); continue }
            guard let first = rest.first else { continue }
            if let v = fragmentation(e, first, count: rest.count, &sizes) { out.append(v); continue }
            out.append(undersized(e, rest, &sizes))
        }
        return out
    }

    static func overMax(_ e: Evidence, _ f: Evidence.Failure, count: Int) -> Verdict {
        let max = e.kernel.maxMappingSize(minAlignMask: f.minAlignMask)
        let mask = f.minAlignMask != 0 ? " with min_align_mask \(Hex.plain(f.minAlignMask))" : ""
        return Verdict(
            .overMaxMappingSize, device: f.device,
            evidence: [
                f.source,
                "\(f.size) bytes asked (\(f.neededSlots) slots); \(e.kernel)'s max mapping size\(mask) is \(max) bytes (\(IOTLB.segmentSlots) slots of 2 KiB\(max < IOTLB.maxMappingSize ? " less the min_align round-up" : ""))",
            ]
                + (count > 1 ? ["\(count) such maps"] : []),
            explanation:
                "no pool size helps: one bounce buffer is at most one 128-slot segment; the driver must map at most \(max) bytes at a time (for block devices lower max_sectors_kb to \(max >> 10) or less)",
            figures: [("size_bytes", f.size), ("max_mapping_size", max), ("maps", count)])
    }

    /// A leak: buffers still mapped at the end, or, in a log (which does not show the
    /// mappings), `used` creeping up across a device's failures (at least two, never falling,
    /// rising by at least max(128, total/64) slots).
    static func leak(_ e: Evidence, _ device: String, _ failures: [Evidence.Failure]) -> Verdict? {
        if let left = e.stillMapped.first(where: { $0.device == device }) {
            return Verdict(
                .leak, device: device,
                evidence: [
                    "\(left.source): \(left.count) mapping\(left.count == 1 ? "" : "s") still mapped at the end (\(left.bytes) bytes), first ids \(left.firstIDs.joined(separator: ", "))"
                ]
                    + failures.prefix(2).map(\.source),
                explanation: "the device maps buffers and does not unmap them; a bigger pool only delays the failures: fix the driver's missing dma_unmap",
                figures: [("still_mapped", left.count), ("still_mapped_bytes", Int(clamping: left.bytes))])
        }
        guard !e.mappingsKnown, failures.count >= 2, let first = failures.first, let last = failures.last else { return nil }
        let neverFalls = zip(failures, failures.dropFirst()).allSatisfy { $0.used <= $1.used }
        guard neverFalls, last.used - first.used >= max(IOTLB.segmentSlots, first.total / 64) else { return nil }
        return Verdict(
            .leak, device: device,
            evidence: [first.source, last.source, "used \(first.used) → \(last.used) of \(last.total) slots over \(failures.count) failures, never falling"],
            explanation:
                "used keeps growing between failures: mappings are not given back; whatever the pool size it fills (fix the driver's missing dma_unmap)",
            figures: [("used_first", first.used), ("used_last", last.used), ("total", last.total)])
    }

    /// Fragmentation: the pool had the slots but no run of them long enough. With the slot map
    /// known, free ≥ needed and the longest free run < needed; from a log alone, free ≥ needed
    /// and at least a quarter of the pool free.
    static func fragmentation(_ e: Evidence, _ f: Evidence.Failure, count: Int, _ sizes: inout SizeChoice) -> Verdict? {
        let free = f.total - f.used
        guard free >= f.neededSlots else { return nil }
        var evidence = [f.source, "\(free) of \(f.total) slots free, the map needed a run of \(f.neededSlots)"]
        if let run = f.largestFreeRun {
            guard run < f.neededSlots else { return nil }
            evidence.append("largest free run \(run) slots (runs never cross a \(IOTLB.segmentSlots)-slot segment)")
            if let areas = f.areaLargestRuns, areas.count > 1 {
                evidence.append("largest free run per area: \(areas.map(String.init).joined(separator: " "))")
            }
        } else {
            guard free * 4 >= f.total else { return nil }
            evidence.append("the log does not show the free runs; a replay of a trace (--trace) does")
        }
        if count > 1 { evidence.append("\(count) failed maps") }
        let choice = sizes.propose(pool: f.pool, demand: f.total, factor: 2, reason: "fragmentation: twice the pool, for twice the free runs of each length")
        return Verdict(
            .fragmentation, device: f.device, evidence: evidence,
            explanation:
                "the pool is fragmented: enough slots were free but no run of \(f.neededSlots); mixed buffer sizes cut it up. A bigger pool (\(SizePolicy.megabytes(choice)) MB) gives more long runs; mapping smaller buffers avoids it",
            figures: [("needed_slots", f.neededSlots), ("free_slots", free)] + (f.largestFreeRun.map { [("largest_free_run", $0)] } ?? []))
    }

    static func undersized(_ e: Evidence, _ failures: [Evidence.Failure], _ sizes: inout SizeChoice) -> Verdict {
        let worst = failures.max { $0.used + $0.neededSlots < $1.used + $1.neededSlots } ?? failures[0]
        let demand = worst.used + worst.neededSlots
        let choice = sizes.propose(
            pool: worst.pool, demand: demand, factor: SizePolicy.fullFactor,
            reason: "undersized: \(SizePolicy.fullFactor) × the \(demand) slots seen in demand (a lower bound: failed maps show only what they asked)")
        return Verdict(
            .undersized, device: worst.device,
            evidence: [worst.source, "demand at least \(demand) slots (\(worst.used) used + \(worst.neededSlots) needed) of \(worst.total)"]
                + (failures.count > 1 ? ["\(failures.count) failed maps"] : []),
            explanation: "the pool is too small for the peak demand (no leak seen): use \(choice) slots (\(SizePolicy.megabytes(choice)) MB)",
            figures: [("demand_slots", demand), ("total", worst.total), ("recommended_slots", Int(choice))])
    }

    /// `oversized`: a pool whose known high-water mark would fit, with headroom, in a quarter
    /// of it, when it is bigger than the kernel's 64 MiB default or was raised by its areas.
    static func oversized(_ e: Evidence, _ sizes: inout SizeChoice) -> [Verdict] {
        var out: [Verdict] = []
        for (i, p) in e.pools.enumerated() {
            guard let hw = p.highWater, p.nslabs > 0 else { continue }
            let raisedByAreas = e.kernel.hasAreas && p.areas > 1 && p.nslabs == IOTLB.segmentSlots * p.areas
            guard p.nslabs > IOTLB.defaultSlots || raisedByAreas else { continue }
            // The areas the pasted line gives (with limit_nareas a halved pool's own count says
            // nothing of them), then fewer when the smaller pool would hold less than 128 slots each.
            let base = e.kernel.limitsAreas ? sizes.pastedAreas(possibleCPUs: e.possibleCPUs, pool: p) : UInt64(max(p.areas, 1))
            let areas = fewerAreas(base, hw: hw, kernel: e.kernel)
            let want = SizePolicy.slots(demand: hw, factor: SizePolicy.peakFactor, kernel: e.kernel, areas: areas)
            guard want * 4 <= UInt64(p.nslabs) else { continue }
            sizes.propose(
                pool: i, slots: want, areas: areas < base ? areas : nil,
                reason: "oversized: \(SizePolicy.peakFactor) × the high-water mark of \(hw) slots")
            var evidence = [p.source, "high-water \(hw) of \(p.nslabs) slots"]
            if e.kernel.limitsAreas, let asked = sizes.current?.areas, UInt64(p.areas) < asked, p.nslabs == IOTLB.segmentSlots * p.areas {
                evidence.append(
                    "\(p.areas) areas: the set-up halved the pool and limit_nareas left one area per 128 slots of it (swiotlb= asked for \(asked))")
            } else if e.kernel.hasAreas && p.areas > 1 {
                evidence.append(
                    "\(p.areas) areas (one per CPU unless swiotlb= gives a count) need at least \(IOTLB.segmentSlots * p.areas) slots (\(SizePolicy.megabytes(UInt64(IOTLB.segmentSlots * p.areas))) MB)"
                )
            }
            let back = (UInt64(p.nslabs) - want) << 11
            out.append(
                Verdict(
                    .oversized, device: nil, evidence: evidence,
                    explanation:
                        "\(p.name.map { "the \($0) pool" } ?? "the pool") is far bigger than its use: \(SizePolicy.megabytes(want)) MB would do, giving back \(back >> 20) MiB",
                    figures: [("high_water", hw), ("nslabs", p.nslabs), ("recommended_slots", Int(want)), ("bytes_back", Int(clamping: back))]))
        }
        return out
    }

    /// The areas a smaller pool keeps: as many as `now`, but no more than one per 128 slots of it.
    static func fewerAreas(_ now: UInt64, hw: Int, kernel: DiagnosedKernel) -> UInt64 {
        guard kernel.hasAreas else { return 1 }
        let want = SizePolicy.slots(demand: hw, factor: SizePolicy.peakFactor, kernel: DiagnosedKernel(major: 5, minor: 11), areas: 1)
        var areas = max(now, 1)
        while areas > 1 && areas * UInt64(IOTLB.segmentSlots) > want { areas >>= 1 }
        return areas
    }

    static func noPool(_ e: Evidence, _ sizes: inout SizeChoice) -> Verdict {
        let evidence = (e.noPool.isEmpty ? e.pools.map { "\($0.source): io_tlb_nslabs 0" } : e.noPool) + e.failures.prefix(3).map(\.source)
        var explanation = "there is no bounce pool: every device that needs bouncing (a DMA mask below its buffers, Xen PV, SEV/TDX) fails its maps; "
        if let form = CommandLineCheck.rfcFormOnAreas(e) {
            // 6.x reads the RFC's <low>,<high> as <slots>,<areas>: 128 slots per area, halved until nothing fitted.
            sizes.proposeForm(low: form.low, areas: nil, reason: "no-pool: the RFC's low pool in \(e.kernel)'s form (it has one pool)")
            explanation +=
                "\(e.kernel) reads swiotlb=\(form.given) as \(form.areas) areas (at least 128 slots each), not the RFC's high pool of \(form.high) slots: write the pool's size alone"
        } else {
            sizes.propose(pool: 0, slots: UInt64(IOTLB.defaultSlots), areas: nil, reason: "no-pool: the kernel's default pool (64 MB)")
            explanation += "remove swiotlb=noforce or give the kernel memory below 4 GiB for one"
        }
        return Verdict(.noPool, device: e.noPoolDevice ?? e.failures.first?.device, evidence: evidence, explanation: explanation)
    }

    static func healthy(_ e: Evidence) -> Verdict {
        var evidence = e.pools.map { p in
            "\(p.source): \(p.name.map { "\($0): " } ?? "")\(p.nslabs) slots (\(SizePolicy.megabytes(UInt64(p.nslabs))) MB)"
                + (p.highWater.map { ", high-water \($0)" } ?? "") + (p.used.map { ", used \($0)" } ?? "")
        }
        evidence += e.noPool.map { "\($0) (swiotlb=noforce, and no device needed a pool)" }
        if evidence.isEmpty { evidence = ["no pool line, failure or mapping in the evidence"] }
        return Verdict(.healthy, device: nil, evidence: evidence, explanation: "no failed map, no leak, and the pool fits its use")
    }
}
