import XenMemory

extension M2PDump {
    /// What `xenpv import` says of a dump-m2p: its entries (`max_page`) and how many are valid
    /// outside the ``repeatedChunks(_:)``, then one line per repeated chunk (not RAM).
    public static func summaryLines(_ m2p: HostM2P) -> [String] {
        let repeated = repeatedChunks(m2p)
        let repeatedValid = repeated.reduce(UInt64(0)) { total, chunk in
            m2p.runs.extents(start: chunk.lowerBound, count: UInt64(chunk.count)).reduce(total) { $0 + $1.count }
        }
        return ["M2P: \(m2p.maxPage.rawValue) entries (max_page), \(m2p.validCount - repeatedValid) valid"]
            + repeated.map {
                "  mfn \(Hex.plain($0.lowerBound))-\(Hex.plain($0.upperBound - 1)): repeated chunk (not RAM): a copy of the previous \(chunkEntries) entries, as Xen reports a hole in its M2P"
            }
    }
}
