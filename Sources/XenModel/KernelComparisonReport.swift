import Diagnosis
import XenMemory

/// A ``KernelComparison`` as text (a table, each kernel's verdicts, the conclusion) and as JSON
/// (schema 1, docs/kernels.md).
public enum KernelComparisonReport {
    /// The text report.
    public static func text(_ c: KernelComparison) -> [String] {
        let names = c.columns.map(\.kernel.rawValue)
        var out = ["# \(c.workload) on \(names.joined(separator: ", "))\(c.commandLine.map { $0.isEmpty ? " (no swiotlb=)" : " (\($0))" } ?? "")"]
        func row(_ label: String, _ cell: (KernelComparison.Run) -> String) -> [String] {
            [label] + c.columns.map { col in col.run.map(cell) ?? "refused" }
        }
        func pools(_ r: KernelComparison.Run, _ f: (KernelComparison.Pool) -> String) -> String {
            r.pools.isEmpty ? "none" : r.pools.map(f).joined(separator: " + ")
        }
        let rows = [
            row("boot") { $0.bootFailure == nil ? "ok" : "failed" },
            row("maps") { "\($0.maps)" },
            row("failed maps") { "\($0.failed)" },
            row("pool slots") { r in pools(r) { "\($0.nslabs)" } },
            row("areas") { r in pools(r) { "\($0.areas)" } },
            row("pool memory") { ByteText.text($0.poolBytes) },
            row("peak used slots") { r in pools(r) { "\($0.peakUsed)" } },
            row(SwiotlbKernelText.highWaterFile) { r in r.highWater.map(String.init) ?? "-" },
            row("bytes copied") { "\($0.bytesCopied)" },
            row("verdicts") { $0.diagnosis.verdicts.map(\.kind.rawValue).joined(separator: ",") },
            row("swiotlb= to paste") { $0.diagnosis.recommendation?.cmdline ?? "-" },
        ]
        out += TextReport.table([""] + names, rows)
        for col in c.columns {
            out.append("")
            switch col.outcome {
            case .failure(let refusal):
                out.append("== \(col.kernel.rawValue) (\(col.kernel.model.title)): refused")
                out.append(refusal.line)
            case .success(let run):
                out.append("== \(col.kernel.rawValue) (\(col.kernel.model.title))")
                if let failure = run.bootFailure { out.append("boot: \(failure)") }
                out += DiagnosisText.render(run.diagnosis)
            }
        }
        out.append("")
        out.append("conclusion: " + conclusion(c))
        return out
    }

    /// The conclusion line (after `conclusion: `): which kernels map every buffer of the workload as configured and which do not,
    /// with the `swiotlb=` (in that kernel's reading) to paste on the ones that fail, and the
    /// kernels that refused the workload.
    public static func conclusion(_ c: KernelComparison) -> String {
        let runs = c.columns.compactMap { col in col.run.map { (kernel: col.kernel.rawValue, run: $0) } }
        let refused = c.columns.filter { $0.run == nil }.map(\.kernel.rawValue)
        let refusedText = refused.isEmpty ? "" : "; \(refused.joined(separator: ", ")) cannot run it (refused)"
        guard !runs.isEmpty else { return "no kernel could run this workload" + refusedText }
        let fine = runs.filter { $0.run.mapsEverything }
        let failing = runs.filter { !$0.run.mapsEverything }
        let configured = c.commandLine.map { $0.isEmpty ? "without swiotlb=" : "with \($0)" } ?? "on the trace's pool"
        func failed(_ x: (kernel: String, run: KernelComparison.Run)) -> String {
            if x.run.bootFailure != nil { return "\(x.kernel) does not boot" }
            if x.run.failed > 0 { return "\(x.kernel) fails \(x.run.failed) of \(x.run.maps) maps" }
            return "\(x.kernel): \(x.run.diagnosis.verdicts.filter { $0.kind.isProblem }.map(\.kind.rawValue).joined(separator: ", "))"
        }
        let paste = failing.compactMap { x in x.run.diagnosis.recommendation.map { "\(x.kernel) \($0.cmdline)" } }
        if failing.isEmpty {
            return "\(fine.map(\.kernel).joined(separator: ", ")) \(fine.count == 1 ? "maps" : "map") every buffer \(configured)" + refusedText
        }
        if fine.isEmpty {
            let booted = failing.filter { $0.run.bootFailure == nil && $0.run.failed > 0 }
            let least = booted.map(\.run.failed).min()
            let fewest = booted.filter { $0.run.failed == least }.count == 1 ? booted.first { $0.run.failed == least } : nil
            return "no kernel maps every buffer \(configured) (\(failing.map(failed).joined(separator: ", ")))"
                + (fewest.map { "; fewest failures: \($0.kernel)" } ?? "") + (paste.isEmpty ? "" : "; paste \(paste.joined(separator: ", "))") + refusedText
        }
        let pasteText = paste.isEmpty ? "" : "; to keep \(paste.count == 1 ? "it" : "them"), paste \(paste.joined(separator: ", "))"
        return "\(fine.map(\.kernel).joined(separator: ", ")) \(fine.count == 1 ? "maps" : "map") every buffer \(configured), "
            + "where \(failing.map(failed).joined(separator: ", "))\(pasteText)" + refusedText
    }

    /// The JSON document (`schema`, `workload`, `swiotlb`, `kernels`: per kernel its figures and
    /// diagnosis or its refusal, then `conclusion`).
    public static func json(_ c: KernelComparison) -> String {
        let kernels: [JSONValue] = c.columns.map { col in
            var members: [(String, JSONValue)] = [("kernel", .string(col.kernel.rawValue))]
            switch col.outcome {
            case .failure(let refusal): members.append(("refused", .string(refusal.line)))
            case .success(let r):
                members +=
                    [
                        ("boot_failure", r.bootFailure.map(JSONValue.string) ?? .null), ("maps", .int(Int64(r.maps))), ("failed", .int(Int64(r.failed))),
                        (
                            "pools",
                            .array(
                                r.pools.map { p in
                                    .object([
                                        ("name", p.name.map(JSONValue.string) ?? .null), ("slots", .int(Int64(p.nslabs))), ("areas", .int(Int64(p.areas))),
                                        ("bytes", .uint(p.bytes)), ("peak_used", .int(Int64(p.peakUsed))),
                                    ])
                                })
                        ),
                        ("pool_bytes", .uint(r.poolBytes)), (SwiotlbKernelText.highWaterFile, r.highWater.map { .int(Int64($0)) } ?? .null),
                        ("bytes_copied", .uint(r.bytesCopied)), ("maps_everything", .bool(r.mapsEverything)),
                    ] + DiagnosisJSON.members(r.diagnosis)
            }
            return .object(members)
        }
        let top: [(String, JSONValue)] = [
            ("schema", .int(JSONReport.schema)), ("workload", .string(c.workload)),
            ("swiotlb", c.commandLine.map(JSONValue.string) ?? .null), ("kernels", .array(kernels)),
            ("conclusion", .string(conclusion(c))),
        ]
        return JSONValue.object(top).rendered() + "\n"
    }
}
