import Swiotlb
import XenDumps
import XenMemory

/// Evidence from a system's own records: its kernel log, its swiotlb debugfs values and its
/// command line (files, or the running system).
public enum SystemEvidence {
    /// A kernel log and the name it is shown under (`dom0-dmesg.txt`, `/dev/kmsg`).
    public typealias Log = (log: SwiotlbKernelLog, name: String)
    /// debugfs values (`io_tlb_nslabs`, …) and where they were read.
    public typealias Debugfs = (values: [(file: String, value: Int)], name: String)

    /// The kernel: `override` (`--kernel`), else the log's `Linux version`; nil when neither
    /// names one.
    public static func kernel(override: DiagnosedKernel?, log: Log?) -> (DiagnosedKernel, String)? {
        if let override { return (override, "--kernel \(override)") }
        guard let l = log, let v = l.log.linuxVersion, let k = DiagnosedKernel(v.release) else { return nil }
        return (k, "\(l.name):\(v.line.number): Linux version \(v.release)")
    }

    /// Adds what `log`, `debugfs` and `cmdline` show to `e`. The log's pools come first; debugfs
    /// gives their use and high-water mark (or the pools, without a log); the command line is
    /// the log's own `Kernel command line` unless `cmdline` gives one.
    public static func add(log: Log?, debugfs: Debugfs?, cmdline: (text: String, source: String)?, to e: inout Evidence) {
        if let (l, name) = log {
            addSetup(l, name: name, to: &e)
            func cite(_ line: SwiotlbKernelLog.Line) -> String { Self.cite(line, in: name) }
            if let c = l.commandLine { e.commandLine = (c.text, "\(name):\(c.line.number)") }
            for p in l.pools {
                let slots = Int(clamping: p.location.nslabs)
                e.pools.append(
                    Evidence.Pool(name: p.name, nslabs: slots, areas: min(e.defaultAreas ?? e.possibleCPUs ?? 1, max(slots / 128, 1)), source: cite(p.line)))
            }
            e.noPool = l.noPool.map(cite)
            e.noPoolDevice = l.noPoolDevice
            for m in l.fullMessages {
                let pool = m.pool == "High Mem" ? 1 : 0
                e.failures.append(
                    Evidence.Failure(
                        device: m.device ?? "(unnamed)", size: m.size, neededSlots: (m.size + 2047) >> 11,
                        pool: pool, used: m.used, total: m.total, source: cite(m.line)))
            }
        }
        if let cmdline { e.commandLine = cmdline }
        if let (values, name) = debugfs { addDebugfs(values, name: name, to: &e) }
    }

    /// The set-up lines of `log` (called `name`): the possible CPUs (6.x's default areas: the
    /// log's `Allowing … CPUs` or `nr_cpu_ids:` line, else `area num` when the log's `swiotlb=`
    /// gives no area count — with one, `area num` is that count, not the CPUs), round-ups,
    /// SEV/TDX's adjustment and memory, allocation failures.
    public static func addSetup(_ l: SwiotlbKernelLog, name: String, to e: inout Evidence) {
        func cite(_ line: SwiotlbKernelLog.Line) -> String { Self.cite(line, in: name) }
        e.possibleCPUs = e.kernel.hasAreas ? l.possibleCPUs?.count ?? (givenAreas(l, e) == nil ? l.areas?.count : nil) : nil
        e.defaultAreas = e.kernel.hasAreas ? l.areas?.count : nil
        e.setupLines = [l.areas?.line, l.roundedUpMB?.line, l.adjustedMB?.line].compactMap { $0 }.map(cite) + l.allocationFailures.map(cite)
        e.allocationFailed = !l.allocationFailures.isEmpty
        e.memoryEncryption = l.memoryEncryption.map(cite)
        e.totalMemoryBytes = l.totalMemoryKiB.map { UInt64($0.kib) << 10 }
    }

    /// The area count the log's own `swiotlb=` gives, read as its kernel reads it.
    static func givenAreas(_ l: SwiotlbKernelLog, _ e: Evidence) -> UInt64? {
        l.commandLine.flatMap { CommandLineCheck.swiotlbValue(in: $0.text) }.flatMap { SwiotlbCommandLine(parsing: $0, kernel: e.kernel.cmdlineRules).areas }
    }

    /// `<name>:<line>: <text>` without the text's leading spaces.
    static func cite(_ line: SwiotlbKernelLog.Line, in name: String) -> String { "\(name):\(line.number): \(line.text.drop { $0 == " " })" }

    /// debugfs: `io_tlb_nslabs`, `io_tlb_used`, `io_tlb_used_hiwater` (6.4+), and the RFC's
    /// `-highmem` pair.
    static func addDebugfs(_ values: [(file: String, value: Int)], name: String, to e: inout Evidence) {
        func value(_ file: String) -> Int? { values.last { $0.file == file }?.value }
        for (i, suffix) in ["", SwiotlbKernelText.highPoolSuffix].enumerated() {
            let nslabsFile = SwiotlbKernelText.nslabsFile + suffix, usedFile = SwiotlbKernelText.usedFile + suffix
            guard let nslabs = value(nslabsFile) else { continue }
            let hw = suffix.isEmpty ? value(SwiotlbKernelText.highWaterFile) : nil
            let used = value(usedFile)
            let figures =
                "\(nslabsFile) \(nslabs)" + (used.map { ", \(usedFile) \($0)" } ?? "") + (hw.map { ", \(SwiotlbKernelText.highWaterFile) \($0)" } ?? "")
            if i < e.pools.count {
                e.pools[i].highWater = hw
                e.pools[i].used = used
                e.pools[i].source += "; \(name): \(figures)"
            } else if i == e.pools.count {
                e.pools.append(
                    Evidence.Pool(
                        name: suffix.isEmpty ? (e.kernel.hasHighPool ? "Low Mem" : nil) : "High Mem", nslabs: nslabs,
                        areas: e.defaultAreas ?? e.possibleCPUs ?? 1, highWater: hw, used: used, source: "\(name): \(figures)"))
            }
        }
    }
}
