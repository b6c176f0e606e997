import XenDumps
import XenMemory

extension P2MSummary {
    /// The summary as `xenpv p2m --json` and `xenpv import --json` write it (schema 1, see
    /// docs/dom0-diagnostic.md): the counts, the longest run, the run-length histogram, the M2P
    /// mismatches (null when no M2P was given) and each pool's segments.
    public var json: JSONValue {
        .object([
            ("schema", .int(1)), ("domain", .int(Int64(domid.rawValue))), ("entries", .uint(size)), ("source", .string(source.note)),
            ("ram", .uint(ram)), ("identity", .uint(identity)), ("missing", .uint(missing)), ("foreign", .uint(foreign)),
            ("ram_below_4g", .uint(below4G)), ("contiguous_runs", .uint(contiguousRuns)),
            ("longest_run", .object([("pfn", .uint(longestRun.pfn.rawValue)), ("mfn", .uint(longestRun.mfn.rawValue)), ("pages", .uint(longestRun.pages))])),
            ("run_length_histogram", .array(runLengthHistogram.map { .uint($0) })),
            ("m2p_mismatches", m2pChecked ? .uint(m2pMismatches) : .null),
            (
                "pools",
                .array(
                    poolSegments.map { segments in
                        .array(
                            segments.map { segment in
                                .object([
                                    ("pfn", .uint(segment.pfn.rawValue)), ("mfn", segment.mfn.map { .uint($0.rawValue) } ?? .null),
                                    ("pages", .uint(segment.pages)),
                                    ("contiguous", .bool(segment.contiguous)), ("below_4g", .bool(segment.below4G)),
                                ])
                            })
                    })
            ),
        ])
    }

    /// The SVG picture of `p2m` (the P2M summarised) on a machine of `maxPage` frames, each
    /// placed pool marked.
    public func plot(_ p2m: P2MDumpContents, maxPage: UInt64) -> String {
        let pools = poolSegments.enumerated().compactMap { (i, segments) -> (String, SwiotlbPoolLocation)? in
            guard let first = segments.first else { return nil }
            return ("swiotlb \(i)", SwiotlbPoolLocation(start: first.pfn.address, nslabs: 2 * segments.reduce(0) { $0 + $1.pages }))
        }
        return SVGPlot.renderLayout(title: "P2M of domain \(domid.rawValue)", p2m: p2m, maxPage: maxPage, pools: pools)
    }
}
