/// A malformed or impossible trace line: where, and what.
public struct TraceError: Error, Sendable, Hashable, CustomStringConvertible {
    /// 1-based line number.
    public var line: Int
    /// The token (or op) at fault.
    public var token: String
    /// What was expected.
    public var message: String
    /// `line N: <message>: '<token>'`.
    public var description: String { "line \(line): \(message): '\(token)'" }
}

/// One parsed line of a swiotlb trace (see `docs/trace-format.md`).
public enum TraceOp: Sendable, Hashable {
    /// `pool nslabs=<N> start=<0xHEX> [name=<word>]`.
    case pool(nslabs: Int, start: UInt64, name: String?)
    /// `map id=… orig=… size=… [alloc=…] dir=… [attrs=…] [seg_mask=…] [dma_mask=…]`.
    case map(id: Substring, original: UInt64, size: Int, alloc: Int, direction: DMADirection,
             attributes: DMAAttributes, segmentMask: UInt64, dmaMask: UInt64)
    /// `unmap id=…`.
    case unmap(id: Substring)
    /// `sync id=… target=cpu|device`.
    case sync(id: Substring, target: SyncTarget)

    /// Largest pool a trace may declare (slots).
    public static let maxPoolSlots = 1 << 25

    /// Parses one line; nil for a blank or comment line.
    public static func parse(_ text: Substring, line: Int) throws(TraceError) -> TraceOp? {
        let content = text.firstIndex(of: "#").map { text[..<$0] } ?? text
        var tokens = content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
        guard !tokens.isEmpty else { return nil }
        let op = tokens.removeFirst()
        var fields: [Substring: Substring] = [:]
        for t in tokens {
            guard let eq = t.firstIndex(of: "="), eq != t.startIndex else {
                throw TraceError(line: line, token: String(t), message: "expected key=value")
            }
            let key = t[..<eq], value = t[t.index(after: eq)...]
            guard fields[key] == nil else { throw TraceError(line: line, token: String(t), message: "repeated key") }
            fields[key] = value
        }
        let f = TraceFields(fields: fields, line: line)
        switch op {
        case "pool":
            try f.allowOnly(["nslabs", "start", "name"])
            let nslabs = try f.decimal("nslabs")
            guard nslabs == 1 || (nslabs > 0 && nslabs % UInt64(IOTLB.segmentSlots) == 0), nslabs <= UInt64(maxPoolSlots) else {
                throw TraceError(line: line, token: "nslabs=\(nslabs)", message: "nslabs must be 1 or a multiple of 128 up to \(maxPoolSlots)")
            }
            let start = try f.hex("start")
            let (_, overflow) = start.addingReportingOverflow(nslabs << UInt64(IOTLB.shift))
            guard !overflow, start % 4096 == 0 else {
                throw TraceError(line: line, token: "start=\(fields["start"]!)", message: "start must be page aligned and the pool must fit below 2^64")
            }
            return .pool(nslabs: Int(nslabs), start: start, name: fields["name"].map(String.init))
        case "map":
            try f.allowOnly(["id", "orig", "size", "alloc", "dir", "attrs", "seg_mask", "dma_mask"])
            let id = try f.word("id")
            let orig = try f.hex("orig")
            let size = try f.decimal("size")
            let alloc = fields["alloc"] == nil ? size : try f.decimal("alloc")
            guard size <= UInt64(Int32.max), alloc <= UInt64(Int32.max) else {
                throw TraceError(line: line, token: "size=\(size)", message: "size too large")
            }
            return .map(id: id, original: orig, size: Int(size), alloc: Int(alloc), direction: try f.direction(),
                        attributes: try f.attributes(),
                        segmentMask: fields["seg_mask"] == nil ? UInt64.max : try f.hex("seg_mask"),
                        dmaMask: fields["dma_mask"] == nil ? UInt64.max : try f.hex("dma_mask"))
        case "unmap":
            try f.allowOnly(["id"])
            return .unmap(id: try f.word("id"))
        case "sync":
            try f.allowOnly(["id", "target"])
            let id = try f.word("id")
            switch fields["target"] {
            case "cpu"?: return .sync(id: id, target: .cpu)
            case "device"?: return .sync(id: id, target: .device)
            case let v?: throw TraceError(line: line, token: "target=\(v)", message: "target must be cpu or device")
            case nil: throw TraceError(line: line, token: "sync", message: "missing key 'target'")
            }
        default:
            throw TraceError(line: line, token: String(op), message: "unknown op (expected pool, map, unmap or sync)")
        }
    }
}

/// The key=value fields of one trace line, with typed accessors that report the line.
struct TraceFields {
    let fields: [Substring: Substring]
    let line: Int

    func allowOnly(_ keys: Set<Substring>) throws(TraceError) {
        for k in fields.keys.sorted() where !keys.contains(k) {
            throw TraceError(line: line, token: "\(k)=\(fields[k]!)", message: "unknown key")
        }
    }

    func required(_ key: Substring) throws(TraceError) -> Substring {
        guard let v = fields[key] else { throw TraceError(line: line, token: String(key), message: "missing key '\(key)'") }
        return v
    }

    func word(_ key: Substring) throws(TraceError) -> Substring {
        let v = try required(key)
        guard !v.isEmpty else { throw TraceError(line: line, token: "\(key)=", message: "empty value") }
        return v
    }

    func hex(_ key: Substring) throws(TraceError) -> UInt64 {
        let v = try required(key)
        guard v.hasPrefix("0x") || v.hasPrefix("0X"), let n = UInt64(v.dropFirst(2), radix: 16) else {
            throw TraceError(line: line, token: "\(key)=\(v)", message: "expected 0x-prefixed hex that fits in 64 bits")
        }
        return n
    }

    func decimal(_ key: Substring) throws(TraceError) -> UInt64 {
        let v = try required(key)
        guard let n = UInt64(v) else { throw TraceError(line: line, token: "\(key)=\(v)", message: "expected a decimal number") }
        return n
    }

    func direction() throws(TraceError) -> DMADirection {
        let v = try required("dir")
        guard let d = DMADirection(rawValue: String(v)) else {
            throw TraceError(line: line, token: "dir=\(v)", message: "dir must be to_device, from_device, bidirectional or none")
        }
        return d
    }

    func attributes() throws(TraceError) -> DMAAttributes {
        guard let v = fields["attrs"] else { return [] }
        var a: DMAAttributes = []
        for name in v.split(separator: ",", omittingEmptySubsequences: false) {
            switch name {
            case "skip_cpu_sync": a.insert(.skipCPUSync)
            case "no_warn": a.insert(.noWarn)
            default: throw TraceError(line: line, token: "attrs=\(v)", message: "attrs must be skip_cpu_sync and/or no_warn")
            }
        }
        return a
    }
}

/// Replays a swiotlb trace (see `docs/trace-format.md`) against the model, one line at a time,
/// producing the result lines of the stable replay interface.
public struct TraceReplayer: Sendable {
    struct Live { var address: UInt64; var size: Int; var alloc: Int; var direction: DMADirection; var attributes: DMAAttributes; var pool: Int }

    /// The TLB built from the trace's `pool` lines (nil until the first op).
    public private(set) var tlb: SoftwareIOTLB?
    private var pendingPools: [SlotPool] = []
    private var live: [Substring: Live] = [:]
    private var failed = Set<Substring>()
    private let kernel: SwiotlbKernel

    /// A replayer for `kernel`'s semantics (rfc-v1 names the pools and picks by mask).
    public init(kernel: SwiotlbKernel = .v5_11) { self.kernel = kernel }

    /// Feeds one line; returns the result lines it produces.
    public mutating func feed(_ text: Substring, line: Int) throws(TraceError) -> [String] {
        guard let op = try TraceOp.parse(text, line: line) else { return [] }
        switch op {
        case .pool(let nslabs, let start, let name):
            try addPool(nslabs: nslabs, start: start, name: name, line: line)
            return []
        case .map(let id, let orig, let size, let alloc, let dir, let attrs, let seg, let mask):
            return [try map(id: id, orig: orig, size: size, alloc: alloc, dir: dir, attrs: attrs, seg: seg, mask: mask, line: line)]
        case .unmap(let id):
            return [try unmap(id: id, line: line)]
        case .sync(let id, let target):
            try sync(id: id, target: target, line: line)
            return []
        }
    }

    /// The closing lines: `final used=… index=…` (first pool, then any further pool by name) and
    /// the FNV-1a checksum of the first pool's free-run list.
    public mutating func finish() -> [String] {
        guard let t = ensureTLB() else { return [] }
        var out = ["final used=\(t.pools[0].used) index=\(t.pools[0].index)"]
        for (i, p) in t.pools.enumerated().dropFirst() {
            out.append("final pool=\(p.name ?? String(i)) used=\(p.used) index=\(p.index)")
        }
        out.append("checksum list=0x\(String(Self.checksum(t.pools[0].list), radix: 16))")
        return out
    }

    /// 64-bit FNV-1a over each entry as 4 little-endian bytes, in slot order.
    public static func checksum(_ list: [UInt32]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for v in list {
            for shift in stride(from: 0, to: 32, by: 8) {
                h ^= UInt64((v >> UInt32(shift)) & 0xff)
                h &*= 0x0000_0100_0000_01b3
            }
        }
        return h
    }

    /// Kernel messages produced since the last call.
    public mutating func takeMessages() -> [KernelMessage] { tlb?.takeMessages() ?? [] }

    // MARK: Ops

    private mutating func addPool(nslabs: Int, start: UInt64, name: String?, line: Int) throws(TraceError) {
        guard tlb == nil else { throw TraceError(line: line, token: "pool", message: "pool lines must come before every other op") }
        let end = start + UInt64(nslabs) << UInt64(IOTLB.shift)
        for p in pendingPools where start < p.end && p.start < end {
            throw TraceError(line: line, token: "start=0x\(String(start, radix: 16))", message: "pool overlaps an earlier pool")
        }
        let defaultName = kernel == .rfcV1 ? (pendingPools.isEmpty ? "Low Mem" : "High Mem") : nil
        pendingPools.append(SlotPool(name: name ?? defaultName, start: start, nslabs: nslabs))
    }

    private mutating func ensureTLB() -> SoftwareIOTLB? {
        if tlb == nil && !pendingPools.isEmpty {
            var t = SoftwareIOTLB(kernel: pendingPools.count > 1 ? .rfcV1 : kernel, pools: pendingPools)
            t.copiesData = false
            tlb = t
        }
        return tlb
    }

    private mutating func map(id: Substring, orig: UInt64, size: Int, alloc: Int, dir: DMADirection, attrs: DMAAttributes,
                              seg: UInt64, mask: UInt64, line: Int) throws(TraceError) -> String {
        guard ensureTLB() != nil else { throw TraceError(line: line, token: "map", message: "a pool line must come first") }
        guard live[id] == nil else { throw TraceError(line: line, token: "id=\(id)", message: "duplicate id (still mapped)") }
        let device = DMADevice(dmaMask: mask, segmentBoundaryMask: seg)
        let result: Result<BounceMapping, SwiotlbMapError>
        do {
            result = try tlb!.map(device: device, original: orig, mappingSize: size, allocSize: alloc,
                                  direction: dir, attributes: attrs)
        } catch {
            throw TraceError(line: line, token: "id=\(id)", message: error.description)
        }
        switch result {
        case .success(let m):
            live[id] = Live(address: m.address, size: size, alloc: alloc, direction: dir, attributes: attrs, pool: m.pool)
            failed.remove(id)
            return "map id=\(id) tlb=0x\(String(m.address, radix: 16)) used=\(tlb!.pools[m.pool].used)"
        case .failure(.full):
            failed.insert(id)
            return "map id=\(id) error=full used=\(tlb!.pools[tlb!.poolIndex(for: device)].used)"
        case .failure(.invalidSize):
            failed.insert(id)
            return "map id=\(id) error=invalid-size"
        }
    }

    private mutating func unmap(id: Substring, line: Int) throws(TraceError) -> String {
        let m = try mapping(id, line: line)
        let pool: Int
        do {
            pool = try tlb!.unmap(m.address, mappingSize: m.size, allocSize: m.alloc, direction: m.direction, attributes: m.attributes)
        } catch {
            throw TraceError(line: line, token: "id=\(id)", message: error.description)
        }
        live[id] = nil
        return "unmap id=\(id) used=\(tlb!.pools[pool].used)"
    }

    private mutating func sync(id: Substring, target: SyncTarget, line: Int) throws(TraceError) {
        let m = try mapping(id, line: line)
        do {
            try tlb!.sync(m.address, size: m.size, direction: m.direction, target: target)
        } catch {
            throw TraceError(line: line, token: "id=\(id)", message: error.description)
        }
    }

    private func mapping(_ id: Substring, line: Int) throws(TraceError) -> Live {
        if let m = live[id] { return m }
        if failed.contains(id) { throw TraceError(line: line, token: "id=\(id)", message: "id is not mapped (its map failed)") }
        throw TraceError(line: line, token: "id=\(id)", message: "unknown id")
    }
}
