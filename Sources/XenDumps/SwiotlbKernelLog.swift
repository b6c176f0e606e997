import XenMemory

/// What a kernel log says about swiotlb, read line by line from the kernel's own message
/// formats: the `Linux version` and command line, the pools mapped, the set-up lines (`area num
/// %d.`, `SWIOTLB bounce buffer size roundup to %luMB`, `… adjusted to %luMB`), allocation
/// failures, memory encryption, and every `swiotlb buffer is full (sz: %zd bytes), total %lu
/// (slots), used %lu (slots)` with the device `dev_warn` names first.
///
/// Lines may carry any prefix a log reader adds (`[    1.913842] `, `kernel: `, a syslog
/// stamp); /dev/kmsg records are read without theirs.
public struct SwiotlbKernelLog: Sendable {
    /// A line of the log that matters: its 1-based number and its text (clipped to 200 bytes).
    public struct Line: Sendable, Hashable {
        /// 1-based line number.
        public var number: Int
        /// The line, at most 200 characters of it.
        public var text: String
        /// Creates a line.
        public init(number: Int, text: String) { self.number = number; self.text = text }
    }

    /// One `swiotlb buffer is full` message.
    public struct FullMessage: Sendable, Hashable {
        /// The device `dev_warn` names (`usb 1-1`, `nvme 0000:00:04.0`); nil when the line has none.
        public var device: String?
        /// The RFC's pool name before the message (`Low Mem`, `High Mem`); nil for one pool.
        public var pool: String?
        /// `sz`: the bytes the map asked for.
        public var size: Int
        /// `total`: the pool's slots.
        public var total: Int
        /// `used`: the slots in use when the map failed.
        public var used: Int
        /// Where it was.
        public var line: Line
    }

    /// A pool the kernel mapped: its `mapped [mem …]` line read by ``SwiotlbPoolLocation``, and
    /// the RFC's name before `mapped` (`Low Mem`, `High Mem`), nil for one pool.
    public struct MappedPool: Sendable, Hashable {
        /// Where and how big.
        public var location: SwiotlbPoolLocation
        /// The RFC's pool name, nil for one pool.
        public var name: String?
        /// The line.
        public var line: Line
    }

    /// The release from `Linux version <release> …` (`6.1.0-56-amd64`).
    public var linuxVersion: (release: String, line: Line)?
    /// The kernel's command line (`Kernel command line: …`, else x86's early `Command line: …`).
    public var commandLine: (text: String, line: Line)?
    /// The pools mapped, in log order.
    public var pools: [MappedPool] = []
    /// `area num %d.` (Linux 6.0 and later): `default_nareas`, the power of two of the
    /// `swiotlb=` area count when the command line gives one, else of the possible CPUs.
    public var areas: (count: Int, line: Line)?
    /// `num_possible_cpus()`, where the log says it: x86's `smpboot: Allowing %d CPUs, %d
    /// hotplug CPUs` (6.1, arch/x86/kernel/smpboot.c), `CPU topo: Allowing %u present CPUs plus
    /// %u hotplug CPUs` (6.18, arch/x86/kernel/cpu/topology.c: the sum), else
    /// `setup_percpu: NR_CPUS:%d nr_cpumask_bits:%d nr_cpu_ids:%u nr_node_ids:%u`'s `nr_cpu_ids`
    /// (both, arch/x86/kernel/setup_percpu.c). An `Allowing` line wins over `nr_cpu_ids`.
    public var possibleCPUs: (count: Int, line: Line)?
    /// `SWIOTLB bounce buffer size roundup to %luMB` (the areas raised the pool).
    public var roundedUpMB: (mb: Int, line: Line)?
    /// `SWIOTLB bounce buffer size adjusted to %luMB` (SEV/TDX's 6 % of memory).
    public var adjustedMB: (mb: Int, line: Line)?
    /// `Memory Encryption Features active: …` (SEV, SEV-ES, SEV-SNP, TDX).
    public var memoryEncryption: Line?
    /// The second figure of `Memory: <avail>K/<total>K available`, in KiB.
    public var totalMemoryKiB: (kib: Int, line: Line)?
    /// The set-up's failures: `Failed to allocate …`, `Failed to remap …`, `only able to allocate …`.
    public var allocationFailures: [Line] = []
    /// Lines saying there is no pool: `No low mem`, `Can not allocate SWIOTLB buffer earlier …`.
    public var noPool: [Line] = []
    /// The device of the first `Can not allocate SWIOTLB buffer earlier …` (a `dev_warn`).
    public var noPoolDevice: String?
    /// Every `swiotlb buffer is full` message.
    public var fullMessages: [FullMessage] = []

    /// The full message's fixed text.
    static let fullText = "swiotlb buffer is full (sz: "

    /// Reads `lines`. A `mapped [mem …]` line or a `buffer is full` line whose figures do not
    /// parse is an error naming its line.
    public init(lines: [Substring]) throws(DumpError) {
        let located = try SwiotlbPoolLocation.parse(kernelLog: lines)
        var next = 0
        for (index, raw) in lines.enumerated() {
            let number = index + 1
            let line = Line(number: number, text: String(raw.prefix(200)))
            if linuxVersion == nil, let r = raw.firstRange(of: "Linux version ") {
                let release = raw[r.upperBound...].prefix { $0 != " " }
                if !release.isEmpty { linuxVersion = (String(release.prefix(64)), line) }
            }
            if let r = raw.firstRange(of: "Kernel command line: ") {
                commandLine = (String(raw[r.upperBound...].prefix(4096)), line)
            } else if commandLine == nil, let r = raw.firstRange(of: "Command line: ") {
                commandLine = (String(raw[r.upperBound...].prefix(4096)), line)
            }
            if next < located.count, located[next].line == number {
                var name: String?
                if let r = raw.firstRange(of: SwiotlbKernelText.messagePrefix), let m = raw[r.upperBound...].firstRange(of: SwiotlbKernelText.mappedMemory) {
                    let word = raw[r.upperBound..<m.lowerBound].trimmed(" ")
                    name = word.isEmpty ? nil : word
                }
                pools.append(MappedPool(location: located[next], name: name, line: line))
                next += 1
            }
            if let n = Self.number(after: SwiotlbKernelText.messagePrefix + SwiotlbKernelText.areaCount, in: raw) { areas = (n, line) }
            if let n = Self.number(after: "SWIOTLB bounce buffer size roundup to ", in: raw) { roundedUpMB = (n, line) }
            if let n = Self.possibleCPUs(in: raw), possibleCPUs == nil || !raw.contains("nr_cpu_ids:") { possibleCPUs = (n, line) }
            if let n = Self.number(after: "SWIOTLB bounce buffer size adjusted to ", in: raw) { adjustedMB = (n, line) }
            if raw.contains("Memory Encryption Features active:") { memoryEncryption = line }
            if let r = raw.firstRange(of: "Memory: "), let slash = raw[r.upperBound...].firstIndex(of: "/"),
                let n = Self.number(after: "/", in: raw[slash...]), raw[slash...].dropFirst().drop(while: \.isNumber).hasPrefix("K available")
            {
                totalMemoryKiB = (n, line)
            }
            if raw.contains(SwiotlbKernelText.messagePrefix) || raw.contains("swiotlb"),
                raw.contains("Failed to allocate") || raw.contains("Failed to remap") || raw.contains("only able to allocate")
            {
                allocationFailures.append(line)
            }
            if raw.contains(SwiotlbKernelText.messagePrefix + "No low mem") {
                noPool.append(line)
            } else if let r = raw.firstRange(of: "Can not allocate SWIOTLB buffer earlier") {
                noPool.append(line)
                if noPoolDevice == nil { noPoolDevice = Self.device(before: raw[..<r.lowerBound]).device }
            }
            if let r = raw.firstRange(of: Self.fullText) {
                fullMessages.append(try Self.full(raw, at: r, line: line))
            }
        }
    }

    /// The decimal right after `prefix` in `s` (at most 18 digits), or nil.
    static func number(after prefix: String, in s: Substring) -> Int? {
        guard let r = s.firstRange(of: prefix) else { return nil }
        let digits = s[r.upperBound...].prefix { $0.isASCII && $0.isNumber }
        guard (1...18).contains(digits.count) else { return nil }
        return Int(digits)
    }

    /// The possible CPUs an `Allowing … CPUs` or `nr_cpu_ids:` line gives (``possibleCPUs``).
    static func possibleCPUs(in raw: Substring) -> Int? {
        if let n = number(after: "smpboot: Allowing ", in: raw), raw.contains(" CPUs, ") { return n }
        if let present = number(after: "CPU topo: Allowing ", in: raw), let r = raw.firstRange(of: " present CPUs plus "),
            let hotplug = number(after: " present CPUs plus ", in: raw[r.lowerBound...])
        {
            return present + hotplug
        }
        guard raw.contains("setup_percpu: NR_CPUS:") else { return nil }
        return number(after: " nr_cpu_ids:", in: raw)
    }

    /// Reads one `… swiotlb buffer is full (sz: %zd bytes), total %lu (slots), used %lu (slots)`.
    static func full(_ raw: Substring, at r: Range<Substring.Index>, line: Line) throws(DumpError) -> FullMessage {
        var rest = raw[r.upperBound...]
        func take(_ literal: String?) -> Int? {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard (1...18).contains(digits.count), let v = Int(digits) else { return nil }
            rest = rest[digits.endIndex...]
            if let literal {
                guard rest.hasPrefix(literal) else { return nil }
                rest = rest.dropFirst(literal.count)
            }
            return v
        }
        guard let size = take(" bytes), total "), let total = take(" (slots), used "), let used = take(" (slots)") else {
            throw DumpError(
                line: line.number,
                message:
                    "swiotlb buffer is full: expected '(sz: <bytes> bytes), total <slots> (slots), used <slots> (slots)', got '\(ErrorToken.clipped(raw[r.lowerBound...]))'"
            )
        }
        let (device, pool) = device(before: raw[..<r.lowerBound])
        return FullMessage(device: device, pool: pool, size: size, total: total, used: used, line: line)
    }

    /// The device of a `dev_warn` line from what precedes its message: "<driver> <device>: ",
    /// then any text (the RFC's pool name), after a log reader's prefix (a `[ seconds]` stamp,
    /// `… kernel: `).
    static func device(before head: Substring) -> (device: String?, rest: String?) {
        var head = head
        var rest: String?
        if let colon = head.lastRange(of: ": ") {
            let after = head[colon.upperBound...].trimmed(" ")
            rest = after.isEmpty ? nil : after
            head = head[..<colon.lowerBound]
        } else {
            let after = head.trimmed(" ")
            rest = after.isEmpty ? nil : after
            head = head[head.endIndex...]
        }
        head = head.drop { $0 == " " }
        if let close = head.firstIndex(of: "]"), head.first == "[" { head = head[head.index(after: close)...] }
        if let k = head.lastRange(of: "kernel: ") { head = head[k.upperBound...] }
        let device = head.trimmed(" ")
        return (device.isEmpty ? nil : String(device.prefix(64)), rest)
    }
}

extension Substring {
    /// The text without `character` at either end.
    fileprivate func trimmed(_ character: Character) -> String {
        String(drop { $0 == character }.reversed().drop { $0 == character }.reversed())
    }

    /// The last occurrence of `needle`.
    fileprivate func lastRange(of needle: String) -> Range<Index>? {
        var found: Range<Index>?
        var rest = self[...]
        while let r = rest.firstRange(of: needle) { found = r; rest = rest[r.upperBound...] }
        return found
    }
}
