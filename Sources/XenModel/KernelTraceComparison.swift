import Diagnosis
import Swiotlb
import XenMemory

/// A swiotlb trace (docs/trace-format.md) replayed on several kernels at once, line by line: a
/// line one kernel refuses (a field it does not honour, a second pool) ends that kernel's
/// replay only, and its column says why.
public struct KernelTraceComparison {
    private let name: String
    private let kernels: [SwiotlbKernel]
    private var replays: [TraceEvidence]
    private var refusals: [String?]
    /// Replays a map they never return from ended (kept as evidence, fed no more).
    private var stopped: [Bool]

    /// Replays of the trace called `name` on each of `kernels`.
    public init(name: String, kernels: [SwiotlbKernel]) {
        self.name = name
        self.kernels = kernels
        replays = kernels.map { TraceEvidence(name: name, replaying: $0) }
        refusals = kernels.map { _ in nil }
        stopped = kernels.map { _ in false }
    }

    /// Feeds line `line` (its bytes, no newline) to every replay still running.
    public mutating func feed(bytes: UnsafeBufferPointer<UInt8>, line: Int) {
        for i in replays.indices where refusals[i] == nil && !stopped[i] {
            do throws(TraceError) {
                if try !replays[i].feed(bytes: bytes, line: line) { stopped[i] = true }
            } catch {
                refusals[i] = error.report(file: name)
            }
        }
    }

    /// Whether every kernel refused the trace (then there is nothing to compare).
    public var allRefused: Bool { refusals.allSatisfy { $0 != nil } }

    /// The comparison: each kernel's replay (closed at the trace's end) and its diagnosis, or its refusal.
    public mutating func finish() -> KernelComparison {
        var columns: [KernelComparison.Column] = []
        for (i, k) in kernels.enumerated() {
            if let refusal = refusals[i] {
                columns.append(.init(kernel: k, outcome: .failure(.init(refusal))))
                continue
            }
            var replay = replays[i]
            do throws(TraceError) { try replay.finish() } catch {
                columns.append(.init(kernel: k, outcome: .failure(.init(error.report(file: name)))))
                continue
            }
            var e = Evidence(kernel: DiagnosedKernel(k), kernelSource: "compare --kernel \(k.rawValue)")
            replay.add(to: &e)
            let pools =
                replay.tlb.map { tlb in
                    tlb.pools.map {
                        KernelComparison.Pool(name: tlb.pools.count > 1 ? $0.name : nil, nslabs: $0.nslabs, areas: $0.areas.count, peakUsed: $0.usedHighWater)
                    }
                } ?? []
            let highWater = replay.tlb.flatMap { tlb in k.model.debugfs(tlb).first { $0.file == SwiotlbKernelText.highWaterFile }?.value }
            let run = KernelComparison.Run(
                bootFailure: nil, maps: replay.mapCount, failed: replay.failedMapCount, pools: pools, highWater: highWater,
                bytesCopied: replay.bytesCopied, diagnosis: Diagnoser.diagnose(e))
            columns.append(.init(kernel: k, outcome: .success(run)))
        }
        return KernelComparison(workload: name, commandLine: nil, columns: columns)
    }
}
