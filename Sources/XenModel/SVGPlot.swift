import XenMemory

/// The run as a picture: the P2M layout (pseudo-physical frame → machine frame) with the bounce
/// pools and the 4 GiB line, and each pool's occupancy over the run.
public enum SVGPlot {
    static let width = 960.0, panelHeight = 420.0, margin = 70.0

    /// Renders `r` as a standalone SVG document.
    public static func render(_ r: RunResult) -> String {
        var svg = SVGCanvas(width: width, height: panelHeight * 2 + 60)
        svg.text(width / 2, 24, "\(r.scenario.name)", size: 16, anchor: "middle", weight: "bold")
        layoutPanel(&svg, r, top: 40)
        occupancyPanel(&svg, r, top: panelHeight + 60)
        return svg.document
    }

    static let ramColor = "#3b6fb6", identityColor = "#9a9a9a", missingColor = "#d62728"
    static let poolColors = ["#ff7f0e", "#8e44ad", "#2ca02c"]

    /// A standalone picture of a P2M (e.g. imported from dumps): pseudo-physical frame against
    /// machine frame, with the given pools (name, first pfn, pages) and the 4 GiB line.
    public static func renderLayout(title: String, runs: [Extent<P2MRun>], maxPfn: UInt64, maxPage: UInt64,
                                    pools: [(name: String, pfn: UInt64, pages: UInt64)]) -> String {
        var svg = SVGCanvas(width: width, height: panelHeight + 40)
        svg.text(width / 2, 24, title, size: 16, anchor: "middle", weight: "bold")
        layout(&svg, runs: runs, maxPfn: maxPfn, maxPage: maxPage, pools: pools, top: 30)
        return svg.document
    }

    static func layoutPanel(_ svg: inout SVGCanvas, _ r: RunResult, top: Double) {
        guard let p2m = r.boot.p2m, let host = r.boot.host else {
            svg.text(margin, top + 10, "P2M: pseudo-physical frame → machine frame", size: 13, anchor: "start", weight: "bold")
            svg.text(width / 2, top + panelHeight / 2, "no Xen: device addresses are the guest's physical addresses", size: 12, anchor: "middle")
            return
        }
        layout(&svg, runs: p2m.runs(count: p2m.lastPfnHint), maxPfn: p2m.lastPfnHint, maxPage: host.maxPage,
               pools: r.pools.map { ($0.name, $0.start >> Page.shift, UInt64($0.nslabs / 2)) }, top: top)
    }

    static func layout(_ svg: inout SVGCanvas, runs: [Extent<P2MRun>], maxPfn pfnLimit: UInt64, maxPage: UInt64,
                       pools poolList: [(name: String, pfn: UInt64, pages: UInt64)], top: Double) {
        let left = margin, right = width - 30, bottom = top + panelHeight - 50, ptop = top + 44
        svg.text(left, top + 10, "P2M: pseudo-physical frame → machine frame", size: 13, anchor: "start", weight: "bold")
        let maxPfn = Double(max(pfnLimit, 1))
        let maxMfn = Double(max(maxPage, 0x100001))
        func x(_ pfn: Double) -> Double { left + (right - left) * pfn / maxPfn }
        func y(_ mfn: Double) -> Double { bottom - (bottom - ptop) * mfn / maxMfn }
        svg.axes(left: left, right: right, top: ptop, bottom: bottom)
        ticks(&svg, maxPfn, horizontal: true, at: bottom) { x($0) }
        ticks(&svg, maxMfn, horizontal: false, at: left) { y($0) }
        svg.text((left + right) / 2, bottom + 36, "guest pfn", size: 11, anchor: "middle")
        svg.text(16, (ptop + bottom) / 2, "machine frame", size: 11, anchor: "middle", rotate: true)
        // The 4 GiB line.
        let fourG = Double(0x100000)
        if fourG < maxMfn {
            svg.line(left, y(fourG), right, y(fourG), color: "#444", width: 1, dash: "6,4")
            svg.text(right - 4, y(fourG) - 4, "4 GiB", size: 11, anchor: "end")
        }
        let pools = poolList.enumerated().map { (i, p) in (i, p.pfn..<(p.pfn + p.pages)) }
        for run in runs {
            let s = Double(run.start), n = Double(run.count)
            switch run.value {
            case .machine(let base), .foreign(let base):
                let pool = pools.first { $0.1.contains(run.start) }
                let color = pool.map { poolColors[$0.0 % poolColors.count] } ?? ramColor
                svg.line(x(s), y(Double(base)), x(s + n), y(Double(base) + n), color: color, width: pool == nil ? 2 : 3)
                if x(s + n) - x(s) < 2 { svg.dot(x(s), y(Double(base)), color: color) }
            case .identity:
                svg.line(x(s), y(s), x(s + n), y(s + n), color: identityColor, width: 2)
            case .missing:
                svg.rect(x(s), bottom - 4, max(1, x(s + n) - x(s)), 4, color: missingColor)
            }
        }
        var legend: [(String, String)] = [("RAM", ramColor), ("identity", identityColor), ("missing", missingColor)]
        for (i, p) in poolList.enumerated() { legend.append(("\(p.name) pool", poolColors[i % poolColors.count])) }
        svg.legend(left, top + 20, legend)
    }

    static func occupancyPanel(_ svg: inout SVGCanvas, _ r: RunResult, top: Double) {
        let left = margin, right = width - 30, bottom = top + panelHeight - 50, ptop = top + 44
        svg.text(left, top + 10, "Bounce pool occupancy (io_tlb_used / io_tlb_nslabs) over the run", size: 13, anchor: "start", weight: "bold")
        svg.axes(left: left, right: right, top: ptop, bottom: bottom)
        let maxOp = Double(max(r.operations, 1))
        func x(_ op: Double) -> Double { left + (right - left) * op / maxOp }
        func y(_ frac: Double) -> Double { bottom - (bottom - ptop) * frac }
        for k in 0...4 {
            let f = Double(k) / 4
            svg.line(left - 4, y(f), left, y(f), color: "#000", width: 1)
            svg.text(left - 8, y(f) + 4, "\(k * 25)%", size: 10, anchor: "end")
        }
        ticks(&svg, maxOp, horizontal: true, hex: false, at: bottom) { x($0) }
        svg.text((left + right) / 2, bottom + 36, "operation", size: 11, anchor: "middle")
        var legend: [(String, String)] = []
        for (i, p) in r.pools.enumerated() where p.nslabs > 0 {
            let color = poolColors[i % poolColors.count]
            let pts = p.occupancy.map { (x(Double($0.op)), y(Double($0.used) / Double(p.nslabs))) }
            svg.polyline(pts, color: color)
            legend.append(("\(p.name): peak \(p.peakUsed) of \(p.nslabs) slots", color))
        }
        svg.legend(left, top + 20, legend)
    }

    static func ticks(_ svg: inout SVGCanvas, _ maxValue: Double, horizontal: Bool, hex: Bool = true,
                      at base: Double, _ pos: (Double) -> Double) {
        for k in 0...4 {
            let v = maxValue * Double(k) / 4
            let label = hex ? Hex.plain(UInt64(v)) : String(UInt64(v))
            if horizontal {
                svg.line(pos(v), base, pos(v), base + 4, color: "#000", width: 1)
                svg.text(pos(v), base + 18, label, size: 10, anchor: "middle")
            } else {
                svg.line(base - 4, pos(v), base, pos(v), color: "#000", width: 1)
                svg.text(base - 6, pos(v) + 4, label, size: 10, anchor: "end")
            }
        }
    }
}

/// A minimal SVG writer.
struct SVGCanvas {
    let width: Double, height: Double
    private var body: [String] = []

    init(width: Double, height: Double) { self.width = width; self.height = height }

    static func f(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(r)
    }

    var document: String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Self.f(width))\" height=\"\(Self.f(height))\" viewBox=\"0 0 \(Self.f(width)) \(Self.f(height))\" font-family=\"sans-serif\">\n"
            + "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n" + body.joined(separator: "\n") + "\n</svg>\n"
    }

    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, color: String, width: Double, dash: String? = nil) {
        body.append("<line x1=\"\(Self.f(x1))\" y1=\"\(Self.f(y1))\" x2=\"\(Self.f(x2))\" y2=\"\(Self.f(y2))\" stroke=\"\(color)\" stroke-width=\"\(Self.f(width))\"\(dash.map { " stroke-dasharray=\"\($0)\"" } ?? "")/>")
    }

    mutating func dot(_ x: Double, _ y: Double, color: String) {
        body.append("<circle cx=\"\(Self.f(x))\" cy=\"\(Self.f(y))\" r=\"2\" fill=\"\(color)\"/>")
    }

    mutating func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, color: String) {
        body.append("<rect x=\"\(Self.f(x))\" y=\"\(Self.f(y))\" width=\"\(Self.f(w))\" height=\"\(Self.f(h))\" fill=\"\(color)\"/>")
    }

    mutating func polyline(_ pts: [(Double, Double)], color: String) {
        guard !pts.isEmpty else { return }
        body.append("<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" points=\"\(pts.map { "\(Self.f($0.0)),\(Self.f($0.1))" }.joined(separator: " "))\"/>")
    }

    mutating func text(_ x: Double, _ y: Double, _ s: String, size: Double, anchor: String, weight: String = "normal", rotate: Bool = false) {
        let esc = s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        let tr = rotate ? " transform=\"rotate(-90 \(Self.f(x)) \(Self.f(y)))\"" : ""
        body.append("<text x=\"\(Self.f(x))\" y=\"\(Self.f(y))\" font-size=\"\(Self.f(size))\" text-anchor=\"\(anchor)\" font-weight=\"\(weight)\"\(tr)>\(esc)</text>")
    }

    mutating func axes(left: Double, right: Double, top: Double, bottom: Double) {
        line(left, bottom, right, bottom, color: "#000", width: 1)
        line(left, top, left, bottom, color: "#000", width: 1)
    }

    /// A one-row legend starting at (x, y).
    mutating func legend(_ x: Double, _ y: Double, _ items: [(String, String)]) {
        var xx = x
        for item in items {
            rect(xx, y, 12, 10, color: item.1)
            text(xx + 16, y + 9, item.0, size: 11, anchor: "start")
            xx += 28 + Double(item.0.count) * 6.2
        }
    }
}
