import XenMemory

/// What Xen's boot log and dom0's kernel log say about a host, for writing a scenario of it:
/// each value as the log prints it, nil when the log does not have it.
public struct HostLogEvidence: Sendable, Equatable {
    /// The host E820 (`Xen-e820 RAM map:` and the ` [start, end] (type)` lines after it).
    public var e820: [E820Entry<MachineAddress>] = []
    /// Xen's version (`Xen version 4.17.7 (…)`).
    public var xenVersion: String?
    /// The distribution's package version in the banner's parentheses (`Debian 4.17.7+13-…`).
    public var xenPackage: String?
    /// Whether the banner says `debug=y`.
    public var xenDebug = false
    /// `dom0_mem=` from Xen's `Command line:`.
    public var dom0Mem: String?
    /// The initrd's frames (` Init. ramdisk: <start>-><end>`, the end rounded up to a page).
    public var initrd: Range<MFN>?
    /// `v_end - v_start` (` TOTAL: <start>-><end>`).
    public var initialMapping: UInt64?
    /// Dom0's vCPUs (`Dom0 has maximum N VCPUs`).
    public var dom0VCPUs: Int?
    /// The dom0 kernel's version (`Linux version 6.1.0-56-amd64 … Debian 6.1.192-2 …`: `6.1.192`,
    /// else the release's numbers, `6.1.0`).
    public var kernelVersion: String?
    /// The dom0 kernel's command line (`Command line: …`).
    public var kernelCommandLine: String?
    /// The end of the kernel's first bounce pool (`software IO TLB: mapped [mem a-b]`: `b`).
    public var swiotlbEnd: PhysicalAddress?
    /// The kernel's possible CPUs (`smpboot: Allowing N CPUs`).
    public var kernelCPUs: Int?
    /// The initrd's pfns in dom0 (`RAMDISK: [mem a-b]`, `b` inclusive).
    public var ramdiskPfns: Range<PFN>?

    /// A live dom0's evidence: the hypervisor's own figures (`XENMEM_machine_memory_map`, the
    /// version, build id and command line `xc_version` gives), dom0's kernel log, and dom0's
    /// P2M, where the initrd (`RAMDISK: [mem …]`, given in place right after the initial block)
    /// shows its frames and the initial block's size. Throws what the kernel log lacks or has
    /// malformed, as ``init(xenLog:kernelLog:)`` does.
    public init(
        machineMemoryMap: HostE820, xenVersion: String, buildID: String, xenCommandLine: String,
        kernelLog: [Substring], p2m: ExtentMap<P2MRun>
    ) throws(HostLogError) {
        try self.init(xenLog: [], kernelLog: kernelLog)
        e820 = machineMemoryMap.entries
        self.xenVersion = xenVersion
        xenPackage = XenBuild.withBuildID(buildID)?.name
        dom0Mem = xenCommandLine.split(separator: " ").last { $0.hasPrefix("dom0_mem=") }.map { String($0.dropFirst(9)) }
        dom0VCPUs = kernelCPUs
        if let pfns = ramdiskPfns, !pfns.isEmpty, let run = p2m.run(from: pfns.lowerBound.rawValue), case .machine(let first) = run.value,
            run.count >= pfns.span
        {
            initrd = first..<first.advanced(by: pfns.span)
            initialMapping = pfns.lowerBound.address.rawValue
        }
    }

    /// Reads both logs. A line this reader relies on that is malformed is an error naming the
    /// log (`xen` or `kernel`) and its 1-based line.
    public init(xenLog: [Substring], kernelLog: [Substring]) throws(HostLogError) {
        try readXenLog(xenLog)
        readKernelLog(kernelLog)
        do {
            if let pool = try SwiotlbPoolLocation.parse(kernelLog: kernelLog).first { swiotlbEnd = pool.start.advanced(by: pool.pages << Page.shift) }
        } catch {
            throw HostLogError(log: .kernel, line: error.line, message: error.message)
        }
    }

    /// Xen's boot log: the E820, the banner, `dom0_mem=`, the initrd, the initial mapping and
    /// dom0's vCPUs.
    private mutating func readXenLog(_ xenLog: [Substring]) throws(HostLogError) {
        var inE820 = false
        for (i, raw) in xenLog.enumerated() {
            let line = Self.stripped(raw)
            let body = line.drop { $0 == " " }
            func fail(_ why: String) -> HostLogError { HostLogError(log: .xen, line: i + 1, message: why) }
            if body.hasPrefix("Xen-e820 RAM map:") { inE820 = true; e820 = []; continue }
            if inE820 {
                if body.hasPrefix("[") {
                    guard let entry = Self.e820Entry(line) else { throw fail("expected ' [<start>, <end>] (<type>)', got '\(ErrorToken.clipped(line))'") }
                    e820.append(entry)
                    continue
                }
                inE820 = false
            }
            if xenVersion == nil, let r = line.firstRange(of: "Xen version ") {
                let rest = line[r.upperBound...]
                xenVersion = rest.split(separator: " ").first.map(String.init)
                if let open = rest.firstIndex(of: "("), let close = rest[open...].firstIndex(of: ")") {
                    let inside = rest[rest.index(after: open)..<close].split(separator: " ")
                    if inside.count == 2 { xenPackage = String(inside[1]) }
                }
                xenDebug = rest.contains("debug=y")
            } else if body.hasPrefix("Command line:") {
                dom0Mem = line.split(separator: " ").last { $0.hasPrefix("dom0_mem=") }.map { String($0.dropFirst(9)) }
            } else if let r = line.firstRange(of: "Init. ramdisk: ") {
                guard let (s, e) = Self.arrow(line[r.upperBound...]), s < e, s & 0xfff == 0, e <= PhysicalLimits.bytes else {
                    throw fail("Init. ramdisk: expected '<start>-><end>' in hex, page-aligned start, got '\(ErrorToken.clipped(line))'")
                }
                initrd = MFN(s >> Page.shift)..<MFN((e + Page.offsetMask) >> Page.shift)
            } else if let r = line.firstRange(of: "TOTAL: ") {
                guard let (s, e) = Self.arrow(line[r.upperBound...]), s < e else {
                    throw fail("TOTAL: expected '<start>-><end>' in hex, got '\(ErrorToken.clipped(line))'")
                }
                initialMapping = e - s
            } else if let r = line.firstRange(of: "Dom0 has maximum "), let n = Int(line[r.upperBound...].prefix { $0.isNumber }) {
                dom0VCPUs = n
            }
        }
    }

    /// Dom0's kernel log: the kernel's version, command line, CPUs and initrd pfns.
    private mutating func readKernelLog(_ kernelLog: [Substring]) {
        for raw in kernelLog {
            let line = Self.stripped(raw).drop { $0 == " " }
            if kernelVersion == nil, let r = line.firstRange(of: "Linux version ") {
                let rest = line[r.upperBound...]
                let release = rest.split(separator: " ").first.map { $0.prefix { $0.isNumber || $0 == "." } }
                // Debian prints the upstream version after its last "Debian ": `… Debian 6.1.192-2 (date)`.
                if let d = rest.ranges(of: "Debian ").last, let v = rest[d.upperBound...].split(separator: " ").first?.split(separator: "-").first,
                    v.split(separator: ".").count == 3, v.allSatisfy({ $0.isNumber || $0 == "." })
                {
                    kernelVersion = String(v)
                } else if let release, !release.isEmpty {
                    kernelVersion = String(release)
                }
            } else if kernelCommandLine == nil, line.hasPrefix("Command line: ") {
                kernelCommandLine = String(line.dropFirst(14)).trimmingTrailingSpaces
            } else if let r = line.firstRange(of: "smpboot: Allowing "), let n = Int(line[r.upperBound...].prefix { $0.isNumber }) {
                kernelCPUs = n
            } else if ramdiskPfns == nil, line.hasPrefix("RAMDISK: [mem "), let close = line.firstIndex(of: "]") {
                let parts = line[line.index(line.startIndex, offsetBy: 14)..<close].split(separator: "-")
                if parts.count == 2, let s = Self.hex(parts[0]), let e = Self.hex(parts[1]), s <= e, e < PhysicalLimits.bytes {
                    ramdiskPfns = PFN(s >> Page.shift)..<PFN((e >> Page.shift) + 1)
                }
            }
        }
    }

    /// The line without `(XEN) ` and a `[timestamp]` prefix (the space after it kept, as Xen's
    /// indented lines start with one).
    static func stripped(_ s: Substring) -> Substring {
        var t = s
        if t.hasPrefix("(XEN) ") { t = t.dropFirst(6) }
        // A timestamp has no comma; an E820 line's ` [start, end]` has.
        if t.first == "[", let close = t.firstIndex(of: "]"), !t[..<close].contains(",") { t = t[t.index(after: close)...] }
        return t
    }

    /// ` [0000000000100000, 000000007ffdcfff] (usable)`.
    static func e820Entry(_ line: Substring) -> E820Entry<MachineAddress>? {
        let parts = line.split(whereSeparator: { "[], ()".contains($0) })
        guard parts.count == 3, let s = hex(parts[0]), let e = hex(parts[1]), e >= s, e < PhysicalLimits.bytes else { return nil }
        let type: E820Type
        switch parts[2] {
        case "usable": type = .ram
        case "reserved": type = .reserved
        case "ACPI": type = .acpi
        case "NVS": type = .nvs
        case "unusable": type = .unusable
        default: return nil
        }
        return E820Entry(address: MachineAddress(s), size: e - s + 1, type: type)
    }

    /// `0000000070000000->0000000078000000` (either side may be followed by text).
    static func arrow(_ s: Substring) -> (UInt64, UInt64)? {
        guard let r = s.firstRange(of: "->") else { return nil }
        let left = s[..<r.lowerBound].split(separator: " ").last ?? ""
        let right = s[r.upperBound...].split(separator: " ").first ?? ""
        guard let a = hex(left), let b = hex(right) else { return nil }
        return (a, b)
    }

    /// 1–16 hex digits, with or without `0x` (``Hex/value(prefixOptional:)``).
    static func hex(_ s: Substring) -> UInt64? { Hex.value(prefixOptional: s) }
}

/// A log line ``HostLogEvidence`` cannot read.
public struct HostLogError: Error, Sendable, Equatable {
    /// Which log.
    public enum Log: String, Sendable { case xen, kernel }
    /// The log.
    public var log: Log
    /// 1-based line.
    public var line: Int
    /// What is wrong.
    public var message: String
}

extension String {
    /// Without trailing spaces.
    var trimmingTrailingSpaces: String {
        var s = Substring(self)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
