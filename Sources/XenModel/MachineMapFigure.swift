import XenDumps
import XenMemory

/// Machine memory as one horizontal axis: the domain's RAM in a bar, then one lane per pool with
/// its machine-contiguous pieces (each at least ``minimumPiece`` pixels wide) and a label giving
/// its range, segments and the 4 GiB verdict; the 4 GiB line across all lanes.
enum MachineMapFigure {
    /// The narrowest a pool's piece is drawn, in pixels.
    static let minimumPiece = 6.0
    static let laneHeight = 22.0, laneGap = 30.0

    /// Draws the machine map of `r` at `top`; returns the height used.
    static func draw(_ svg: inout SVGCanvas, _ r: RunResult, top: Double) -> Double {
        let left = SVGPlot.left, right = SVGPlot.right
        let placements = PoolMachinePlacement.of(r)
        let native = r.boot.p2m == nil
        SVGPlot.title(&svg, native ? "Memory (no Xen: bus address = physical address)" : "Machine memory: where the domain and its bounce pools are", top: top)
        // The domain's memory, as frame ranges.
        var ram: [Range<UInt64>] = []
        if let p2m = r.boot.p2m {
            for run in p2m.runs(count: p2m.lastPfnHint.rawValue) {
                if case .machine(let base) = run.value { ram.append(base.rawValue..<(base.rawValue + run.count)) }
            }
        } else {
            ram = r.boot.bufferRanges.map(\.raw)
        }
        let poolEnd = placements.compactMap(\.placement.frameEnd).max()?.rawValue ?? 0
        let frames = max(r.boot.host?.maxPage.rawValue ?? 0, ram.map(\.upperBound).max() ?? 0, poolEnd, PoolPlacement.fourGiBFrame.rawValue)
        let ticks = AxisTicks.bytes(covering: frames << Page.shift)
        let maxBytes = Double(AxisTicks.end(ticks))
        func xb(_ bytes: UInt64) -> Double { left + (right - left) * Double(bytes) / maxBytes }
        func x(_ frame: UInt64) -> Double { xb(frame << Page.shift) }
        let barTop = top + 34
        // Below the bar, one lane per pool from barTop + (k + 1) × (laneHeight + laneGap), its label 13 px under it.
        let lanesBottom = barTop + Double(placements.count) * (laneHeight + laneGap) + laneHeight + (placements.isEmpty ? 6 : 22)
        let four = x(PoolPlacement.fourGiBFrame.rawValue)
        svg.line(four, barTop - 6, four, lanesBottom, color: "#c00", width: 1.5, dash: "6,4", cls: "four-gib")
        svg.text(four - 4, barTop - 8, "4 GiB", size: 11, anchor: "end", color: "#c00")
        svg.text(left - 8, barTop + 15, native ? "RAM" : "domain", size: 11, anchor: "end")
        svg.rect(left, barTop, right - left, laneHeight, color: "#eeeeee")
        for span in pixelSpans(ram.sorted { $0.lowerBound < $1.lowerBound }.map { (x($0.lowerBound), x($0.upperBound)) }, minimum: 1) {
            svg.rect(span.0, barTop, span.1 - span.0, laneHeight, color: SVGPlot.ramColor, cls: "ram")
        }
        var laneTop = barTop + laneHeight + laneGap
        for m in placements {
            let p = m.placement, color = SVGPlot.poolColor(m.pool), name = r.pools[m.pool].name
            svg.text(left - 8, laneTop + 15, name, size: 11, anchor: "end", weight: "bold", color: color)
            svg.line(left, laneTop + laneHeight / 2, right, laneTop + laneHeight / 2, color: "#dddddd", width: 1)
            let pieces = p.pieces.sorted { $0.mfn < $1.mfn }.map { (x($0.mfn.rawValue), x($0.mfn.rawValue + $0.pages)) }
            for span in pixelSpans(pieces, minimum: minimumPiece) {
                svg.rect(span.0, laneTop, span.1 - span.0, laneHeight, color: color, stroke: "#333", cls: "pool-piece")
            }
            if let low = p.lowestFrame, let end = p.frameEnd {
                let label =
                    "\(ByteText.text(p.pages << Page.shift)) at \(low.address)-\(Hex.plain(end.address.rawValue - 1))"
                    + (p.pieces.count == 1 ? "" : " (\(p.pieces.count) pieces)")
                    + ", \(p.contiguousSegments)/\(p.segmentCount) segments contiguous, "
                    + (p.allBelow4G ? "below 4 GiB" : "\(ByteText.text(p.pagesAbove4G << Page.shift)) above 4 GiB")
                let x0 = max(x(low.rawValue) - minimumPiece / 2, left), x1 = min(x(end.rawValue) + minimumPiece / 2, right)
                let onRight = x1 + 8 + Double(label.count) * 6.1 <= right
                let at = onRight ? x1 + 6 : (x0 - 8 - Double(label.count) * 6.1 >= left ? x0 - 6 : left)
                svg.text(at, laneTop + laneHeight + 13, label, size: 11, anchor: onRight || at == left ? "start" : "end", halo: true, cls: "pool-label")
            }
            laneTop += laneHeight + laneGap
        }
        let axisY = lanesBottom
        svg.line(left, axisY, right, axisY, color: "#000", width: 1)
        svg.ticks(ticks, horizontal: true, at: axisY, xb)
        svg.text((left + right) / 2, axisY + 32, native ? "physical address" : "machine address", size: 11, anchor: "middle")
        return axisY + 40 - top
    }

    /// Pixel intervals sorted by start, each widened to `minimum` about its centre, merged where
    /// they touch: as many rectangles as there is room for, whatever the number of runs.
    static func pixelSpans(_ spans: [(Double, Double)], minimum: Double) -> [(Double, Double)] {
        var out: [(Double, Double)] = []
        for var s in spans {
            if s.1 - s.0 < minimum { let c = (s.0 + s.1) / 2; s = (c - minimum / 2, c + minimum / 2) }
            if let last = out.last, s.0 <= last.1 + 0.5 { out[out.count - 1].1 = max(last.1, s.1) } else { out.append(s) }
        }
        return out
    }
}
