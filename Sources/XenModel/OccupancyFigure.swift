import Swiotlb
import XenMemory

/// Per pool, the bounce slots each device holds over the run as stacked areas, the pool's
/// `io_tlb_used` as a line on top, and a red mark above the plot at the operation of each
/// failed map (one per device and sample interval; its tooltip gives the count).
enum OccupancyFigure {
    static let panelHeight = 250.0

    /// Draws one panel per pool of `r` at `top`; returns the height used.
    static func draw(_ svg: inout SVGCanvas, _ r: RunResult, top: Double) -> Double {
        let pools = r.pools.indices.filter { r.pools[$0].nslabs > 0 }
        if pools.isEmpty {
            SVGPlot.title(&svg, "Bounce pool occupancy", top: top)
            svg.text(SVGPlot.width / 2, top + 40, "no bounce pool", size: 12, anchor: "middle")
            return 60
        }
        var y = top
        for p in pools { y += panel(&svg, r, pool: p, top: y) }
        return y - top
    }

    /// The x of operation `op` on an axis from `left` to `right` ending at operation `axisEnd`.
    static func x(_ op: Int, axisEnd: UInt64, left: Double, right: Double) -> Double {
        left + (right - left) * Double(op) / Double(axisEnd)
    }

    /// The most failure marks that also get a dotted line down the plot.
    static let maxFailureLines = 20

    /// Failure marks closer than ``markMerge`` pixels drawn as one: (x, marks) in order.
    static let markMerge = 6.0
    static func clusters(_ marks: [RunTimeline.FailureMark], _ x: (Int) -> Double) -> [(x: Double, marks: [RunTimeline.FailureMark])] {
        var out: [(x: Double, marks: [RunTimeline.FailureMark])] = []
        for m in marks.sorted(by: { $0.operation < $1.operation }) {
            let mx = x(m.operation)
            if let last = out.last, mx - last.x < markMerge { out[out.count - 1].marks.append(m) } else { out.append((mx, [m])) }
        }
        return out
    }

    static func panel(_ svg: inout SVGCanvas, _ r: RunResult, pool p: Int, top: Double) -> Double {
        let left = SVGPlot.left, right = SVGPlot.right, ptop = top + 54, bottom = top + panelHeight - 44
        let pool = r.pools[p], t = r.timeline
        let poolBytes = UInt64(pool.nslabs) << UInt64(IOTLB.shift)
        let failures = t.failureCounts.filter { ($0.pool ?? 0) == p }
        let failed = failures.reduce(0) { $0 + $1.count }
        SVGPlot.title(
            &svg,
            "\(pool.name): \(ByteText.text(poolBytes)) (\(pool.nslabs) slots), peak \(pool.peakUsed) used"
                + (failed > 0 ? ", \(failed) failed maps" : ""), top: top)
        let xTicks = AxisTicks.counts(covering: UInt64(max(r.operations, 0)))
        func x(_ op: Int) -> Double { Self.x(op, axisEnd: AxisTicks.end(xTicks), left: left, right: right) }
        func y(_ slots: Int) -> Double { bottom - (bottom - ptop) * Double(slots) / Double(max(pool.nslabs, 1)) }
        svg.axes(left: left, right: right, top: ptop, bottom: bottom)
        svg.line(left, ptop, right, ptop, color: "#999", width: 1, dash: "3,3")
        svg.ticks(xTicks, horizontal: true, at: bottom) { left + (right - left) * Double($0) / Double(AxisTicks.end(xTicks)) }
        svg.ticks(AxisTicks.bytes(covering: poolBytes), horizontal: false, at: left) { y(Int(clamping: $0 >> UInt64(IOTLB.shift))) }
        svg.text((left + right) / 2, bottom + 34, "operation", size: 11, anchor: "middle")
        // The devices' slots, stacked in device order.
        let series = t.series.filter { $0.pool == p }.sorted { $0.device < $1.device }
        var base = Array(repeating: 0, count: t.sampleOps.count)
        var legend: [(String, String)] = []
        for s in series {
            let topLine = zip(base, s.slots).map { $0 + $1 }
            let upper = t.sampleOps.indices.map { (x(t.sampleOps[$0]), y(topLine[$0])) }
            let lower = t.sampleOps.indices.reversed().map { (x(t.sampleOps[$0]), y(base[$0])) }
            let name = r.devices[s.device].name
            svg.polygon(
                upper + lower, color: SVGPlot.deviceColor(s.device), cls: "device-area",
                title: "\(name): peak \(s.slots.max() ?? 0) slots")
            legend.append((name, SVGPlot.deviceColor(s.device)))
            base = topLine
        }
        svg.polyline(pool.occupancy.map { (x($0.op), y($0.used)) }, color: "#000", width: 1, cls: "io-tlb-used")
        legend.append((SwiotlbKernelText.usedFile, "#000"))
        // Failures: a red triangle pointing down at the plot's top edge.
        let marks = clusters(failures, x)
        for c in marks {
            let text = c.marks.map { "\(r.devices[$0.device].name): \($0.count) failed from operation \($0.operation)" }.joined(separator: "; ")
            svg.polygon([(c.x - 5, ptop - 11), (c.x + 5, ptop - 11), (c.x, ptop - 2)], color: SVGPlot.failureColor, cls: "failure", title: text)
            // A line down the plot too while the marks are few enough to tell apart.
            if marks.count <= maxFailureLines { svg.line(c.x, ptop, c.x, bottom, color: SVGPlot.failureColor, width: 0.6, dash: "2,3") }
        }
        if failed > 0 { legend.append(("failed map", SVGPlot.failureColor)) }
        svg.legend(left, top + 22, legend, maxX: right)
        return panelHeight
    }
}
