import Swiotlb
import XenMemory

/// The pool at the run's first "buffer is full": rows of slots (a whole number of 128-slot
/// segments each), used slots grey, free runs amber when shorter than the request and green
/// when long enough, segment boundaries as white gaps where they are at least
/// ``minimumSegmentWidth`` pixels apart, area boundaries in dark red, the longest free run outlined.
enum SlotMapFigure {
    static let maxRows = 32, rowHeight = 14.0, rowGap = 5.0
    static let minimumSegmentWidth = 4.0
    static let usedColor = "#b0b0b0", shortColor = "#f0b429", fitColor = "#2ca02c", areaColor = "#8b0000"

    /// Draws the slot map of `r`'s first "buffer is full" at `top`; returns the height used.
    static func draw(_ svg: inout SVGCanvas, _ r: RunResult, top: Double) -> Double {
        guard let snap = r.timeline.firstFullFailure else {
            SVGPlot.title(&svg, "Slot map at the first \"buffer is full\"", top: top)
            svg.text(SVGPlot.width / 2, top + 40, "no map failed with \"buffer is full\"", size: 12, anchor: "middle")
            return 60
        }
        return draw(&svg, snap, poolName: r.pools[snap.pool].name, device: r.devices[snap.device].name, top: top)
    }

    /// `n slots`, or `1 slot`.
    static func slots(_ n: Int) -> String { n == 1 ? "1 slot" : "\(n) slots" }

    /// Slots per row: whole segments, at most ``maxRows`` rows.
    static func rowSlots(_ nslabs: Int) -> Int {
        let seg = IOTLB.segmentSlots
        let perRow = (nslabs + maxRows - 1) / maxRows
        return max(seg, (perRow + seg - 1) / seg * seg)
    }

    /// Draws `snap` at `top`; returns the height used.
    static func draw(_ svg: inout SVGCanvas, _ snap: SlotMapSnapshot, poolName: String, device: String, top: Double) -> Double {
        let left = SVGPlot.left, right = SVGPlot.right
        SVGPlot.title(
            &svg,
            "\(poolName) at the first \"buffer is full\": operation \(snap.operation), \(device) mapping \(snap.requestBytes) bytes (\(slots(snap.requestSlots)))",
            top: top)
        let longest = snap.freeRuns.max { $0.count < $1.count }
        svg.text(left, top + 30, summary(snap), size: 11, anchor: "start", cls: "slot-summary")
        let perRow = rowSlots(snap.nslabs)
        let rows = (snap.nslabs + perRow - 1) / perRow
        let scale = (right - left) / Double(perRow)
        let gridTop = top + 62
        func rowY(_ row: Int) -> Double { gridTop + Double(row) * (rowHeight + rowGap) }
        for row in 0..<rows {
            let first = row * perRow, n = min(perRow, snap.nslabs - first)
            svg.rect(left, rowY(row), Double(n) * scale, rowHeight, color: usedColor)
            svg.text(left - 6, rowY(row) + 11, "slot \(first)", size: 10, anchor: "end", cls: "row-label")
        }
        // Free runs, split at row ends; narrower than a pixel they are widened to one.
        for run in snap.freeRuns {
            var s = run.lowerBound
            while s < run.upperBound {
                let row = s / perRow, e = min(run.upperBound, (row + 1) * perRow)
                let x0 = left + Double(s - row * perRow) * scale
                svg.rect(
                    x0, rowY(row), max(Double(e - s) * scale, 1), rowHeight,
                    color: run.count >= snap.requestSlots ? fitColor : shortColor, cls: "free-run")
                s = e
            }
        }
        boundaries(&svg, snap, perRow: perRow, scale: scale, rowY: rowY)
        if let longest, !longest.isEmpty {
            let row = longest.lowerBound / perRow
            let x0 = left + Double(longest.lowerBound - row * perRow) * scale
            svg.rect(
                x0 - 1, rowY(row) - 1, max(Double(longest.count) * scale, 1) + 2, rowHeight + 2, color: "none", stroke: "#000", cls: "longest-run",
                title: "longest free run: \(longest.count) slots from slot \(longest.lowerBound)")
        }
        let legendTop = rowY(rows) + 6
        var legend = [("used", usedColor), ("free run < \(slots(snap.requestSlots))", shortColor), ("free run ≥ \(slots(snap.requestSlots))", fitColor)]
        if snap.areaSlots < snap.nslabs { legend.append(("area boundary", areaColor)) }
        let rows2 = svg.legend(left, legendTop, legend, maxX: right)
        return legendTop + Double(rows2) * 16 + 4 - top
    }

    /// The line under the title: free slots, the longest free run against the request, areas.
    static func summary(_ snap: SlotMapSnapshot) -> String {
        (snap.freeSlots == 0
            ? "no slot free of \(snap.nslabs)"
            : "\(snap.freeSlots) of \(snap.nslabs) slots free; longest free run \(slots(snap.longestFreeRun))"
                + (snap.longestFreeRun < snap.requestSlots ? " < \(snap.requestSlots) needed" : ""))
            + "; a run ends at a used slot or a 128-slot segment boundary"
            + (snap.nslabs / snap.areaSlots > 1 ? "; \(snap.nslabs / snap.areaSlots) areas of \(snap.areaSlots) slots" : "")
    }

    /// The 128-slot segment boundaries (where they are wide enough apart to see) and the area
    /// boundaries over the grid of `perRow` slots a row, `scale` pixels a slot.
    static func boundaries(_ svg: inout SVGCanvas, _ snap: SlotMapSnapshot, perRow: Int, scale: Double, rowY: (Int) -> Double) {
        let left = SVGPlot.left
        if Double(IOTLB.segmentSlots) * scale >= minimumSegmentWidth {
            for row in 0..<((snap.nslabs + perRow - 1) / perRow) {
                let n = min(perRow, snap.nslabs - row * perRow)
                for k in stride(from: IOTLB.segmentSlots, to: n, by: IOTLB.segmentSlots) {
                    let sx = left + Double(k) * scale
                    svg.line(sx, rowY(row), sx, rowY(row) + rowHeight, color: "#fff", width: 1.5, cls: "segment-boundary")
                }
            }
        }
        if snap.areaSlots < snap.nslabs {
            for a in stride(from: snap.areaSlots, to: snap.nslabs, by: snap.areaSlots) {
                let row = a / perRow, ax = left + Double(a - row * perRow) * scale
                svg.line(ax, rowY(row) - 3, ax, rowY(row) + rowHeight + 3, color: areaColor, width: 3, cls: "area-boundary")
            }
        }
    }
}
