import Diagnosis
import Swiotlb
import XenMemory

/// The human-readable report of a run: boot lines, debugfs, and the summary tables.
public enum TextReport {
    /// Renders `r` as the lines `xenpv simulate` prints.
    public static func render(_ r: RunResult) -> [String] {
        let s = r.scenario
        var out: [String] = ["# \(s.name)"]
        if !r.boot.xenLog.isEmpty {
            out.append("")
            out.append("== Xen 4.17 (\(s.xen.debugBuild ? "debug" : "release") build\(s.xen.dom0MemoryText.map { ", dom0_mem=\($0)" } ?? ""))")
            out += r.boot.xenLog.map { "(XEN) " + $0 }
        }
        out.append("")
        out.append("== \(s.guest.kind.rawValue) kernel (\(s.guest.kernel.rawValue))\(s.guest.cmdline.isEmpty ? "" : ": \(s.guest.cmdline)")")
        out += r.boot.kernelLog
        if let f = r.boot.failure {
            out.append("")
            out.append("== boot failed: \(f)")
            return out
        }
        out.append("")
        out.append("== workload: \(r.operations) operations, seed \(s.workload.seed)")
        if r.messageCount > 0 {
            out += r.messages
            if r.messageCount > r.messages.count { out.append("… \(r.messageCount - r.messages.count) more kernel messages") }
        }
        if r.suppressedMessages > 0 {
            out.append(
                "(\(r.suppressedMessages) more held back by the kernel's rate limit: \(KernelRateLimit.burst) per \(KernelRateLimit.interval / KernelRateLimit.hz) s, \(s.workload.operationNanoseconds) ns an operation)"
            )
        }
        if let bug = r.kernelBug { out.append("stopped: \(bug)") }
        out.append("")
        out.append("== debugfs after the run")
        out += r.debugfs.map { "\(SwiotlbKernelText.debugfsFolder)\($0.file): \($0.value)" }
        out += poolLines(r)
        out.append("")
        out.append("== devices")
        out += table(
            ["device", "maps", "direct", "bounced", "failed", "bytes copied", "coherent (exchanged)"],
            r.devices.map { d in
                [
                    d.name, "\(d.maps)", "\(d.direct)", "\(d.bounced)", "\(d.failed)", "\(d.bytesCopied)",
                    "\(d.coherentAllocations) (\(d.coherentExchanged))",
                ]
            })
        if !r.stillMapped.isEmpty {
            out.append("")
            out.append("== still mapped at the end (trace streams)")
            out += table(
                ["device", "stream", "mappings", "bytes", "first ids"],
                r.stillMapped.map { ["\($0.device)", $0.source, "\($0.count)", "\($0.bytes)", $0.firstIDs.joined(separator: " ")] })
        }
        out.append("")
        out.append("== verdicts")
        out += DiagnosisText.render(RunEvidence.diagnose(r))
        return out
    }

    /// The pools' sections: their table, the dynamic pools (when the kernel grew any) and where
    /// each lies in machine memory.
    static func poolLines(_ r: RunResult) -> [String] {
        var out = ["", "== pools"]
        out += table(
            ["pool", "slots", "MB", "peak used", "peak %", "full failures", "final used"],
            r.pools.map { p in
                [
                    p.name, "\(p.nslabs)", "\((p.nslabs << 11) >> 20)", "\(p.peakUsed)",
                    percent(p.peakUsed, p.nslabs), "\(p.fullFailures)", "\(p.finalUsed)",
                ]
            })
        if let d = r.dynamicPools { out += [""] + dynamicPoolLines(d) }
        out += ["", "== pool placement"]
        out += PoolMachinePlacement.of(r).map { $0.line(name: r.pools[$0.pool].name) }
        return out
    }

    /// `a/b` as a percentage with one decimal.
    static func percent(_ a: Int, _ b: Int) -> String {
        guard b > 0 else { return "-" }
        let tenths = (a * 1000 + b / 2) / b
        return "\(tenths / 10).\(tenths % 10)%"
    }

    /// A left-aligned first column and right-aligned numbers.
    static func table(_ header: [String], _ rows: [[String]]) -> [String] {
        let all = [header] + rows
        let widths = header.indices.map { c in all.map { $0[c].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { c, cell in
                let pad = String(repeating: " ", count: widths[c] - cell.count)
                return c == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
    }

    /// 6.18's dynamic pools: their memory, each pool the worker added, the transient pools.
    static func dynamicPoolLines(_ d: DynamicPoolStats) -> [String] {
        ["== dynamic pools (CONFIG_SWIOTLB_DYNAMIC)", "memory \(d.memory.lowerBound)-\(d.memory.upperBound)"]
            + (d.canGrow
                ? []
                : [
                    "never grows: swiotlb_init_remap was given a remap callback (xen_swiotlb_fixup), which leaves can_grow false; a miss fails as without dynamic pools"
                ])
            + d.grown.map { "grown start=\($0.start) nslabs=\($0.nslabs) areas=\($0.areas) peak used=\($0.peakUsed) final used=\($0.finalUsed)" }
            + ["transient pools: \(d.transientMaps) maps, at most \(d.peakTransientSlots) slots at once"]
    }

}
