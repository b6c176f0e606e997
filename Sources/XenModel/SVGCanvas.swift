/// A minimal SVG writer: absolute coordinates, one element per call, in drawing order.
///
/// Elements may carry a `class` naming what they show (`tick`, `pool`, `failure`, …), which
/// docs/pictures.md lists; tests find elements by it.
struct SVGCanvas {
    let width: Double
    /// The document's height, grown by the figures as they are laid out.
    var height: Double
    private var body: [String] = []

    init(width: Double, height: Double) { self.width = width; self.height = height }

    /// A coordinate with at most one decimal.
    static func f(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(r)
    }

    /// Text made safe for element content and attribute values.
    static func escaped(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    private static func cls(_ c: String?) -> String { c.map { " class=\"\($0)\"" } ?? "" }

    var document: String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Self.f(width))\" height=\"\(Self.f(height))\" viewBox=\"0 0 \(Self.f(width)) \(Self.f(height))\" font-family=\"sans-serif\">\n"
            + "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n" + body.joined(separator: "\n") + "\n</svg>\n"
    }

    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, color: String, width: Double, dash: String? = nil, cls: String? = nil) {
        body.append(
            "<line\(Self.cls(cls)) x1=\"\(Self.f(x1))\" y1=\"\(Self.f(y1))\" x2=\"\(Self.f(x2))\" y2=\"\(Self.f(y2))\" stroke=\"\(color)\" stroke-width=\"\(Self.f(width))\"\(dash.map { " stroke-dasharray=\"\($0)\"" } ?? "")/>"
        )
    }

    mutating func rect(
        _ x: Double, _ y: Double, _ w: Double, _ h: Double, color: String, opacity: Double = 1,
        stroke: String? = nil, cls: String? = nil, title: String? = nil
    ) {
        let o = opacity < 1 ? " fill-opacity=\"\(Self.f(opacity))\"" : ""
        let s = stroke.map { " stroke=\"\($0)\" stroke-width=\"1\"" } ?? ""
        let open = "<rect\(Self.cls(cls)) x=\"\(Self.f(x))\" y=\"\(Self.f(y))\" width=\"\(Self.f(w))\" height=\"\(Self.f(h))\" fill=\"\(color)\"\(o)\(s)"
        body.append(title.map { open + "><title>\(Self.escaped($0))</title></rect>" } ?? open + "/>")
    }

    mutating func polyline(_ pts: [(Double, Double)], color: String, width: Double = 1.5, cls: String? = nil) {
        guard !pts.isEmpty else { return }
        body.append(
            "<polyline\(Self.cls(cls)) fill=\"none\" stroke=\"\(color)\" stroke-width=\"\(Self.f(width))\" points=\"\(pts.map { "\(Self.f($0.0)),\(Self.f($0.1))" }.joined(separator: " "))\"/>"
        )
    }

    mutating func polygon(_ pts: [(Double, Double)], color: String, cls: String? = nil, title: String? = nil) {
        guard !pts.isEmpty else { return }
        let open =
            "<polygon\(Self.cls(cls)) fill=\"\(color)\" stroke=\"none\" points=\"\(pts.map { "\(Self.f($0.0)),\(Self.f($0.1))" }.joined(separator: " "))\""
        body.append(title.map { open + "><title>\(Self.escaped($0))</title></polygon>" } ?? open + "/>")
    }

    /// Text; a `halo` (a white outline under the glyphs) keeps it readable over lines.
    mutating func text(
        _ x: Double, _ y: Double, _ s: String, size: Double, anchor: String, weight: String = "normal",
        rotate: Bool = false, color: String? = nil, halo: Bool = false, cls: String? = nil
    ) {
        let tr = rotate ? " transform=\"rotate(-90 \(Self.f(x)) \(Self.f(y)))\"" : ""
        let fill = (color.map { " fill=\"\($0)\"" } ?? "") + (halo ? " stroke=\"white\" stroke-width=\"3\" paint-order=\"stroke\"" : "")
        body.append(
            "<text\(Self.cls(cls)) x=\"\(Self.f(x))\" y=\"\(Self.f(y))\" font-size=\"\(Self.f(size))\" text-anchor=\"\(anchor)\" font-weight=\"\(weight)\"\(fill)\(tr)>\(Self.escaped(s))</text>"
        )
    }

    mutating func axes(left: Double, right: Double, top: Double, bottom: Double) {
        line(left, bottom, right, bottom, color: "#000", width: 1)
        line(left, top, left, bottom, color: "#000", width: 1)
    }

    /// Tick marks and labels along the bottom (`horizontal`) or the left axis at `base`.
    mutating func ticks(_ ticks: [AxisTicks.Tick], horizontal: Bool, at base: Double, _ pos: (UInt64) -> Double) {
        for t in ticks {
            let p = pos(t.value)
            if horizontal {
                line(p, base, p, base + 4, color: "#000", width: 1)
                text(p, base + 17, t.label, size: 11, anchor: "middle", cls: "tick")
            } else {
                line(base - 4, p, base, p, color: "#000", width: 1)
                text(base - 7, p + 4, t.label, size: 11, anchor: "end", cls: "tick")
            }
        }
    }

    /// A legend from (x, y), wrapping onto a new row before `maxX`; returns the rows used.
    @discardableResult
    mutating func legend(_ x: Double, _ y: Double, _ items: [(String, String)], maxX: Double) -> Int {
        var xx = x, yy = y, rows = 1
        for item in items {
            let w = 28 + Double(item.0.count) * 6.4
            if xx > x, xx + w > maxX { xx = x; yy += 16; rows += 1 }
            rect(xx, yy, 12, 10, color: item.1)
            text(xx + 16, yy + 9, item.0, size: 11, anchor: "start")
            xx += w
        }
        return rows
    }
}
