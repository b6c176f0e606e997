import ArgumentParser
import Diagnosis
import XenModel

/// `xenpv size [SCENARIO]`: the smallest bounce pools that never run full.
struct SizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "size",
        abstract: "Find the smallest pool size (per pool) for which the scenario's workload never fails.",
        discussion: "Each candidate size is a full model run; the answer is a multiple of 128 slots (one segment)."
    )

    @Argument(help: "A scenario file (YAML or JSON); the embedded default without it.", transform: FileArgument.name)
    var scenario: String?

    func run() throws {
        let s = try ScenarioLoader.load(scenario)
        let answers = PoolSizer.size(s)
        guard !answers.isEmpty else {
            if let refusal = s.refusal(for: ModelBoot.boot(s)) { throw CLIError(refusal.description) }
            throw CLIError("\(scenario ?? DefaultScenario.fileName): the scenario does not boot or has no bounce pool")
        }
        print("# \(s.name)")
        for line in SizingAdvice(s, answers).lines { print(line) }
        print("")
        print("== verdicts (as configured)")
        for line in DiagnosisText.render(RunEvidence.diagnose(WorkloadRunner.run(s))) { print(line) }
    }
}
