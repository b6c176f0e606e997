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
    case map(id: String, original: UInt64, size: Int, alloc: Int, direction: DMADirection,
             attributes: DMAAttributes, segmentMask: UInt64, dmaMask: UInt64)
    /// `unmap id=…`.
    case unmap(id: String)
    /// `sync id=… target=cpu|device`.
    case sync(id: String, target: SyncTarget)

    /// Largest pool a trace may declare (slots).
    public static let maxPoolSlots = 1 << 25

    /// Parses one line; nil for a blank or comment line.
    public static func parse(_ text: Substring, line: Int) throws(TraceError) -> TraceOp? {
        var copy = String(text)
        var result: Result<TraceOp?, TraceError> = .success(nil)
        copy.withUTF8 { b in
            do throws(TraceError) { result = .success(try parse(bytes: b, line: line)) } catch { result = .failure(error) }
        }
        return try result.get()
    }

    /// Parses one line given as UTF-8 bytes (no newline); nil for a blank or comment line.
    public static func parse(bytes b: UnsafeBufferPointer<UInt8>, line: Int) throws(TraceError) -> TraceOp? {
        var p = TraceLineParser(b: b, line: line)
        return try p.parse()
    }
}

/// The byte-level reader of one trace line: tokens are separated by spaces, tabs or CRs, `#`
/// starts a comment, every token after the op is `key=value`.
struct TraceLineParser {
    let b: UnsafeBufferPointer<UInt8>
    let line: Int
    var i = 0

    enum Op { case pool, map, unmap, sync }

    @inline(__always) static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0d }

    /// The next token's bounds, or nil at the end of the line or a comment.
    mutating func token() -> Range<Int>? {
        while i < b.count && Self.isSpace(b[i]) { i += 1 }
        guard i < b.count && b[i] != 0x23 else { return nil }
        let s = i
        while i < b.count && !Self.isSpace(b[i]) && b[i] != 0x23 { i += 1 }
        return s..<i
    }

    func text(_ r: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: b[r]), as: UTF8.self) }

    func equals(_ r: Range<Int>, _ lit: StaticString) -> Bool {
        guard r.count == lit.utf8CodeUnitCount else { return false }
        let p = lit.utf8Start
        for k in 0..<r.count where b[r.lowerBound + k] != p[k] { return false }
        return true
    }

    func fail(_ r: Range<Int>, _ message: String) -> TraceError { TraceError(line: line, token: text(r), message: message) }

    func hex(_ token: Range<Int>, _ v: Range<Int>) throws(TraceError) -> UInt64 {
        guard v.count > 2, v.count <= 18, b[v.lowerBound] == 0x30, b[v.lowerBound + 1] | 0x20 == 0x78 else {
            throw fail(token, "expected 0x-prefixed hex that fits in 64 bits")
        }
        var n: UInt64 = 0
        for k in (v.lowerBound + 2)..<v.upperBound {
            let c = b[k]
            let d: UInt8
            switch c {
            case 0x30...0x39: d = c &- 0x30
            case 0x61...0x66: d = c &- 0x57
            case 0x41...0x46: d = c &- 0x37
            default: throw fail(token, "expected 0x-prefixed hex that fits in 64 bits")
            }
            n = n << 4 | UInt64(d)
        }
        return n
    }

    func decimal(_ token: Range<Int>, _ v: Range<Int>) throws(TraceError) -> UInt64 {
        guard !v.isEmpty, v.count <= 20 else { throw fail(token, "expected a decimal number") }
        var n: UInt64 = 0
        for k in v {
            let c = b[k]
            guard c >= 0x30 && c <= 0x39 else { throw fail(token, "expected a decimal number") }
            let (m, o1) = n.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(c &- 0x30))
            guard !o1 && !o2 else { throw fail(token, "expected a decimal number") }
            n = a
        }
        return n
    }

    mutating func parse() throws(TraceError) -> TraceOp? {
        guard let opTok = token() else { return nil }
        let op: Op
        if equals(opTok, "map") { op = .map }
        else if equals(opTok, "unmap") { op = .unmap }
        else if equals(opTok, "sync") { op = .sync }
        else if equals(opTok, "pool") { op = .pool }
        else { throw fail(opTok, "unknown op (expected pool, map, unmap or sync)") }
        // The fields, by bit: id orig size alloc dir attrs seg_mask dma_mask target nslabs start name.
        var seen: UInt16 = 0
        var id: Range<Int> = 0..<0
        var orig: UInt64 = 0, size: UInt64 = 0, alloc: UInt64? = nil, seg = UInt64.max, mask = UInt64.max
        var dir: DMADirection? = nil, attrs: DMAAttributes = [], target: SyncTarget? = nil
        var nslabs: UInt64 = 0, start: UInt64 = 0, name: Range<Int>? = nil, startTok: Range<Int> = 0..<0
        let allowed: UInt16
        switch op {
        case .map: allowed = 0b0000_1111_1111
        case .unmap: allowed = 0b0000_0000_0001
        case .sync: allowed = 0b0001_0000_0001
        case .pool: allowed = 0b1110_0000_0000
        }
        while let t = token() {
            var eq = t.lowerBound
            while eq < t.upperBound && b[eq] != 0x3d { eq += 1 }
            guard eq < t.upperBound, eq > t.lowerBound else { throw fail(t, "expected key=value") }
            let k = t.lowerBound..<eq, v = (eq + 1)..<t.upperBound
            let bit: UInt16
            if equals(k, "id") { bit = 1 << 0 }
            else if equals(k, "orig") { bit = 1 << 1 }
            else if equals(k, "size") { bit = 1 << 2 }
            else if equals(k, "alloc") { bit = 1 << 3 }
            else if equals(k, "dir") { bit = 1 << 4 }
            else if equals(k, "attrs") { bit = 1 << 5 }
            else if equals(k, "seg_mask") { bit = 1 << 6 }
            else if equals(k, "dma_mask") { bit = 1 << 7 }
            else if equals(k, "target") { bit = 1 << 8 }
            else if equals(k, "nslabs") { bit = 1 << 9 }
            else if equals(k, "start") { bit = 1 << 10 }
            else if equals(k, "name") { bit = 1 << 11 }
            else { throw fail(t, "unknown key") }
            guard allowed & bit != 0 else { throw fail(t, "unknown key") }
            guard seen & bit == 0 else { throw fail(t, "repeated key") }
            seen |= bit
            switch bit {
            case 1 << 0:
                guard !v.isEmpty else { throw fail(t, "empty value") }
                id = v
            case 1 << 1: orig = try hex(t, v)
            case 1 << 2: size = try decimal(t, v)
            case 1 << 3: alloc = try decimal(t, v)
            case 1 << 4:
                if equals(v, "to_device") { dir = .toDevice }
                else if equals(v, "from_device") { dir = .fromDevice }
                else if equals(v, "bidirectional") { dir = .bidirectional }
                else if equals(v, "none") { dir = DMADirection.none }
                else { throw fail(t, "dir must be to_device, from_device, bidirectional or none") }
            case 1 << 5:
                var s = v.lowerBound
                while true {
                    var e = s
                    while e < v.upperBound && b[e] != 0x2c { e += 1 }
                    if equals(s..<e, "skip_cpu_sync") { attrs.insert(.skipCPUSync) }
                    else if equals(s..<e, "no_warn") { attrs.insert(.noWarn) }
                    else { throw fail(t, "attrs must be skip_cpu_sync and/or no_warn") }
                    if e == v.upperBound { break }
                    s = e + 1
                }
            case 1 << 6: seg = try hex(t, v)
            case 1 << 7: mask = try hex(t, v)
            case 1 << 8:
                if equals(v, "cpu") { target = .cpu } else if equals(v, "device") { target = .device }
                else { throw fail(t, "target must be cpu or device") }
            case 1 << 9: nslabs = try decimal(t, v)
            case 1 << 10: start = try hex(t, v); startTok = t
            default: name = v
            }
        }
        func missing(_ key: String) -> TraceError { TraceError(line: line, token: key, message: "missing key '\(key)'") }
        switch op {
        case .pool:
            guard seen & (1 << 9) != 0 else { throw missing("nslabs") }
            guard nslabs == 1 || (nslabs > 0 && nslabs % UInt64(IOTLB.segmentSlots) == 0), nslabs <= UInt64(TraceOp.maxPoolSlots) else {
                throw TraceError(line: line, token: "nslabs=\(nslabs)", message: "nslabs must be 1 or a multiple of 128 up to \(TraceOp.maxPoolSlots)")
            }
            guard seen & (1 << 10) != 0 else { throw missing("start") }
            let (_, overflow) = start.addingReportingOverflow(nslabs << UInt64(IOTLB.shift))
            guard !overflow, start % 4096 == 0 else { throw fail(startTok, "start must be page aligned and the pool must fit below 2^64") }
            return .pool(nslabs: Int(nslabs), start: start, name: name.map(text))
        case .map:
            guard seen & 1 != 0 else { throw missing("id") }
            guard seen & (1 << 1) != 0 else { throw missing("orig") }
            guard seen & (1 << 2) != 0 else { throw missing("size") }
            let a = alloc ?? size
            guard size <= UInt64(Int32.max), a <= UInt64(Int32.max) else {
                throw TraceError(line: line, token: "size=\(size)", message: "size too large")
            }
            guard let d = dir else { throw missing("dir") }
            return .map(id: text(id), original: orig, size: Int(size), alloc: Int(a), direction: d,
                        attributes: attrs, segmentMask: seg, dmaMask: mask)
        case .unmap:
            guard seen & 1 != 0 else { throw missing("id") }
            return .unmap(id: text(id))
        case .sync:
            guard seen & 1 != 0 else { throw missing("id") }
            guard let t = target else { throw TraceError(line: line, token: "sync", message: "missing key 'target'") }
            return .sync(id: text(id), target: t)
        }
    }
}

/// What one replayed `map` or `unmap` did: the values of its result line.
public enum ReplayResult: Sendable, Hashable, CustomStringConvertible {
    /// `map id=<ID> tlb=<0xHEX> used=<N>`.
    case mapped(id: String, address: UInt64, used: Int)
    /// `map id=<ID> error=full used=<N>`.
    case full(id: String, used: Int)
    /// `map id=<ID> error=invalid-size`.
    case invalidSize(id: String)
    /// `unmap id=<ID> used=<N>`.
    case unmapped(id: String, used: Int)

    /// The result line.
    public var description: String {
        var bytes: [UInt8] = []
        write(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the result line (without a newline) to `out`.
    public func write(to out: inout [UInt8]) {
        switch self {
        case .mapped(let id, let address, let used):
            ReplayNumbers.literal("map id=", &out); ReplayNumbers.text(id, &out)
            ReplayNumbers.literal(" tlb=0x", &out); ReplayNumbers.hex(address, into: &out)
            ReplayNumbers.literal(" used=", &out); ReplayNumbers.decimal(used, into: &out)
        case .full(let id, let used):
            ReplayNumbers.literal("map id=", &out); ReplayNumbers.text(id, &out)
            ReplayNumbers.literal(" error=full used=", &out); ReplayNumbers.decimal(used, into: &out)
        case .invalidSize(let id):
            ReplayNumbers.literal("map id=", &out); ReplayNumbers.text(id, &out)
            ReplayNumbers.literal(" error=invalid-size", &out)
        case .unmapped(let id, let used):
            ReplayNumbers.literal("unmap id=", &out); ReplayNumbers.text(id, &out)
            ReplayNumbers.literal(" used=", &out); ReplayNumbers.decimal(used, into: &out)
        }
    }
}

/// Lowercase hex without padding, decimals and text, appended as bytes (the replay's hot path).
enum ReplayNumbers {
    @inline(__always)
    static func literal(_ s: StaticString, _ out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    @inline(__always)
    static func text(_ s: String, _ out: inout [UInt8]) {
        var copy = s
        copy.withUTF8 { out.append(contentsOf: $0) }
    }

    static func hex(_ v: UInt64, into out: inout [UInt8]) {
        let digits = v == 0 ? 1 : (67 - v.leadingZeroBitCount) / 4
        var shift = (digits - 1) * 4
        while shift >= 0 {
            let d = UInt8(truncatingIfNeeded: (v >> UInt64(shift)) & 0xf)
            out.append(d < 10 ? 0x30 &+ d : 0x57 &+ d)
            shift -= 4
        }
    }

    static func decimal(_ v: Int, into out: inout [UInt8]) {
        if v < 0 { out.append(0x2d) }
        var m = v.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { b in
            var i = b.count
            repeat {
                i -= 1
                b[i] = 0x30 &+ UInt8(truncatingIfNeeded: m % 10)
                m /= 10
            } while m > 0
            out.append(contentsOf: b[i...])
        }
    }
}

/// Replays a swiotlb trace (see `docs/trace-format.md`) against the model, one line at a time,
/// producing the result lines of the stable replay interface.
public struct TraceReplayer: Sendable {
    struct Live { var address: UInt64; var size: Int; var alloc: Int; var direction: DMADirection; var attributes: DMAAttributes; var pool: Int }

    /// The TLB built from the trace's `pool` lines (nil until the first op).
    public private(set) var tlb: SoftwareIOTLB?
    private var pendingPools: [SlotPool] = []
    private var live = TraceIDTable<Live>()
    private var failed = TraceIDTable<Void>()
    private let kernel: SwiotlbKernel

    private let movesBytes: Bool

    /// A replayer for `kernel`'s semantics (rfc-v1 names the pools and picks by mask). A trace
    /// carries no data, so bounces are only counted unless `movesBytes` copies them through
    /// scratch memory as the kernel would.
    public init(kernel: SwiotlbKernel = .v5_11, movesBytes: Bool = false) {
        self.kernel = kernel
        self.movesBytes = movesBytes
    }

    /// Feeds one line; returns the result lines it produces.
    public mutating func feed(_ text: Substring, line: Int) throws(TraceError) -> [String] {
        guard let op = try TraceOp.parse(text, line: line) else { return [] }
        return try apply(op, line: line).map { [$0.description] } ?? []
    }

    /// Feeds one line given as UTF-8 bytes; returns the result of its map or unmap, if any.
    public mutating func feed(bytes: UnsafeBufferPointer<UInt8>, line: Int) throws(TraceError) -> ReplayResult? {
        guard let op = try TraceOp.parse(bytes: bytes, line: line) else { return nil }
        return try apply(op, line: line)
    }

    /// Bytes the replayed bounces would move (they move only with `movesBytes`).
    public var bytesBounced: UInt64 { tlb?.bytesBounced ?? 0 }

    /// Runs one parsed op.
    mutating func apply(_ op: TraceOp, line: Int) throws(TraceError) -> ReplayResult? {
        switch op {
        case .pool(let nslabs, let start, let name):
            try addPool(nslabs: nslabs, start: start, name: name, line: line)
            return nil
        case .map(let id, let orig, let size, let alloc, let dir, let attrs, let seg, let mask):
            return try map(id: id, orig: orig, size: size, alloc: alloc, dir: dir, attrs: attrs, seg: seg, mask: mask, line: line)
        case .unmap(let id):
            return try unmap(id: id, line: line)
        case .sync(let id, let target):
            try sync(id: id, target: target, line: line)
            return nil
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
    public static func checksum(_ list: some Sequence<UInt32>) -> UInt64 {
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
    public mutating func takeMessages() -> [KernelMessage] {
        guard tlb?.messages.isEmpty == false else { return [] }
        return tlb!.takeMessages()
    }

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
            t.copiesData = movesBytes
            tlb = t
        }
        return tlb
    }

    private mutating func map(id: String, orig: UInt64, size: Int, alloc: Int, dir: DMADirection, attrs: DMAAttributes,
                              seg: UInt64, mask: UInt64, line: Int) throws(TraceError) -> ReplayResult {
        guard ensureTLB() != nil else { throw TraceError(line: line, token: "map", message: "a pool line must come first") }
        let h = TraceIDTable<Live>.hash(id)
        guard !live.contains(id, hash: h) else { throw TraceError(line: line, token: "id=\(id)", message: "duplicate id (still mapped)") }
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
            live.set(Live(address: m.address, size: size, alloc: alloc, direction: dir, attributes: attrs, pool: m.pool), for: id, hash: h)
            if failed.count > 0 { failed.remove(id, hash: h) }
            return .mapped(id: id, address: m.address, used: tlb!.pools[m.pool].used)
        case .failure(.full):
            failed.set((), for: id, hash: h)
            return .full(id: id, used: tlb!.pools[tlb!.poolIndex(for: device)].used)
        case .failure(.invalidSize):
            failed.set((), for: id, hash: h)
            return .invalidSize(id: id)
        }
    }

    private mutating func unmap(id: String, line: Int) throws(TraceError) -> ReplayResult {
        guard let m = live.remove(id, hash: TraceIDTable<Live>.hash(id)) else { throw notMapped(id, line: line) }
        let pool: Int
        do {
            pool = try tlb!.unmap(m.address, mappingSize: m.size, allocSize: m.alloc, direction: m.direction, attributes: m.attributes)
        } catch {
            throw TraceError(line: line, token: "id=\(id)", message: error.description)
        }
        return .unmapped(id: id, used: tlb!.pools[pool].used)
    }

    private mutating func sync(id: String, target: SyncTarget, line: Int) throws(TraceError) {
        let m = try mapping(id, line: line)
        do {
            try tlb!.sync(m.address, size: m.size, direction: m.direction, target: target)
        } catch {
            throw TraceError(line: line, token: "id=\(id)", message: error.description)
        }
    }

    private func mapping(_ id: String, line: Int) throws(TraceError) -> Live {
        if let m = live.value(for: id, hash: TraceIDTable<Live>.hash(id)) { return m }
        throw notMapped(id, line: line)
    }

    private func notMapped(_ id: String, line: Int) -> TraceError {
        if failed.contains(id, hash: TraceIDTable<Void>.hash(id)) { return TraceError(line: line, token: "id=\(id)", message: "id is not mapped (its map failed)") }
        return TraceError(line: line, token: "id=\(id)", message: "unknown id")
    }
}
