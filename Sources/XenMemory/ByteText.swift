/// Byte counts as people read them: `0`, `512 KiB`, `1.5 MiB`, `1.25 GiB`, `4 GiB`.
public enum ByteText {
    static let units: [(shift: UInt64, name: String)] = [(50, "PiB"), (40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")]

    /// `bytes` in the largest binary unit it reaches where it is a whole number or has at most
    /// two exact decimals (`1.5 MiB`, `1.25 GiB`, but `1537 KiB`); otherwise in plain bytes
    /// (`100 B`). Zero is `0`.
    public static func text(_ bytes: UInt64) -> String {
        if bytes == 0 { return "0" }
        for u in units where bytes >> u.shift > 0 {
            let unit: UInt64 = 1 << u.shift
            let whole = bytes >> u.shift, rest = bytes & (unit - 1)
            if rest == 0 { return "\(whole) \(u.name)" }
            let (scaled, overflow) = rest.multipliedReportingOverflow(by: 100)
            if !overflow, scaled & (unit - 1) == 0 {
                let hundredths = scaled >> u.shift
                let digits = hundredths % 10 == 0 ? "\(hundredths / 10)" : (hundredths < 10 ? "0\(hundredths)" : "\(hundredths)")
                return "\(whole).\(digits) \(u.name)"
            }
        }
        return "\(bytes) B"
    }
}
