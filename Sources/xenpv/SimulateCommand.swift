import ArgumentParser
import XenDumps
import XenModel

/// `xenpv simulate [SCENARIO]`: a model run.
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Boot a modelled host and guest, run the scenario's DMA workload, and report.",
        discussion: """
            Without SCENARIO it runs the embedded default: the RFC's Xen PV dom0 (qemu -m 20G, an NVMe \
            with 16 queues, swiotlb=65536,1048576,force). Scenarios are YAML or JSON (docs/scenarios.md); \
            examples are in docs/examples/.
            """
    )

    @Argument(help: "A scenario file (YAML or JSON).", transform: FileArgument.name)
    var scenario: String?

    @Option(name: .customLong("json"), help: "Also write the versioned JSON report to this file.", transform: FileArgument.name)
    var jsonPath: String?

    @Option(name: .customLong("plot"), help: "Also write an SVG picture of the layout and pool occupancy.", transform: FileArgument.name)
    var plotPath: String?

    @Option(parsing: .unconditional, help: "Override the workload's seed (an unsigned integer).", transform: NumberArgument.unsigned)
    var seed: UInt64?

    @Option(name: .customLong("dump-p2m"), help: "Also write the guest's P2M in xen-mfndump dump-p2m format.", transform: FileArgument.name)
    var dumpP2M: String?

    @Option(name: .customLong("dump-m2p"), help: "Also write the host's M2P in xen-mfndump dump-m2p format.", transform: FileArgument.name)
    var dumpM2P: String?

    func run() throws {
        let targets = OutputTarget.given([("--json", jsonPath), ("--plot", plotPath), ("--dump-p2m", dumpP2M), ("--dump-m2p", dumpM2P)])
        try OutputFiles.check(targets)
        var s = try ScenarioLoader.load(scenario)
        if let seed { s.workload.seed = seed }
        let progress = ProgressBar(label: "simulate")
        let result = WorkloadRunner.run(s, progress: progress.update)
        progress.finish()
        if let refusal = s.refusal(for: result.boot) { throw CLIError(refusal.description) }
        var out = OutputBuffer()
        for line in TextReport.render(result) { out.append(line) }
        out.flush()
        var outputs: [(OutputTarget, OutputContent)] = []
        for t in targets {
            switch t.option {
            case "--json": outputs.append((t, .text(JSONReport.render(result))))
            case "--plot": outputs.append((t, .text(SVGPlot.render(result))))
            case "--dump-p2m":
                guard let p = result.p2mDump else { throw CLIError("--dump-p2m: this guest has no P2M (not a PV guest, or it did not boot)") }
                outputs.append((t, .lines { emit in P2MDump.write(p, to: emit) }))
            default:
                guard let m = result.boot.host?.m2p else { throw CLIError("--dump-m2p: there is no Xen host in this scenario") }
                outputs.append((t, .lines { emit in M2PDump.write(m, to: emit) }))
            }
        }
        try OutputFiles.write(outputs)
        if result.boot.failure != nil || result.kernelBug != nil { throw ExitCode(2) }
    }
}

/// Reads scenarios given on the command line (or the embedded default).
enum ScenarioLoader {
    /// Loads and parses; errors become one-line validation errors, warnings go to stderr.
    static func load(_ path: String?) throws -> Scenario {
        guard let path else {
            return try parse(DefaultScenario.yaml, file: DefaultScenario.fileName, directory: ".")
        }
        let text = try TextFile.read(path, limit: .scenario)
        let dir = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        return try parse(text, file: path, directory: dir)
    }

    static func parse(_ text: String, file: String, directory: String) throws -> Scenario {
        let scenario: Scenario
        do {
            scenario = try ScenarioParser.parse(text, file: file) { trace in
                let full = trace.hasPrefix("/") ? trace : directory + "/" + trace
                return try TextFile.read(full, limit: .scenarioTrace).split(omittingEmptySubsequences: false, whereSeparator: { $0.isNewline }).map(String.init)
            }
        } catch {
            throw CLIError(error.description)
        }
        StandardError.write(scenario.warnings)
        return scenario
    }
}
