import XenMemory

/// The swiotlb debugfs values of a capture, as `grep -H . /sys/kernel/debug/swiotlb/*` prints
/// them: `/sys/kernel/debug/swiotlb/<file>: <decimal>` (the RFC's second pool adds
/// `io_tlb_nslabs-highmem` and `io_tlb_used-highmem`). Other lines of a capture (an `ls`
/// listing, `rc=0`) are not values and are skipped.
public enum SwiotlbDebugfs {
    /// The values in file order; a value line whose number does not parse is an error naming
    /// its line and file.
    public static func read(lines: [Substring]) throws(DumpError) -> [(file: String, value: Int)] {
        var out: [(file: String, value: Int)] = []
        for (i, line) in lines.enumerated() {
            guard line.hasPrefix(SwiotlbKernelText.debugfsFolder), let colon = line.firstIndex(of: ":") else { continue }
            let file = line[line.index(line.startIndex, offsetBy: SwiotlbKernelText.debugfsFolder.count)..<colon]
            guard !file.isEmpty, !file.contains("/") else { continue }
            let text = line[line.index(after: colon)...].drop { $0 == " " }
            guard let value = Int(text), value >= 0 else {
                throw DumpError(line: i + 1, message: "\(file): expected a decimal count, got '\(ErrorToken.clipped(text))'")
            }
            out.append((String(file), value))
        }
        return out
    }
}
