import XenMemory

/// A machine-frame range a scenario names (a boot region, an inventory block, a boot module)
/// and where it is written.
struct NamedFrames {
    /// The frames, end exclusive.
    var frames: Range<UInt64>
    /// The field that gives them.
    var field: Field
}

/// The meaning checks of the machine frames a scenario names: each range lies in E820 RAM from
/// MFN 0x100 up (the first MiB is never Xen's heap), and no two ranges share a frame.
/// Sorting once keeps both checks O(n log n) however many ranges a file lists.
struct ScenarioFrames {
    /// E820 RAM as frame ranges, sorted, touching ranges merged.
    let ram: [Range<UInt64>]

    /// The RAM of `e820`.
    init(e820: E820Map) {
        var merged: [Range<UInt64>] = []
        for r in e820.ramFrames.sorted(by: { $0.lowerBound < $1.lowerBound }) where !r.isEmpty {
            if let last = merged.last, r.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, r.upperBound)
            } else {
                merged.append(r)
            }
        }
        ram = merged
    }

    /// Whether every frame of `r` is RAM.
    func isRAM(_ r: Range<UInt64>) -> Bool {
        // The last RAM range starting at or below r's start (binary search).
        var lo = 0, hi = ram.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if ram[mid].lowerBound <= r.lowerBound { lo = mid + 1 } else { hi = mid }
        }
        return lo > 0 && r.upperBound <= ram[lo - 1].upperBound
    }

    /// `r` as the message shows it: `0x100–0x79200`.
    static func text(_ r: Range<UInt64>) -> String { "\(Hex.plain(r.lowerBound))–\(Hex.plain(r.upperBound))" }

    /// The first range (in address order) that is not RAM from MFN 0x100 up, with why.
    func outsideRAM(_ ranges: [NamedFrames]) -> (NamedFrames, String)? {
        for n in ranges {
            if n.frames.lowerBound < 0x100 {
                return (n, "frames \(Self.text(n.frames)) start below 0x100 (the first MiB is never in Xen's heap)")
            }
            if !isRAM(n.frames) {
                return (n, "frames \(Self.text(n.frames)) are not all RAM (E820 RAM ends at \(Hex.plain(ram.last?.upperBound ?? 0)))")
            }
        }
        return nil
    }

    /// The first pair of ranges sharing a frame: (the one starting later, the other).
    static func overlap(_ ranges: [NamedFrames]) -> (NamedFrames, NamedFrames)? {
        let sorted = ranges.sorted { $0.frames.lowerBound < $1.frames.lowerBound }
        var reach: NamedFrames?
        for n in sorted {
            guard let r = reach else { reach = n; continue }
            if n.frames.lowerBound < r.frames.upperBound { return (n, r) }
            if n.frames.upperBound > r.frames.upperBound { reach = n }
        }
        return nil
    }
}
