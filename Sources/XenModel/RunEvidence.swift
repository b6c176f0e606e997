import Diagnosis
import Swiotlb
import XenDumps
import XenMemory
import XenSwiotlb

/// A model run as diagnosis evidence: what it records while it runs (failed maps with the free
/// runs at that moment, buffers trace streams left mapped) and the evidence it adds up to.
public enum RunEvidence {
    /// Failed maps kept per run; the rest are counted in the device figures only.
    public static let keptFailures = 4096
    /// Failed maps per device whose free runs are measured (each measure reads the whole pool).
    static let measuredPerDevice = 4

    /// Records a failed "buffer is full" map of `size` bytes at `original` by `device`.
    static func recordFailure(
        _ error: XenMapError, device: DMADevice, deviceIndex: Int, original: UInt64, size: Int,
        engine: DMAEngine, _ r: inout RunResult
    ) {
        let deviceName = r.devices[deviceIndex].name
        guard error == .full, r.failureEvidence.count < keptFailures, !engine.tlb.pools.isEmpty else { return }
        let index = engine.tlb.poolIndex(for: device)
        let pool = engine.tlb.pools[index]
        let needed = engine.tlb.kernel.model.slotsNeeded(allocSize: size, original: PhysicalAddress(original), minAlignMask: device.minAlignMask)
        var run: Int?, areaRuns: [Int]?
        if r.devices[deviceIndex].failed <= measuredPerDevice && r.failureEvidence.filter({ $0.largestFreeRun != nil }).count < FreeRuns.measuresPerRun,
            needed <= IOTLB.segmentSlots
        {
            (run, areaRuns) = FreeRuns.longest(in: pool)
        }
        r.failureEvidence.append(
            Evidence.Failure(
                device: deviceName, size: size, minAlignMask: device.minAlignMask, neededSlots: needed, pool: index,
                used: pool.used, total: pool.nslabs, largestFreeRun: run, areaLargestRuns: areaRuns,
                source: "operation \(r.operations): map of \(size) bytes failed, used \(pool.used) of \(pool.nslabs) slots\(pool.name.map { " (\($0))" } ?? "")"
            ))
    }

    /// Records what a trace stream (`stream`, of `device`) left mapped at its end.
    static func recordStillMapped(_ live: [String: MappedBuffer], mappedAt: [String: Int], device: String, stream: Int, _ r: inout RunResult) {
        guard !live.isEmpty else { return }
        let oldest = live.keys.sorted { (mappedAt[$0] ?? 0, $0) < (mappedAt[$1] ?? 0, $1) }
        r.stillMapped.append(
            Evidence.StillMapped(
                device: device, count: live.count, bytes: live.values.reduce(0) { $0 + UInt64($1.size) },
                firstIDs: oldest.prefix(5).map { $0 }, source: "workload.streams[\(stream)] (trace)"))
    }

    /// The evidence of run `r`: its kernel and command line, pools (the run's peak as their
    /// high-water mark), failures, leftovers, a hang, and the set-up lines of its boot log.
    public static func evidence(_ r: RunResult) -> Evidence {
        let s = r.scenario
        var e = Evidence(kernel: DiagnosedKernel(s.guest.kernel), kernelSource: "scenario \(s.name): kernel \(s.guest.kernel.rawValue)")
        e.commandLine = (s.guest.cmdline, "scenario \(s.name): guest.cmdline")
        // The model's own boot lines: a line the log reader refuses adds no set-up evidence
        // (the pools below come from the run itself).
        if let log = try? SwiotlbKernelLog(lines: r.boot.kernelLog.map { Substring($0) }) {
            SystemEvidence.addSetup(log, name: "boot log", to: &e)
        }
        if e.kernel.hasAreas { e.possibleCPUs = s.guest.cpus }
        for p in r.pools {
            e.pools.append(
                Evidence.Pool(
                    name: r.pools.count > 1 ? p.name : nil, nslabs: p.nslabs, areas: p.areas, highWater: p.peakUsed,
                    used: p.finalUsed, source: "\(p.name) pool"))
        }
        e.failures = r.failureEvidence
        e.mappingsKnown = true
        e.stillMapped = r.stillMapped
        if case .searchNeverEnds(_, let device)? = r.kernelBug { e.hang = (device, r.kernelBug?.description ?? "kernel hang") }
        if r.boot.failure == nil && r.pools.isEmpty && r.devices.contains(where: { $0.failed > 0 }) {
            e.noPool = ["no bounce pool was set up, and \(r.devices.filter { $0.failed > 0 }.map(\.name).joined(separator: ", ")) had failed maps"]
        }
        return e
    }

    /// The diagnosis of run `r`.
    public static func diagnose(_ r: RunResult) -> Diagnosis { Diagnoser.diagnose(evidence(r)) }
}
