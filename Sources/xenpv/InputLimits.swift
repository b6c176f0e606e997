/// How much xenpv reads from one input before refusing it (docs/reliability.md, "What is bounded").
struct InputLimit: Sendable {
    /// The most bytes a whole file may hold.
    let bytes: Int
    /// What the file was meant to be, for the refusal: `<file>: larger than 4 MiB: not a scenario`.
    let kind: String
    /// The longest line accepted (bytes before the newline), or nil where lines are not checked.
    let lineBytes: Int?

    /// The longest line of any line-oriented input (traces, dumps, logs): 1 MiB.
    static let lineBytes = 1 << 20

    /// A scenario (YAML or JSON): 4 MiB. Real ones are a few KiB.
    static let scenario = InputLimit(bytes: 4 << 20, kind: "a scenario", lineBytes: nil)
    /// A trace named by a scenario's `trace` stream (held in memory): 64 MiB. Longer traces are
    /// for `xenpv swiotlb replay`, which streams.
    static let scenarioTrace = InputLimit(bytes: 64 << 20, kind: "a scenario's trace", lineBytes: lineBytes)
    /// A Xen or kernel log (serial log, `xl dmesg`, dmesg, `--dmesg`): 64 MiB.
    static let log = InputLimit(bytes: 64 << 20, kind: "a log", lineBytes: lineBytes)
    /// A sysfs attribute (`dma_mask_bits`): 4 KiB, a page, the most sysfs gives.
    static let sysfsValue = InputLimit(bytes: 4096, kind: "a sysfs value", lineBytes: 4096)
    /// A swiotlb debugfs capture: 1 MiB (a real one is a few hundred bytes).
    static let debugfs = InputLimit(bytes: 1 << 20, kind: "a swiotlb debugfs capture", lineBytes: lineBytes)

    /// `bytes` as it is printed: `4 MiB`.
    var shownSize: String { InputLimit.shown(bytes) }

    /// A size in whole MiB or KiB.
    static func shown(_ bytes: Int) -> String {
        bytes % (1 << 20) == 0 ? "\(bytes >> 20) MiB" : "\(bytes >> 10) KiB"
    }
}
