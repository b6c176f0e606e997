import Diagnosis

/// Two runs side by side.
public enum Comparison {
    /// The rows of a comparison table of `a` and `b`.
    public static func render(_ a: RunResult, _ b: RunResult) -> [String] {
        var rows: [[String]] = [["", "A", "B"]]
        rows.append(["scenario", a.scenario.name, b.scenario.name])
        rows.append([
            "kernel", "\(a.scenario.guest.kind.rawValue) \(a.scenario.guest.kernel.rawValue)",
            "\(b.scenario.guest.kind.rawValue) \(b.scenario.guest.kernel.rawValue)",
        ])
        rows.append(["boot", a.boot.failure?.description ?? "ok", b.boot.failure?.description ?? "ok"])
        rows.append(["operations", "\(a.operations)", "\(b.operations)"])
        let poolCount = max(a.pools.count, b.pools.count)
        for i in 0..<poolCount {
            func cell(_ r: RunResult, _ f: (PoolStats) -> String) -> String { i < r.pools.count ? f(r.pools[i]) : "-" }
            let names = [a, b].compactMap { i < $0.pools.count ? $0.pools[i].name : nil }
            let name = names.count == 2 && names[0] != names[1] ? "\(names[0]) / \(names[1])" : names[0]
            rows.append(["\(name): slots", cell(a) { "\($0.nslabs)" }, cell(b) { "\($0.nslabs)" }])
            rows.append([
                "\(name): peak used", cell(a) { "\($0.peakUsed) (\(TextReport.percent($0.peakUsed, $0.nslabs)))" },
                cell(b) { "\($0.peakUsed) (\(TextReport.percent($0.peakUsed, $0.nslabs)))" },
            ])
            rows.append(["\(name): full failures", cell(a) { "\($0.fullFailures)" }, cell(b) { "\($0.fullFailures)" }])
        }
        func total(_ r: RunResult, _ f: (DeviceStats) -> UInt64) -> String { String(r.devices.reduce(0) { $0 + f($1) }) }
        rows.append(["maps", total(a) { UInt64($0.maps) }, total(b) { UInt64($0.maps) }])
        rows.append(["bounced", total(a) { UInt64($0.bounced) }, total(b) { UInt64($0.bounced) }])
        rows.append(["failed", total(a) { UInt64($0.failed) }, total(b) { UInt64($0.failed) }])
        rows.append(["bytes copied", total(a) { $0.bytesCopied }, total(b) { $0.bytesCopied }])
        let names = a.devices.map(\.name) + b.devices.map(\.name).filter { n in !a.devices.contains { $0.name == n } }
        for n in names {
            func cell(_ r: RunResult) -> String {
                guard let d = r.devices.first(where: { $0.name == n }) else { return "-" }
                return "\(d.bounced) bounced / \(d.direct) direct / \(d.failed) failed"
            }
            rows.append(["\(n)", cell(a), cell(b)])
        }
        var out = TextReport.table(rows[0], Array(rows.dropFirst()))
        for (label, r) in [("A", a), ("B", b)] {
            out.append("")
            out.append("== verdicts \(label): \(r.scenario.name)")
            out += DiagnosisText.render(RunEvidence.diagnose(r))
        }
        return out
    }
}
