import ArgumentParser
import Swiotlb
import XenModel

/// `xenpv compare A B`: two scenarios side by side; `xenpv compare --kernel K1,K2,… INPUT`: one
/// workload (a scenario or a swiotlb trace) on several kernels.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Run two scenarios side by side, or one scenario or swiotlb trace on several kernels.",
        discussion: """
            Two scenarios: bounces, peak slots, failures and bytes copied side by side, then each \
            one's verdicts. With --kernel: one input on each kernel named — a scenario (.yaml, .yml, \
            .json: its guest runs each kernel, its swiotlb= read as each kernel reads it) or a trace \
            (any other file, docs/trace-format.md: replayed on each kernel's allocator; a kernel that \
            refuses a line says why) — then failed maps, pools and their memory, peak and \
            io_tlb_used_hiwater, bytes copied, verdicts, the swiotlb= to paste, and a conclusion line \
            (docs/kernels.md).
            """
    )

    @Argument(help: "Two scenarios; with --kernel, one scenario or trace.", transform: FileArgument.name)
    var inputs: [String]

    @Option(
        name: .customLong("kernel"),
        help: "Kernels to run the input on, comma-separated (\(SwiotlbKernel.allCases.map(\.rawValue).joined(separator: ", "))), or all.",
        transform: CompareCommand.kernels)
    var kernels: [SwiotlbKernel]?

    @Option(name: .customLong("json"), help: "With --kernel: also write the comparison as JSON to this file.", transform: FileArgument.name)
    var jsonPath: String?

    func validate() throws {
        guard let kernels else {
            guard inputs.count == 2 else { throw ValidationError("expected two scenarios (or --kernel and one scenario or trace), got \(inputs.count)") }
            guard jsonPath == nil else { throw ValidationError("--json: only with --kernel") }
            return
        }
        guard inputs.count == 1 else { throw ValidationError("--kernel compares one scenario or trace, got \(inputs.count) inputs") }
        guard Set(kernels).count == kernels.count else { throw ValidationError("--kernel: a kernel is named twice") }
    }

    func run() throws {
        guard let kernels else {
            let ra = WorkloadRunner.run(try ScenarioLoader.load(inputs[0]))
            let rb = WorkloadRunner.run(try ScenarioLoader.load(inputs[1]))
            for line in Comparison.render(ra, rb) { print(line) }
            return
        }
        let targets = OutputTarget.given([("--json", jsonPath)])
        try OutputFiles.check(targets)
        let input = inputs[0]
        let comparison =
            Self.isScenario(input)
            ? KernelComparison.scenario(try ScenarioLoader.load(input), kernels: kernels)
            : try Self.trace(input, kernels: kernels)
        var out = OutputBuffer()
        for line in KernelComparisonReport.text(comparison) { out.append(line) }
        out.flush()
        try OutputFiles.write(targets.map { ($0, .text(KernelComparisonReport.json(comparison))) })
    }

    /// Whether `path` names a scenario (YAML or JSON) rather than a trace.
    static func isScenario(_ path: String) -> Bool {
        [".yaml", ".yml", ".json"].contains { path.hasSuffix($0) }
    }

    /// Replays the trace at `path` (`-`: standard input) on every kernel at once, streaming;
    /// refused in one line when every kernel refuses it.
    static func trace(_ path: String, kernels: [SwiotlbKernel]) throws -> KernelComparison {
        let reader = try LineReader(path: path)
        var replays = KernelTraceComparison(name: IOError.shown(path), kernels: kernels)
        var number = 0
        while let bytes = reader.nextBytes() {
            number += 1
            replays.feed(bytes: bytes, line: number)
            if replays.allRefused { break }
        }
        if let failure = reader.failure { throw failure }
        let comparison = replays.finish()
        if comparison.columns.allSatisfy({ $0.run == nil }), case .failure(let refusal)? = comparison.columns.first?.outcome {
            throw CLIError(refusal.line)
        }
        return comparison
    }

    /// `v5.11,v6.1` or `all` as registered kernels.
    static func kernels(_ text: String) throws -> [SwiotlbKernel] {
        if text == "all" { return SwiotlbKernel.allCases }
        return try text.split(separator: ",", omittingEmptySubsequences: false).map { name in
            guard let k = SwiotlbKernel(rawValue: String(name)) else {
                throw ValidationError(
                    "expected kernels among \(SwiotlbKernel.allCases.map(\.rawValue).joined(separator: ", ")) (comma-separated) or all, got \(RefusalLine.quoted(String(name)))"
                )
            }
            return k
        }
    }
}
