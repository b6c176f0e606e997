import Swiotlb
import XenMemory

/// Turns the text of the kernel's own DMA tracepoints (tracefs `trace` or `trace-cmd report`)
/// into a v2 trace: Linux 6.12+'s `dma:dma_map_page`/`dma_unmap_page` and
/// `dma:dma_map_sg`/`dma_unmap_sg`, and `swiotlb:swiotlb_bounced` (any version).
///
/// What the tracepoints cannot tell, and the trace therefore does not have: the order in which
/// the allocator took its area locks (events are in timestamp order), the device's
/// `min_align_mask` and segment boundary, the used counts, and the slot search's failures (a map
/// that failed has no `dma_map_page` event). A map is a bounce when its DMA address lies in the
/// pool given; it carries that address as `kernel_tlb=`. `swiotlb_bounced` gives the original
/// address only: it makes maps with neither a result nor an unmap, and no direction
/// (`bidirectional` is written).
public struct TracepointImport: Sendable {
    /// The pool the DMA addresses are matched against (the kernel's `mapped [mem …]` line).
    public struct Pool: Sendable, Equatable {
        /// First byte, slots, areas.
        public var start: PhysicalAddress, nslabs: UInt64, areas: UInt64
        /// A pool.
        public init(start: PhysicalAddress, nslabs: UInt64, areas: UInt64 = 1) { self.start = start; self.nslabs = nslabs; self.areas = areas }
        /// Whether a native guest's DMA address (the bounce buffer's physical address,
        /// `phys_to_dma_unencrypted`) lies in the pool.
        func contains(_ a: DMAAddress) -> Bool {
            let p = a.directPhysical
            return p >= start && p.rawValue - start.rawValue < nslabs << 11
        }
    }

    /// What was read.
    public struct Counts: Sendable, Equatable {
        /// Maps written (bounced).
        public var maps = 0
        /// Unmaps written.
        public var unmaps = 0
        /// Mappings whose DMA address is outside the pool (not bounced; left out).
        public var direct = 0
        /// Unmaps of no map seen (mapped before the trace, or not bounced).
        public var unmatched = 0
        /// Maps from `swiotlb_bounced` (no result, no unmap).
        public var bouncedOnly = 0
        /// Lines of other events (left out).
        public var otherEvents = 0
        /// No counts.
        public init() {}
    }

    private let pool: Pool
    private var lines: [String] = []
    private var live: [String: Int] = [:]  // "<device> <dma or phys address>" → map id
    private var next = 0
    private var lineNumber = 0
    /// What was read so far.
    public private(set) var counts = Counts()

    /// An importer matching DMA addresses against `pool`.
    public init(pool: Pool) { self.pool = pool }

    /// Reads one line of tracepoint text.
    public mutating func read(_ line: Substring) throws(CaptureError) {
        lineNumber += 1
        let n = lineNumber
        guard line.utf8.count <= 1 << 16 else { throw CaptureError(line: n, "longer than 64 KiB: not tracepoint text") }
        let trimmed = line.drop { $0 == " " }
        if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix("CPU:") || trimmed.hasPrefix("cpus=") { return }
        guard let h = TracefsText.header(line) else {
            throw CaptureError(line: n, "expected '<task>-<pid> [<cpu>] … <timestamp>: <event>: …', got '\(ErrorToken.clipped(line))'")
        }
        let body = h.rest.drop { $0 == " " }
        switch h.event {
        case "dma_map_page", "dma_map_phys":
            let (dev, f) = try fields(body, line: n)
            try map(
                device: dev, dma: hex(f, "dma_addr", n), phys: hex(f, "phys_addr", n), size: decimal(f, "size", n),
                dir: direction(f, n), attrs: f["attrs"] ?? "", cpu: h.cpu)
        case "dma_unmap_page", "dma_unmap_phys":
            let (dev, f) = try fields(body, line: n)
            unmap(key: "\(dev) \(try hex(f, "dma_addr", n))")
        case "dma_map_sg":
            let (dev, f) = try fields(body, line: n)
            guard !(f["truncated"] != nil) else {
                throw CaptureError(line: n, "a truncated dma_map_sg event (more than its 128 entries): the map is not whole")
            }
            let dmas = try array(f, "dma_addrs", n), sizes = try array(f, "sizes", n), phys = try array(f, "phys_addrs", n)
            guard dmas.count == sizes.count, dmas.count <= phys.count else { throw CaptureError(line: n, "dma_addrs, sizes and phys_addrs do not pair up") }
            for i in dmas.indices {
                try map(
                    device: dev, dma: dmas[i], phys: phys[i], size: sizes[i], dir: direction(f, n), attrs: f["attrs"] ?? "", cpu: h.cpu,
                    sgKey: "\(dev) p\(phys[i])")
            }
        case "dma_unmap_sg":
            let (dev, f) = try fields(body, line: n)
            for p in try array(f, "phys_addrs", n) { unmap(key: "\(dev) p\(p)") }
        case "swiotlb_bounced":
            guard body.hasPrefix("dev_name: ") else { throw CaptureError(line: n, "swiotlb_bounced: expected 'dev_name: <name> …'") }
            let (dev, f) = try fields(body.dropFirst(10), line: n)
            next += 1
            counts.maps += 1; counts.bouncedOnly += 1
            lines.append(
                "map id=b\(next) orig=\(Hex.plain(try hex(f, "dev_addr", n))) size=\(try decimal(f, "size", n)) dir=bidirectional cpu=\(h.cpu)\(Self.device(dev))"
            )
        default:
            counts.otherEvents += 1
        }
    }

    private mutating func map(device: String, dma: UInt64, phys: UInt64, size: UInt64, dir: DMADirection, attrs: Substring, cpu: Int, sgKey: String? = nil)
        throws(CaptureError)
    {
        guard pool.contains(DMAAddress(dma)) else { counts.direct += 1; return }
        guard size > 0 else { throw CaptureError(line: lineNumber, "a map of size 0") }
        next += 1
        counts.maps += 1
        var a: [String] = []
        if attrs.contains("SKIP_CPU_SYNC") { a.append("skip_cpu_sync") }
        if attrs.contains("NO_WARN") { a.append("no_warn") }
        lines.append(
            "map id=m\(next) orig=\(Hex.plain(phys)) size=\(size) dir=\(dir.rawValue)\(a.isEmpty ? "" : " attrs=" + a.joined(separator: ",")) cpu=\(cpu)\(Self.device(device)) kernel_tlb=\(Hex.plain(dma))"
        )
        live[sgKey ?? "\(device) \(dma)"] = next
    }

    private mutating func unmap(key: String) {
        guard let id = live.removeValue(forKey: key) else { counts.unmatched += 1; return }
        counts.unmaps += 1
        lines.append("unmap id=m\(id)")
    }

    /// ` dev=<name>` when the name is a trace word.
    private static func device(_ name: String) -> String {
        CaptureTraceWriter.isTraceWord(name) ? " dev=\(name)" : ""
    }

    /// The leading device name, then `key=value` fields (arrays `{…}` kept whole; a bare
    /// `[TRUNCATED]` becomes `truncated`).
    private func fields(_ body: Substring, line n: Int) throws(CaptureError) -> (String, [Substring: Substring]) {
        let words = body.split(separator: " ")
        guard let first = words.first, !first.contains("=") else {
            throw CaptureError(line: n, "expected the device's name first, got '\(ErrorToken.clipped(body))'")
        }
        var f: [Substring: Substring] = [:]
        for w in words.dropFirst() {
            if w == "[TRUNCATED]" { f["truncated"] = "1"; continue }
            guard let eq = w.firstIndex(of: "=") else { continue }
            f[w[..<eq]] = w[w.index(after: eq)...]
        }
        return (String(first), f)
    }

    /// A `%llx` field: 1 to 16 hex digits, which the tracepoints print without `0x` (with it
    /// taken too), read by ``Hex/value(prefixOptional:)``.
    private func hex(_ f: [Substring: Substring], _ key: Substring, _ n: Int) throws(CaptureError) -> UInt64 {
        guard let v = f[key] else { throw CaptureError(line: n, "missing \(key)=") }
        guard let x = Hex.value(prefixOptional: v) else {
            throw CaptureError(line: n, "\(key): expected 1 to 16 hex digits (%llx), got '\(ErrorToken.clipped(v))'")
        }
        return x
    }

    private func decimal(_ f: [Substring: Substring], _ key: Substring, _ n: Int) throws(CaptureError) -> UInt64 {
        guard let v = f[key], let x = UInt64(v), x <= UInt64(Int32.max) else {
            throw CaptureError(line: n, "\(key): expected a size in bytes, got '\(ErrorToken.clipped(f[key] ?? ""))'")
        }
        return x
    }

    private func direction(_ f: [Substring: Substring], _ n: Int) throws(CaptureError) -> DMADirection {
        switch f["dir"] {
        case "BIDIRECTIONAL": return .bidirectional
        case "TO_DEVICE": return .toDevice
        case "FROM_DEVICE": return .fromDevice
        case "NONE": return .none
        default: throw CaptureError(line: n, "dir: expected BIDIRECTIONAL, TO_DEVICE, FROM_DEVICE or NONE, got '\(ErrorToken.clipped(f["dir"] ?? ""))'")
        }
    }

    /// `{0x1,0x2}` (what `__print_array` prints), each at most 16 hex digits.
    private func array(_ f: [Substring: Substring], _ key: Substring, _ n: Int) throws(CaptureError) -> [UInt64] {
        guard let v = f[key], v.hasPrefix("{"), v.hasSuffix("}") else { throw CaptureError(line: n, "\(key): expected {0x…,0x…}") }
        let inner = v.dropFirst().dropLast()
        if inner.isEmpty { return [] }
        var out: [UInt64] = []
        for e in inner.split(separator: ",", omittingEmptySubsequences: false) {
            guard let x = Hex.value(e) else {
                throw CaptureError(line: n, "\(key): expected 0x-hex entries, got '\(ErrorToken.clipped(e))'")
            }
            out.append(x)
        }
        return out
    }

    /// Writes the trace: a header saying what the tracepoints cannot tell, the pool line, the ops.
    public func write(source: String, emit: (String) -> Void) {
        emit("# xenpv swiotlb import of \(source), trace format v2: replay with --kernel v6.1 (no --check: no used counts)")
        emit("# order: the tracepoints' timestamps, not the allocator's area locks; min_align, seg_mask and failed maps are not in the tracepoints")
        if counts.bouncedOnly > 0 {
            emit("# \(counts.bouncedOnly) maps from swiotlb_bounced: original address and size only (no bounce address, no unmap, no direction)")
        }
        emit("pool nslabs=\(pool.nslabs) start=\(Hex.plain(pool.start.rawValue)) areas=\(pool.areas)")
        lines.forEach(emit)
    }
}
