import Diagnosis
import XenMemory

/// `diagnose --plot`: the pictures that explain the verdicts. A model run gets the run's own
/// figures (docs/pictures.md) chosen by verdict; evidence from a system (log, debugfs, trace)
/// gets one bar per pool, drawn to scale in slots: the slots in use at the end, the high-water
/// mark, each failed map at the use it failed at (red, with the run it needed), and the
/// recommended size (dashed); the verdicts are written underneath.
public enum DiagnosisPlot {
    /// The figures of a model run that explain `d`: the occupancy over the run always, the slot
    /// map at the first "buffer is full" for fragmentation and maps over the max mapping size,
    /// the machine map for a healthy or oversized pool.
    public static func figures(for d: Diagnosis) -> [SVGFigure] {
        let kinds = Set(d.verdicts.map(\.kind))
        var out: [SVGFigure] = [.occupancy]
        if !kinds.isDisjoint(with: [.fragmentation, .overMaxMappingSize, .undersized]) { out.append(.slotMap) }
        if !kinds.isDisjoint(with: [.healthy, .oversized, .noPool]) { out.append(.machineMap) }
        return out
    }

    /// The pictures of model run `r` for its diagnosis `d`.
    public static func render(_ d: Diagnosis, run r: RunResult) -> String {
        SVGPlot.render(r, figures: figures(for: d))
    }

    /// The bar picture of evidence `e` and its diagnosis `d`.
    public static func render(_ d: Diagnosis, _ e: Evidence) -> String {
        let width = 960.0, left = 150.0, right = width - 40, barHeight = 26.0, rowHeight = 70.0
        let verdictLines = d.verdicts.map { "\($0.kind.rawValue)\($0.device.map { ": \($0)" } ?? ""): \($0.explanation)" }
        let height = 60 + rowHeight * Double(max(e.pools.count, 1)) + 20 + 18 * Double(verdictLines.count) + 30
        var svg = SVGCanvas(width: width, height: height)
        svg.text(width / 2, 24, "xenpv diagnose: \(d.kernel)", size: 16, anchor: "middle", weight: "bold")
        svg.legend(
            left, 34, [("used at the end", "#7f7f7f"), ("high-water", "#ff7f0e"), ("failed map (used then)", "#d62728"), ("recommended", "#2ca02c")],
            maxX: right)
        var y = 70.0
        if e.pools.isEmpty { svg.text(left, y + 18, "no pool in the evidence", size: 13, anchor: "start") }
        for (i, p) in e.pools.enumerated() {
            let recommended = d.recommendation.flatMap { i < $0.pools.count ? Double($0.pools[i].slots) : nil }
            let scale = max(Double(max(p.nslabs, 1)), recommended ?? 0)
            func x(_ slots: Double) -> Double { left + (right - left) * min(slots, scale) / scale }
            svg.text(left - 8, y + 17, p.name ?? SwiotlbKernelText.unnamedPool, size: 13, anchor: "end", weight: "bold")
            svg.rect(left, y, x(Double(p.nslabs)) - left, barHeight, color: "#e8e8e8")
            if let used = p.used { svg.rect(left, y, x(Double(used)) - left, barHeight, color: "#7f7f7f") }
            if let hw = p.highWater { svg.line(x(Double(hw)), y - 4, x(Double(hw)), y + barHeight + 4, color: "#ff7f0e", width: 3) }
            for f in e.failures.filter({ $0.pool == i }).prefix(200) {
                svg.line(x(Double(f.used)), y, x(Double(f.used + f.neededSlots)), y + barHeight, color: "#d62728", width: 1.5)
            }
            if let recommended { svg.line(x(recommended), y - 8, x(recommended), y + barHeight + 8, color: "#2ca02c", width: 2, dash: "6,3") }
            let failed = e.failures.filter { $0.pool == i }.count
            svg.text(
                left, y + barHeight + 16,
                "\(p.nslabs) slots (\(SizePolicy.megabytes(UInt64(p.nslabs))) MB)"
                    + (p.highWater.map { ", high-water \($0)" } ?? "") + (failed > 0 ? ", \(failed) failed map\(failed == 1 ? "" : "s")" : "")
                    + (recommended.map { ", recommended \(Int($0)) slots" } ?? ""), size: 11, anchor: "start")
            svg.text(right, y + barHeight + 16, "\(Int(scale)) slots", size: 11, anchor: "end")
            y += rowHeight
        }
        y += 10
        for line in verdictLines {
            svg.text(20, y, String(line.prefix(150)), size: 12, anchor: "start")
            y += 18
        }
        return svg.document
    }
}
