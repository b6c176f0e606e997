/// The verdicts as the text reports print them (`diagnose`, and the end of `simulate`, `size`
/// and `compare`).
public enum DiagnosisText {
    /// `<kind>[: <device>]: <explanation>`, its evidence indented, then the recommendation and
    /// the notes.
    public static func render(_ d: Diagnosis) -> [String] {
        var out: [String] = []
        for v in d.verdicts {
            out.append("\(v.kind.rawValue)\(v.device.map { ": \($0)" } ?? ""): \(v.explanation)")
            out += v.evidence.map { "  evidence: \($0)" }
        }
        if let r = d.recommendation {
            out.append("recommendation (\(d.kernel)): \(r.cmdline)")
            for p in r.pools {
                out.append("  \(p.name.map { "\($0): " } ?? "")\(p.slots) slots = \(p.bytes) bytes (\(SizePolicy.megabytes(p.slots)) MB)")
            }
            out.append("  why: \(r.reason)")
        }
        out += d.notes.map { "note: \($0)" }
        return out
    }
}
