import XenMemory

extension SwiotlbCommandLine {
    /// What `xenpv swiotlb cmdline` prints of this value as `kernel` read it: `nslabs=` (in MiB,
    /// `default` when not given), the RFC's `nslabs-highmem=`, `areas=`, `force=`, the text the
    /// kernel ignored, the kernel's own set-up lines for `cpus` possible CPUs, then a `note:` for
    /// each number that wrapped.
    public func report(kernel: SwiotlbKernel, cpus: Int) -> [String] {
        var notes: [String] = []
        if wrapped {
            notes.append("a number does not fit (64 bits; 32 for areas) or wraps when rounded up to 128 slots: the kernel keeps the low bits (shown here)")
        }
        var lines = ["nslabs=\(effectiveNslabs) (\(Self.megabytes(effectiveNslabs, &notes)))\(nslabs == 0 ? " default" : "")"]
        if let hi = highNslabs { lines.append("nslabs-highmem=\(hi) (\(Self.megabytes(hi, &notes)))") }
        if let areas { lines.append("areas=\(areas)") }
        lines.append("force=\(force)")
        if !ignored.isEmpty { lines.append("ignored='\(ErrorToken.clipped(ignored))' (the kernel accepts and ignores it)") }
        lines += kernel.model.setUpLines(commandLine: self, cpus: cpus)
        return lines + notes.map { "note: \($0)" }
    }

    /// `nslabs` slots of 2 KiB in MiB (exact: nslabs / 512); when the kernel's byte count
    /// `nslabs << 11` wraps at 64 bits, a note says what it becomes.
    static func megabytes(_ nslabs: UInt64, _ notes: inout [String]) -> String {
        if nslabs >> 53 != 0 {
            notes.append("\(nslabs) slots are \(nslabs >> 9) MiB, beyond 64 bits of bytes: the kernel's nslabs << 11 wraps to \(nslabs << 11) bytes")
        }
        return "\(nslabs >> 9)MB"
    }
}
