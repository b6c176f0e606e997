import XenDumps
import XenMemory

/// A real capture of a Xen host: dom0's P2M, the M2P, Xen's console log and dom0's kernel log
/// (any of them may be missing).
public struct RealCapture: Sendable {
    /// Dom0's P2M (xen-mfndump dump-p2m or the `pfn raw_entry` list).
    public let p2m: P2MDumpContents?
    /// The host's M2P (xen-mfndump dump-m2p).
    public let m2p: HostM2P?
    /// Xen's console lines (serial log or `xl dmesg`).
    public let xenLog: [Substring]
    /// Dom0's kernel log.
    public let kernelLog: [Substring]
    /// The swiotlb debugfs values (``SwiotlbDebugfs``), empty when not captured.
    public let debugfs: [(file: String, value: Int)]
    /// The bounce pools the kernel log's `software IO TLB: mapped` lines name.
    public let pools: [SwiotlbPoolLocation]

    /// Creates a capture. A `mapped` line of the kernel log that is malformed
    /// (``SwiotlbPoolLocation/parse(kernelLog:)``) or places a pool beyond the P2M is an error
    /// naming its line.
    public init(
        p2m: P2MDumpContents?, m2p: HostM2P?, xenLog: [Substring], kernelLog: [Substring],
        debugfs: [(file: String, value: Int)] = []
    ) throws(DumpError) {
        self.p2m = p2m; self.m2p = m2p; self.xenLog = xenLog; self.kernelLog = kernelLog; self.debugfs = debugfs
        pools = try SwiotlbPoolLocation.parse(kernelLog: kernelLog)
        if let p2m { for pool in pools { try pool.check(p2mSize: p2m.size) } }
    }
}

/// How one category of a comparison came out.
public struct Agreement: Sendable {
    /// The category.
    public var name: String
    /// Items identical.
    public var identical: Int
    /// Items compared.
    public var total: Int
    /// The first differences, described.
    public var differences: [String]
    /// Creates a category's result.
    public init(name: String, identical: Int, total: Int, differences: [String]) {
        self.name = name; self.identical = identical; self.total = total; self.differences = differences
    }

    /// `name: identical of total (pct%)`.
    public var line: String {
        "\(name): \(identical) of \(total) identical (\(Self.percent(identical, of: total)))"
    }

    /// `100%` only when every item is identical; otherwise the share rounded down to hundredths
    /// (`99.99%` for 1310743 of 1310852), so a difference never hides behind rounding; `-` for
    /// no items.
    public static func percent(_ identical: Int, of total: Int) -> String {
        guard total > 0 else { return "-" }
        if identical >= total { return "100%" }
        let product = identical.multipliedFullWidth(by: 10_000)
        let hundredths = total.dividingFullWidth(product).quotient
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)%"
    }
}

/// A model run set against a real capture.
public enum RealComparison {
    /// Compares `run` with `real`, category by category.
    public static func compare(_ run: RunResult, _ real: RealCapture) -> [Agreement] {
        var out: [Agreement] = []
        if let rp = real.p2m, let mp = run.p2mDump {
            out.append(p2mEntryAgreement(real: rp, model: mp))
            out.append(p2mRunAgreement(real: rp, model: mp))
            // The bounce pool's segments, located by the real kernel's line.
            if let loc = real.pools.first {
                out.append(segmentAgreement(real: loc.segments(in: rp), model: loc.segments(in: mp)))
            }
        }
        if let rm = real.m2p, let mm = run.boot.host?.m2p {
            out.append(m2pAgreement(real: rm, model: mm))
        }
        out.append(logLineAgreement(run, real))
        if !real.debugfs.isEmpty {
            out.append(debugfsAgreement(real: real.debugfs, model: run.debugfs))
        }
        return out
    }

    /// Every P2M entry up to the longer P2M, run by run where both sides hold one run value.
    static func p2mEntryAgreement(real rp: P2MDumpContents, model mp: P2MDumpContents) -> Agreement {
        var same = 0, diffs: [String] = []
        let n = max(rp.size, mp.size)
        var pfn: UInt64 = 0
        while pfn < n {
            let a = rp.entries.run(from: pfn), b = mp.entries.run(from: pfn)
            // Past the end of one P2M the other's runs differ whole: one step per run.
            let step = min(a?.count ?? n - pfn, b?.count ?? n - pfn, n - pfn)
            func word(_ r: Extent<P2MRun>?, _ k: UInt64) -> UInt64? { r.map { $0.value.advanced(by: k).word(at: PFN(pfn + k)).rawValue } }
            func difference(_ k: UInt64) -> String {
                "pfn \(Hex.plain(pfn + k)): real \(word(a, k).map(Hex.plain) ?? "none"), model \(word(b, k).map(Hex.plain) ?? "none")"
            }
            if let a, let b, a.value == b.value {
                same += Int(step)
            } else if a == nil || b == nil {
                for k in 0..<min(step, UInt64(max(0, 10 - diffs.count))) { diffs.append(difference(k)) }
            } else {
                // Compare entry by entry over the shorter run.
                for k in 0..<step {
                    if word(a, k) == word(b, k) { same += 1 } else if diffs.count < 10 { diffs.append(difference(k)) }
                }
            }
            pfn += step
        }
        return Agreement(name: "P2M entries", identical: same, total: Int(n), differences: diffs)
    }

    /// The real P2M's runs found whole in the model's.
    static func p2mRunAgreement(real rp: P2MDumpContents, model mp: P2MDumpContents) -> Agreement {
        let realRuns = rp.entries.extents, modelRuns = Set(mp.entries.extents.map(RunKey.init))
        let missing = realRuns.filter { !modelRuns.contains(RunKey($0)) }
        return Agreement(
            name: "P2M runs", identical: realRuns.count - missing.count, total: realRuns.count,
            differences: missing.prefix(5).map { "real run pfn \(Hex.plain($0.start)) ×\($0.count) → \($0.value.reportText) is not in the model" })
    }

    /// A P2M run as the run comparison matches it: its first pfn, length and value.
    private struct RunKey: Hashable {
        let start: UInt64, count: UInt64, value: P2MRun
        init(_ e: Extent<P2MRun>) { start = e.start; count = e.count; value = e.value }
    }

    /// Every M2P entry that is valid on either side, segment by segment between run edges (the
    /// real M2P's repeated chunks over RAM holes left out).
    static func m2pAgreement(real rm: HostM2P, model mm: HostM2P) -> Agreement {
        let repeated = M2PDump.repeatedChunks(rm)
        var edges = Set<UInt64>()
        for r in repeated { edges.insert(r.lowerBound); edges.insert(r.upperBound) }
        for r in rm.runs.extents + mm.runs.extents { edges.insert(r.start); edges.insert(r.end) }
        let sorted = edges.sorted()
        var same = 0, total = 0, diffs: [String] = []
        for (a, b) in zip(sorted, sorted.dropFirst()) {
            if repeated.contains(where: { $0.contains(a) }) { continue }
            let x = rm.runs.value(at: a), y = mm.runs.value(at: a)
            guard x != nil || y != nil else { continue }
            total += Int(b - a)
            if x == y {
                same += Int(b - a)
            } else if diffs.count < 10 {
                diffs.append(
                    "mfn \(Hex.plain(a)) ×\(b - a): real \(x.map { Hex.plain($0.rawEntry) } ?? "INVALID"), model \(y.map { Hex.plain($0.rawEntry) } ?? "INVALID")"
                )
            }
        }
        return Agreement(name: "M2P entries of domain frames", identical: same, total: total, differences: diffs)
    }

    /// Xen's `Dom0 alloc.:` line, the kernel's Released/Remapped/swiotlb lines and its E820
    /// table, real against model.
    static func logLineAgreement(_ run: RunResult, _ real: RealCapture) -> Agreement {
        let xen = real.xenLog.map(stripPrefix)
        let kernel = real.kernelLog.map(stripPrefix)
        var lines: [(String, String?, String?)] = []
        func firstReal(_ lines: [String], _ needle: String) -> String? { lines.first { $0.contains(needle) } }
        lines.append(("Dom0 alloc.", firstReal(xen, "Dom0 alloc.:"), run.boot.xenLog.first { $0.contains("Dom0 alloc.:") }))
        for key in ["Released ", "Remapped ", SwiotlbKernelText.messagePrefix + "mapped", SwiotlbKernelText.messagePrefix + "area num"] {
            let r = firstReal(kernel, key), m = run.boot.kernelLog.first { $0.contains(key) }
            if r == nil && m == nil { continue }
            lines.append((key.trimmingSpaces, r, m))
        }
        // The real E820 table: the first block of consecutive `Xen: [mem …]` lines.
        let realTable = Array(kernel.drop { !$0.hasPrefix("Xen: [mem ") }.prefix { $0.hasPrefix("Xen: [mem ") })
        let modelTable = run.boot.kernelLog.filter { $0.hasPrefix("Xen: [mem ") }
        var same = 0, diffs: [String] = []
        for (i, l) in lines.enumerated() {
            if let r = l.1, let m = l.2, r.hasSuffix(m) || m.hasSuffix(r) {
                same += 1
            } else if diffs.count < 10 {
                diffs.append("\(lines[i].0): real '\(l.1 ?? "none")', model '\(l.2 ?? "none")'")
            }
        }
        for (i, m) in modelTable.enumerated() {
            if i < realTable.count && realTable[i] == m {
                same += 1
            } else if diffs.count < 10 {
                diffs.append("E820 line \(i + 1): real '\(i < realTable.count ? realTable[i] : "none")', model '\(m)'")
            }
        }
        let lineTotal = lines.count + max(modelTable.count, realTable.count)
        return Agreement(name: "log lines", identical: same, total: lineTotal, differences: diffs)
    }

    /// The agreements as `compare-real --json` writes them (schema 1): per category its name,
    /// the items identical and compared, and the first differences.
    public static func json(scenario: String, _ agreements: [Agreement]) -> JSONValue {
        .object([
            ("schema", .int(1)), ("scenario", .string(scenario)),
            (
                "categories",
                .array(
                    agreements.map { a in
                        .object([
                            ("name", .string(a.name)), ("identical", .int(Int64(a.identical))), ("total", .int(Int64(a.total))),
                            ("first_differences", .array(a.differences.map(JSONValue.string))),
                        ])
                    })
            ),
        ])
    }

    /// The bounce pool's segments, located by the real kernel's line: alike when one P2M run
    /// covers the segment on both sides, from the same entry.
    static func segmentAgreement(real: [SegmentPlacement], model: [SegmentPlacement]) -> Agreement {
        var same = 0, diffs: [String] = []
        for (i, r) in real.enumerated() {
            let m = i < model.count ? model[i] : nil
            if let m, r.placesAlike(m) {
                same += 1
            } else if diffs.count < 5 {
                diffs.append(
                    "segment at pfn \(r.pfn): real \(r.firstEntry?.reportText ?? "none"), model \(m?.firstEntry?.reportText ?? "none")")
            }
        }
        return Agreement(name: "swiotlb segments", identical: same, total: real.count, differences: diffs)
    }

    /// Each real debugfs file against the model's value after the run.
    static func debugfsAgreement(real: [(file: String, value: Int)], model: [(file: String, value: Int)]) -> Agreement {
        var same = 0, diffs: [String] = []
        for r in real {
            let m = model.first { $0.file == r.file }?.value
            if m == r.value {
                same += 1
            } else if diffs.count < 10 {
                diffs.append("\(r.file): real \(r.value), model \(m.map(String.init) ?? "none")")
            }
        }
        return Agreement(name: "debugfs values", identical: same, total: real.count, differences: diffs)
    }

    /// Drops `(XEN) `, `[ timestamp] ` and similar prefixes of console lines.
    static func stripPrefix(_ s: Substring) -> String {
        var t = s
        if t.hasPrefix("(XEN) ") { t = t.dropFirst(6) }
        if t.first == "[", let close = t.firstIndex(of: "]") { t = t[t.index(after: close)...].drop { $0 == " " } }
        return String(t)
    }
}

extension String {
    /// Without trailing spaces.
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
