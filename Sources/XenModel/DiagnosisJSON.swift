import Diagnosis

/// A diagnosis as JSON (schema 1, docs/diagnose.md): `verdicts`, `recommendation`, `notes`.
public enum DiagnosisJSON {
    /// The `verdicts`, `recommendation` and `notes` members (for a report that has others).
    public static func members(_ d: Diagnosis) -> [(String, JSONValue)] {
        let verdicts: [JSONValue] = d.verdicts.map { v in
            .object(
                [
                    ("kind", .string(v.kind.rawValue)), ("device", v.device.map(JSONValue.string) ?? .null),
                    ("evidence", .array(v.evidence.map(JSONValue.string))), ("explanation", .string(v.explanation)),
                ]
                    + v.figures.map { ($0.0, .int(Int64($0.1))) })
        }
        let recommendation: JSONValue =
            d.recommendation.map { r in
                .object([
                    ("cmdline", .string(r.cmdline)), ("slots", .uint(r.slots)), ("bytes", .uint(r.bytes)),
                    (
                        "pools",
                        .array(
                            r.pools.map { p in
                                .object([("name", p.name.map(JSONValue.string) ?? .null), ("slots", .uint(p.slots)), ("bytes", .uint(p.bytes))])
                            })
                    ),
                    ("reason", .string(r.reason)),
                ])
            } ?? .null
        return [("verdicts", .array(verdicts)), ("recommendation", recommendation), ("notes", .array(d.notes.map(JSONValue.string)))]
    }

    /// The whole `diagnose --json` document.
    public static func render(_ d: Diagnosis, kernelSource: String) -> String {
        let top: [(String, JSONValue)] = [
            ("schema", .int(JSONReport.schema)), ("kernel", .string(d.kernel.description)),
            ("kernel_source", .string(kernelSource)), ("healthy", .bool(!d.hasProblem)),
        ]
        return JSONValue.object(top + members(d)).rendered() + "\n"
    }
}
