import Diagnosis
import Swiotlb
import XenMemory

/// One workload — a scenario, or a swiotlb trace — run on several kernels side by side
/// (`xenpv compare --kernel`): what each kernel made of it, and which of them fixes the problem.
public struct KernelComparison: Sendable {
    /// A pool as a kernel set it up, and the most of it in use at once.
    public struct Pool: Sendable, Hashable {
        /// The kernel's name for it (the RFC's `Low Mem` / `High Mem`), nil for one pool.
        public var name: String?
        /// Slots.
        public var nslabs: Int
        /// Areas (1 before 6.0).
        public var areas: Int
        /// The most slots in use at once.
        public var peakUsed: Int
        /// Bytes of memory the pool takes (2 KiB a slot).
        public var bytes: UInt64 { UInt64(nslabs) << UInt64(IOTLB.shift) }
    }

    /// What one kernel made of the workload.
    public struct Run: Sendable {
        /// Why the kernel stopped during boot (the model's words), nil when it came up.
        public var bootFailure: String?
        /// Maps asked for.
        public var maps: Int
        /// Maps that found no bounce buffer (or were refused).
        public var failed: Int
        /// The pools at the end.
        public var pools: [Pool]
        /// debugfs `io_tlb_used_hiwater` where the kernel has it (6.4 and later), nil where not.
        public var highWater: Int?
        /// Bytes the bounce copies moved.
        public var bytesCopied: UInt64
        /// The verdicts and the recommended `swiotlb=` in this kernel's reading.
        public var diagnosis: Diagnosis
        /// Whether the kernel ran the workload: it booted, every map found a bounce buffer, and
        /// no verdict says it would hang or had no pool (an oversized pool, or a driver's leak
        /// that has not yet made a map fail, still counts: no kernel fixes those).
        public var mapsEverything: Bool {
            bootFailure == nil && failed == 0 && !diagnosis.verdicts.contains { [.kernelHang, .noPool].contains($0.kind) }
        }
        /// Bytes all pools take.
        public var poolBytes: UInt64 { pools.reduce(0) { $0 + $1.bytes } }
    }

    /// One kernel's column: its run, or why it cannot run this workload (one line).
    public struct Column: Sendable {
        /// The kernel.
        public var kernel: SwiotlbKernel
        /// Its run, or the refusal.
        public var outcome: Result<Run, Refusal>
        /// The run; nil when the kernel refused the workload.
        public var run: Run? {
            guard case .success(let r) = outcome else { return nil }
            return r
        }
    }

    /// Why a kernel cannot run the workload, in one line naming the input.
    public struct Refusal: Error, Sendable, Hashable {
        /// The line.
        public var line: String
        /// A refusal.
        public init(_ line: String) { self.line = line }
    }

    /// The workload's name (the scenario's name, the trace's file).
    public var workload: String
    /// The `swiotlb=` text every kernel was given (a scenario's), nil for a trace (its pool line).
    public var commandLine: String?
    /// One column per kernel, in the order asked for.
    public var columns: [Column]

    /// Runs scenario `s` on each of `kernels` (its guest's kernel replaced, its command line read
    /// as each kernel reads it).
    public static func scenario(_ s: Scenario, kernels: [SwiotlbKernel]) -> KernelComparison {
        let columns = kernels.map { k -> Column in
            switch s.running(on: k) {
            case .failure(let e): return Column(kernel: k, outcome: .failure(Refusal(e.description)))
            case .success(let sk):
                let r = WorkloadRunner.run(sk)
                if let refusal = sk.refusal(for: r.boot) { return Column(kernel: k, outcome: .failure(Refusal(refusal.description))) }
                let pools = r.pools.map { Pool(name: r.pools.count > 1 ? $0.name : nil, nslabs: $0.nslabs, areas: $0.areas, peakUsed: $0.peakUsed) }
                let run = Run(
                    bootFailure: r.boot.failure?.description ?? r.kernelBug?.description, maps: r.devices.reduce(0) { $0 + $1.maps },
                    failed: r.devices.reduce(0) { $0 + $1.failed },
                    pools: pools, highWater: r.debugfs.first { $0.file == SwiotlbKernelText.highWaterFile }?.value,
                    bytesCopied: r.devices.reduce(0) { $0 + $1.bytesCopied }, diagnosis: RunEvidence.diagnose(r))
                return Column(kernel: k, outcome: .success(run))
            }
        }
        return KernelComparison(workload: s.name, commandLine: s.guest.swiotlbParameter.map { "swiotlb=" + $0 } ?? "", columns: columns)
    }
}
