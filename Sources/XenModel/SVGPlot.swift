import XenDumps
import XenMemory

/// A picture `SVGPlot` can draw of a run (docs/pictures.md shows each).
public enum SVGFigure: String, CaseIterable, Sendable {
    /// The guest's P2M: pseudo-physical address against machine address, the pools as labelled
    /// boxes of a readable minimum size, the 4 GiB line.
    case p2m
    /// Machine memory as one bar: the domain's RAM, each pool's pieces in a lane of its own,
    /// labelled with its range and segments, the 4 GiB line.
    case machineMap = "machine-map"
    /// Per pool, the slots each device holds over the run, stacked, with `io_tlb_used` on top and
    /// each failed map marked where it happened.
    case occupancy
    /// The pool at the first "buffer is full": free runs, segment and area boundaries, the
    /// longest free run against the request.
    case slotMap = "slot-map"
}

/// Draws runs as SVG documents: any choice of ``SVGFigure``s, one below the other.
public enum SVGPlot {
    static let width = 960.0, left = 84.0, right = width - 30

    /// Renders `figures` of `r`, in the order given, as one standalone SVG document.
    public static func render(_ r: RunResult, figures: [SVGFigure] = SVGFigure.allCases) -> String {
        var svg = SVGCanvas(width: width, height: 0)
        svg.text(width / 2, 24, r.scenario.name, size: 16, anchor: "middle", weight: "bold")
        var top = 40.0
        for f in figures {
            switch f {
            case .p2m: top += P2MFigure.draw(&svg, r, top: top)
            case .machineMap: top += MachineMapFigure.draw(&svg, r, top: top)
            case .occupancy: top += OccupancyFigure.draw(&svg, r, top: top)
            case .slotMap: top += SlotMapFigure.draw(&svg, r, top: top)
            }
            top += 20
        }
        svg.height = top
        return svg.document
    }

    /// A standalone picture of a P2M (e.g. imported from dumps): pseudo-physical address against
    /// machine address over `maxPage` machine frames, with the named pools and the 4 GiB line.
    public static func renderLayout(
        title: String, p2m: P2MDumpContents, maxPage: UInt64,
        pools: [(name: String, location: SwiotlbPoolLocation)]
    ) -> String {
        var svg = SVGCanvas(width: width, height: 0)
        svg.text(width / 2, 24, title, size: 16, anchor: "middle", weight: "bold")
        let placements = pools.map { (name: $0.name, placement: PoolPlacement($0.location, in: p2m)) }
        svg.height = 40 + P2MFigure.draw(&svg, runs: p2m.entries.extents, maxPfn: p2m.size, maxPage: maxPage, pools: placements, top: 40) + 20
        return svg.document
    }

    static let ramColor = "#3b6fb6", identityColor = "#9a9a9a", missingColor = "#d62728", failureColor = "#d62728"
    static let poolColors = ["#ff7f0e", "#8e44ad", "#2ca02c"]
    static let deviceColors = ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]

    /// The colour of pool `i`.
    static func poolColor(_ i: Int) -> String { poolColors[i % poolColors.count] }
    /// The colour of device `i`.
    static func deviceColor(_ i: Int) -> String { deviceColors[i % deviceColors.count] }

    /// A figure's title line.
    static func title(_ svg: inout SVGCanvas, _ s: String, top: Double) {
        svg.text(left, top + 12, s, size: 13, anchor: "start", weight: "bold")
    }
}
