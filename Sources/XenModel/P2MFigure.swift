import XenDumps
import XenMemory

/// The P2M picture: each run of the guest's P2M as a line from (pseudo-physical address,
/// machine address), identity and missing runs apart, the pools as labelled boxes never
/// smaller than ``minimumBox`` pixels, the 4 GiB line.
enum P2MFigure {
    static let height = 440.0
    /// The smallest side of a pool's box, in pixels.
    static let minimumBox = 10.0

    /// Draws the P2M of `r` at `top`; returns the height used.
    static func draw(_ svg: inout SVGCanvas, _ r: RunResult, top: Double) -> Double {
        guard let p2m = r.boot.p2m, let host = r.boot.host else {
            SVGPlot.title(&svg, "P2M: pseudo-physical → machine address", top: top)
            svg.text(SVGPlot.width / 2, top + 50, "no Xen: device addresses are the guest's physical addresses", size: 12, anchor: "middle")
            return 70
        }
        let placements = PoolMachinePlacement.of(r).map { (name: r.pools[$0.pool].name, placement: $0.placement) }
        return draw(
            &svg, runs: p2m.runs(count: p2m.lastPfnHint.rawValue), maxPfn: p2m.lastPfnHint.rawValue, maxPage: host.maxPage.rawValue,
            pools: placements, top: top)
    }

    /// Draws `runs` over `maxPfn` pfns and `maxPage` machine frames at `top`; returns the height used.
    static func draw(
        _ svg: inout SVGCanvas, runs: [Extent<P2MRun>], maxPfn pfnLimit: UInt64, maxPage: UInt64,
        pools: [(name: String, placement: PoolPlacement)], top: Double
    ) -> Double {
        let left = SVGPlot.left, right = SVGPlot.right, ptop = top + 46, bottom = top + height - 44
        SVGPlot.title(&svg, "P2M: pseudo-physical → machine address", top: top)
        let xTicks = AxisTicks.bytes(covering: pfnLimit << Page.shift), yTicks = AxisTicks.bytes(covering: maxPage << Page.shift)
        let maxX = Double(AxisTicks.end(xTicks)), maxY = Double(AxisTicks.end(yTicks))
        func xb(_ bytes: UInt64) -> Double { left + (right - left) * Double(bytes) / maxX }
        func yb(_ bytes: UInt64) -> Double { bottom - (bottom - ptop) * Double(bytes) / maxY }
        func x(_ pfn: UInt64) -> Double { xb(pfn << Page.shift) }
        func y(_ mfn: UInt64) -> Double { yb(mfn << Page.shift) }
        svg.axes(left: left, right: right, top: ptop, bottom: bottom)
        svg.ticks(xTicks, horizontal: true, at: bottom, xb)
        svg.ticks(yTicks, horizontal: false, at: left, yb)
        svg.text((left + right) / 2, bottom + 34, "pseudo-physical address (guest pfn × 4 KiB)", size: 11, anchor: "middle")
        svg.text(16, (ptop + bottom) / 2, "machine address", size: 11, anchor: "middle", rotate: true)
        let fourG = PoolPlacement.fourGiBFrame.rawValue
        if fourG <= maxPage {
            svg.line(left, y(fourG), right, y(fourG), color: "#444", width: 1, dash: "6,4", cls: "four-gib")
            svg.text(right - 4, y(fourG) - 4, "4 GiB", size: 11, anchor: "end")
        }
        for run in runs {
            let s = run.start, e = run.end
            switch run.value {
            case .machine(let base), .foreign(let base):
                svg.line(x(s), y(base.rawValue), x(e), y(base.rawValue + run.count), color: SVGPlot.ramColor, width: 2)
            case .identity:
                svg.line(x(s), y(s), x(e), y(e), color: SVGPlot.identityColor, width: 2)
            case .missing:
                svg.rect(x(s), bottom - 4, max(1, x(e) - x(s)), 4, color: SVGPlot.missingColor)
            }
        }
        // The pools on top: each machine-contiguous piece as a box around its pfns and machine
        // frames, never smaller than minimumBox; the label beside the first piece.
        for (i, pool) in pools.enumerated() {
            let p = pool.placement, color = SVGPlot.poolColor(i)
            var labelAt: (x0: Double, x1: Double, y: Double)?
            for piece in p.pieces {
                var x0 = x(piece.pfn.rawValue), x1 = x(piece.pfn.rawValue + piece.pages), y0 = y(piece.mfn.rawValue + piece.pages), y1 = y(piece.mfn.rawValue)
                if x1 - x0 < minimumBox { let c = (x0 + x1) / 2; x0 = c - minimumBox / 2; x1 = c + minimumBox / 2 }
                if y1 - y0 < minimumBox { let c = (y0 + y1) / 2; y0 = c - minimumBox / 2; y1 = c + minimumBox / 2 }
                svg.rect(
                    x0, y0, x1 - x0, y1 - y0, color: color, opacity: 0.6, cls: "pool",
                    title: "\(pool.name): pfn \(piece.pfn)+\(piece.pages) at machine \(piece.mfn.address)")
                if labelAt == nil || y0 < labelAt!.y { labelAt = (x0, x1, y0) }
            }
            guard let at = labelAt else { continue }
            let label = "\(pool.name) (\(ByteText.text(p.pages << Page.shift)))"
            let onRight = at.x1 + 8 + Double(label.count) * 6.6 < right
            svg.text(
                onRight ? at.x1 + 6 : at.x0 - 6, max(at.y - 4, ptop + 10), label, size: 11,
                anchor: onRight ? "start" : "end", weight: "bold", color: color, halo: true, cls: "pool-label")
        }
        var legend: [(String, String)] = [("RAM", SVGPlot.ramColor), ("identity", SVGPlot.identityColor), ("missing", SVGPlot.missingColor)]
        for (i, p) in pools.enumerated() { legend.append(("\(p.name) pool", SVGPlot.poolColor(i))) }
        svg.legend(left, top + 22, legend, maxX: right)
        return height
    }
}
