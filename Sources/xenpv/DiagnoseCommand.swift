import ArgumentParser
import Diagnosis
import XenDumps
import XenModel

#if canImport(Glibc)
    import Glibc
#endif

/// `xenpv diagnose`: verdicts about a system's bounce buffers, from its evidence.
struct DiagnoseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diagnose",
        abstract: "Say what is wrong with the (xen-)swiotlb bounce buffers, from a kernel log, debugfs, a trace or a scenario.",
        discussion: """
            Without --dmesg, --debugfs, --trace or --scenario it reads the running system: the kernel \
            log (/dev/kmsg), /sys/kernel/debug/swiotlb and /proc/cmdline (root for the first two). \
            It prints verdicts (over-max-mapping-size, leak, undersized, fragmentation, oversized, \
            cmdline-not-applied, no-pool, kernel-hang, healthy), each with its evidence, and a \
            swiotlb= to paste when a size should change (docs/diagnose.md). Exit status 0: healthy; \
            1: something is wrong; 2: the evidence could not be read.
            """
    )

    @Option(name: .customLong("dmesg"), help: "A kernel log (dmesg, journalctl -k, a serial log), or - for standard input.", transform: FileArgument.name)
    var dmesgPath: String?

    @Option(name: .customLong("debugfs"), help: "A copy of /sys/kernel/debug/swiotlb (a folder), or its 'grep -H .' capture.", transform: FileArgument.name)
    var debugfsPath: String?

    @Option(
        name: .customLong("trace"), help: "A swiotlb trace (docs/trace-format.md) to replay for leaks, fragmentation and hangs.", transform: FileArgument.name)
    var tracePath: String?

    @Option(name: .customLong("scenario"), help: "Diagnose a model run of this scenario instead (given alone).", transform: FileArgument.name)
    var scenarioPath: String?

    @Option(help: "The kernel (v5.11, rfc-v1, v6.1, 6.6, …); by default the log's 'Linux version'.")
    var kernel: String?

    @Option(name: .customLong("json"), help: "Also write the verdicts as JSON (schema 1) to this file.", transform: FileArgument.name)
    var jsonPath: String?

    @Option(name: .customLong("plot"), help: "Also write an SVG picture that explains the verdicts.", transform: FileArgument.name)
    var plotPath: String?

    func run() throws {
        let result: (diagnosis: Diagnosis, evidence: Evidence, run: RunResult?)
        let targets = OutputTarget.given([("--json", jsonPath), ("--plot", plotPath)])
        do {
            try OutputFiles.check(targets)
            result = try gather()
        } catch {
            if let line = XenPV.refusal(for: error) { StandardError.write([line]) }
            throw ExitCode(2)
        }
        var out = OutputBuffer()
        out.append("# xenpv diagnose: \(result.diagnosis.kernel) (\(result.evidence.kernelSource))")
        for line in DiagnosisText.render(result.diagnosis) { out.append(line) }
        out.flush()
        var outputs: [(OutputTarget, OutputContent)] = []
        for t in targets {
            if t.option == "--json" {
                outputs.append((t, .text(DiagnosisJSON.render(result.diagnosis, kernelSource: result.evidence.kernelSource))))
            } else {
                let svg = result.run.map { DiagnosisPlot.render(result.diagnosis, run: $0) } ?? DiagnosisPlot.render(result.diagnosis, result.evidence)
                outputs.append((t, .text(svg)))
            }
        }
        do { try OutputFiles.write(outputs) } catch {
            if let line = XenPV.refusal(for: error) { StandardError.write([line]) }
            throw ExitCode(2)
        }
        if result.diagnosis.hasProblem { throw ExitCode(1) }
    }

    /// Reads the evidence given (or the running system's) and diagnoses it.
    private func gather() throws -> (Diagnosis, Evidence, RunResult?) {
        let override = try kernel.map { text in
            guard let k = DiagnosedKernel(text) else {
                throw CLIError("--kernel: expected v5.11, rfc-v1 or a release such as v6.1 or 6.6.12, got \(RefusalLine.quoted(text))")
            }
            return k
        }
        if let scenarioPath {
            guard dmesgPath == nil, debugfsPath == nil, tracePath == nil, kernel == nil else {
                throw CLIError("--scenario diagnoses a model run: give it without --dmesg, --debugfs, --trace and --kernel")
            }
            let s = try ScenarioLoader.load(scenarioPath)
            let run = WorkloadRunner.run(s)
            if let refusal = s.refusal(for: run.boot) { throw CLIError(refusal.description) }
            let e = RunEvidence.evidence(run)
            return (Diagnoser.diagnose(e), e, run)
        }
        let live = dmesgPath == nil && debugfsPath == nil && tracePath == nil
        var notes: [String] = []
        let log = try dmesgPath.map { try EvidenceFiles.log($0) } ?? (live ? EvidenceFiles.runningLog(&notes) : nil)
        let debugfs = try debugfsPath.map { try EvidenceFiles.debugfs($0) } ?? (live ? EvidenceFiles.runningDebugfs(&notes) : nil)
        let cmdline = live ? EvidenceFiles.runningCmdline(&notes) : nil
        guard let (k, source) = SystemEvidence.kernel(override: override, log: log) ?? (live ? EvidenceFiles.runningKernel() : nil) else {
            throw CLIError(
                "no kernel version: \(log == nil ? "no kernel log was given" : "the log has no 'Linux version' line"); give --kernel (v5.11, rfc-v1, v6.1, 6.6, …)"
            )
        }
        var e = Evidence(kernel: k, kernelSource: source)
        e.notes = notes
        SystemEvidence.add(log: log, debugfs: debugfs, cmdline: cmdline, to: &e)
        if let tracePath { try EvidenceFiles.trace(tracePath, kernel: k).add(to: &e) }
        return (Diagnoser.diagnose(e), e, nil)
    }
}
