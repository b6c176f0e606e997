import XenMemory

/// One trace line's fields as read from its bytes (see `docs/trace-format.md`): the id and the
/// pool name as byte ranges of the line, numbers decoded, every rule the line alone decides
/// checked. The replayer works on this directly, so a line costs no string.
struct TraceLine {
    /// The op word.
    enum Kind { case pool, map, unmap, sync }

    /// The op.
    var kind: Kind
    /// `id=`: its bytes in the line.
    var id: Range<Int> = 0..<0
    /// `orig=`.
    var original: UInt64 = 0
    /// `size=`.
    var size = 0
    /// `alloc=`, or `size` when absent.
    var alloc = 0
    /// `dir=`.
    var direction: DMADirection = .none
    /// `attrs=`.
    var attributes: DMAAttributes = []
    /// `seg_mask=`.
    var segmentMask = UInt64.max
    /// `dma_mask=`.
    var dmaMask = UInt64.max
    /// `target=`.
    var target: SyncTarget = .cpu
    /// `nslabs=`.
    var nslabs = 0
    /// `start=`.
    var start: UInt64 = 0
    /// `name=`: its bytes in the line.
    var name: Range<Int>?
    /// The pool's areas after the kernel's set-up (1 for kernels without areas).
    var areas = 1
    /// `min_align=`: the device's `dma_get_min_align_mask()` (v6.1).
    var minAlign: UInt64 = 0
    /// Whether the line gives `min_align=`.
    var hasMinAlign = false
    /// `align=`: the `alloc_align_mask` argument (v6.1).
    var alignMask: UInt64 = 0
    /// `cpu=`: the processor the map runs on.
    var cpu = 0
    /// Whether the line gives `cpu=`.
    var hasCPU = false
    /// `dev=`: its bytes in the line (the device's name).
    var device: Range<Int>?
    /// `kernel_tlb=`: the address a live kernel returned.
    var kernelTLB: UInt64?
    /// `driver=`: its bytes in the line (`dev_driver_string` of the device).
    var driver: Range<Int>?

    /// Bytes `range` of `line` as text (an id, a name, a token for an error).
    static func text(_ range: Range<Int>, of line: UnsafeBufferPointer<UInt8>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: line[range]), as: UTF8.self)
    }

    /// Runs `body` on the UTF-8 bytes of `text`: the string forms of the byte-level API.
    static func withBytes<R>(of text: Substring, _ body: (UnsafeBufferPointer<UInt8>) throws(TraceError) -> R) throws(TraceError) -> R {
        var copy = String(text)
        var result: Result<R, TraceError>?
        copy.withUTF8 { b in
            do throws(TraceError) { result = .success(try body(b)) } catch { result = .failure(error) }
        }
        return try result!.get()
    }
}

/// Bounds on a trace line's fields.
enum TraceLimits {
    /// The longest id (bytes): ids name mappings, and every result line repeats one.
    static let maxIDBytes = 256
    /// The longest device name (bytes).
    static let maxDeviceBytes = 64
    /// The highest `cpu=` (the kernel's `NR_CPUS` is at most 8192; any number is read the same way).
    static let maxCPU = 1 << 20
}

/// The keys, by bit: id orig size alloc dir attrs seg_mask dma_mask target nslabs start name,
/// then format v2's areas min_align align cpu dev kernel_tlb kernel_used driver.
private enum Key {
    static let id: UInt32 = 1 << 0, orig: UInt32 = 1 << 1, size: UInt32 = 1 << 2, alloc: UInt32 = 1 << 3
    static let dir: UInt32 = 1 << 4, attrs: UInt32 = 1 << 5, segMask: UInt32 = 1 << 6, dmaMask: UInt32 = 1 << 7
    static let target: UInt32 = 1 << 8, nslabs: UInt32 = 1 << 9, start: UInt32 = 1 << 10, name: UInt32 = 1 << 11
    static let areas: UInt32 = 1 << 12, minAlign: UInt32 = 1 << 13, align: UInt32 = 1 << 14, cpu: UInt32 = 1 << 15
    static let dev: UInt32 = 1 << 16, kernelTLB: UInt32 = 1 << 17, kernelUsed: UInt32 = 1 << 18, driver: UInt32 = 1 << 19
    /// Format v2's allocation fields, which a kernel honours or refuses.
    static let allocation: UInt32 = areas | minAlign | align
}

/// The byte-level reader of one trace line: tokens are separated by spaces, tabs or CRs, `#`
/// starts a comment, every token after the op is `key=value`. `Kernel`'s rules apply: the
/// format v2 allocation fields it does not honour are refused, and a `pool` line is set up as
/// it sets its pool up.
struct TraceLineParser<Kernel: SwiotlbKernelModel> {
    let b: UnsafeBufferPointer<UInt8>
    let line: Int
    private var i = 0

    /// The longest id (bytes): ids name mappings, and every result line repeats one.
    static var maxIDBytes: Int { TraceLimits.maxIDBytes }
    /// The longest device name (bytes).
    static var maxDeviceBytes: Int { TraceLimits.maxDeviceBytes }
    /// The highest `cpu=`.
    static var maxCPU: Int { TraceLimits.maxCPU }

    /// A reader of `bytes` (one line without its newline), numbered `line` in errors.
    init(bytes: UnsafeBufferPointer<UInt8>, line: Int) {
        self.b = bytes
        self.line = line
    }

    /// Space, tab, CR or `#`: one shift of a constant, the test the token loop makes per byte.
    @inline(__always)
    private static func endsToken(_ c: UInt8) -> Bool {
        c <= 0x23 && (UInt64(0x9_0000_2200) >> UInt64(c)) & 1 != 0
    }

    /// A word of eight line bytes (in memory order) with the top bit set in each byte below
    /// 0x24 (the separators and `#` among them); exact up to the first such byte, which is all
    /// the value loop uses.
    @inline(__always)
    private static func lowBytes(_ word: UInt64) -> UInt64 {
        let x = UInt64(littleEndian: word)
        let ones: UInt64 = 0x0101_0101_0101_0101, tops: UInt64 = 0x8080_8080_8080_8080
        return (x &- 0x24 &* ones) & ~x & tops
    }

    /// Skips separators; false at the end of the line or a comment.
    @inline(__always)
    private mutating func skipSpaces() -> Bool {
        while i < b.count {
            let c = b[i]
            if c == 0x23 { return false }
            if !Self.endsToken(c) { return true }
            i += 1
        }
        return false
    }

    /// Whether bytes `r` are `lit`: compared as two overlapping words (8 or 4 bytes) when it
    /// is 4 to 16 bytes long, byte by byte otherwise.
    @inline(__always)
    private func equals(_ r: Range<Int>, _ lit: StaticString) -> Bool {
        let n = lit.utf8CodeUnitCount
        guard r.count == n, let base = b.baseAddress else { return false }
        let x = UnsafeRawPointer(base + r.lowerBound), y = UnsafeRawPointer(lit.utf8Start)
        if n >= 8 && n <= 16 {
            return x.loadUnaligned(as: UInt64.self) == y.loadUnaligned(as: UInt64.self)
                && x.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self) == y.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
        }
        if n >= 4 && n < 8 {
            return x.loadUnaligned(as: UInt32.self) == y.loadUnaligned(as: UInt32.self)
                && x.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self) == y.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
        }
        for k in 0..<n where x.load(fromByteOffset: k, as: UInt8.self) != y.load(fromByteOffset: k, as: UInt8.self) { return false }
        return true
    }

    /// Refuses a format v2 allocation field (`bit`, in token `t`) that `Kernel` does not honour,
    /// naming the kernels that do.
    private func honoured(_ bit: UInt32, _ t: Range<Int>) throws(TraceError) {
        let field: TraceFields = bit == Key.areas ? .areas : (bit == Key.minAlign ? .minAlign : .align)
        guard !Kernel.traceFields.contains(field) else { return }
        let readers = SwiotlbKernel.allCases.filter { $0.model.traceFields.contains(field) }.map(\.rawValue)
        let who = readers.count > 1 ? readers.dropLast().joined(separator: ", ") + " and " + readers[readers.count - 1] + " read" : readers.joined() + " reads"
        throw fail(t, "kernel \(Kernel.name) cannot honour this field (format v2; only \(who) it)")
    }

    private func fail(_ r: Range<Int>, _ message: String) -> TraceError {
        TraceError(line: line, token: TraceLine.text(r, of: b), message: message)
    }

    /// The key's bit, or 0 for an unknown key: chosen by length and first letter, then compared.
    @inline(__always)
    private func key(_ k: Range<Int>) -> UInt32 {
        let first = b[k.lowerBound]
        switch k.count {
        case 2: return equals(k, "id") ? Key.id : 0
        case 3:
            switch first {
            case 0x64: return equals(k, "dir") ? Key.dir : (equals(k, "dev") ? Key.dev : 0)
            case 0x63: return equals(k, "cpu") ? Key.cpu : 0
            default: return 0
            }
        case 4:
            switch first {
            case 0x6f: return equals(k, "orig") ? Key.orig : 0
            case 0x73: return equals(k, "size") ? Key.size : 0
            case 0x6e: return equals(k, "name") ? Key.name : 0
            default: return 0
            }
        case 5:
            switch first {
            case 0x61:
                if equals(k, "alloc") { return Key.alloc }
                if equals(k, "attrs") { return Key.attrs }
                if equals(k, "areas") { return Key.areas }
                return equals(k, "align") ? Key.align : 0
            case 0x73: return equals(k, "start") ? Key.start : 0
            default: return 0
            }
        case 6:
            switch first {
            case 0x74: return equals(k, "target") ? Key.target : 0
            case 0x6e: return equals(k, "nslabs") ? Key.nslabs : 0
            default: return equals(k, "driver") ? Key.driver : 0
            }
        case 8: return equals(k, "seg_mask") ? Key.segMask : (equals(k, "dma_mask") ? Key.dmaMask : 0)
        case 9: return equals(k, "min_align") ? Key.minAlign : 0
        case 10: return equals(k, "kernel_tlb") ? Key.kernelTLB : 0
        case 11: return equals(k, "kernel_used") ? Key.kernelUsed : 0
        default: return 0
        }
    }

    private func hex(_ token: Range<Int>, _ v: Range<Int>) throws(TraceError) -> UInt64 {
        guard v.count > 2, v.count <= 18, b[v.lowerBound] == 0x30, b[v.lowerBound + 1] | 0x20 == 0x78 else {
            throw fail(token, "expected 0x-prefixed hex that fits in 64 bits")
        }
        var i = v.lowerBound + 2
        guard let n = ByteNumber.hex(b, &i), i == v.upperBound else { throw fail(token, "expected 0x-prefixed hex that fits in 64 bits") }
        return n
    }

    /// A hex value no larger than `max` (a 32-bit kernel field), named `what` in the error.
    private func hex(_ token: Range<Int>, _ v: Range<Int>, max: UInt64, _ what: String) throws(TraceError) -> UInt64 {
        let n = try hex(token, v)
        guard n <= max else { throw fail(token, "\(what) must fit in 32 bits (the kernel's unsigned int)") }
        return n
    }

    /// A word of 1 to `max` bytes, named `what` in the error.
    private func word(_ token: Range<Int>, _ v: Range<Int>, max: Int, _ what: String) throws(TraceError) -> Range<Int> {
        guard !v.isEmpty else { throw fail(token, "empty value") }
        guard v.count <= max else { throw fail(token, "\(what) is at most \(max) bytes") }
        return v
    }

    private func decimal(_ token: Range<Int>, _ v: Range<Int>) throws(TraceError) -> UInt64 {
        var i = v.lowerBound
        guard let n = ByteNumber.decimal(b, &i), i == v.upperBound else { throw fail(token, "expected a decimal number") }
        return n
    }

    private func attributes(_ token: Range<Int>, _ v: Range<Int>) throws(TraceError) -> DMAAttributes {
        var attrs: DMAAttributes = []
        var s = v.lowerBound
        while true {
            var e = s
            while e < v.upperBound && b[e] != 0x2c { e += 1 }
            if equals(s..<e, "skip_cpu_sync") {
                attrs.insert(.skipCPUSync)
            } else if equals(s..<e, "no_warn") {
                attrs.insert(.noWarn)
            } else {
                throw fail(token, "attrs must be skip_cpu_sync and/or no_warn")
            }
            if e == v.upperBound { return attrs }
            s = e + 1
        }
    }

    private func direction(_ token: Range<Int>, _ v: Range<Int>) throws(TraceError) -> DMADirection {
        if equals(v, "to_device") { return .toDevice }
        if equals(v, "from_device") { return .fromDevice }
        if equals(v, "bidirectional") { return .bidirectional }
        if equals(v, "none") { return DMADirection.none }
        throw fail(token, "dir must be to_device, from_device, bidirectional or none")
    }

    /// Reads the line into `l` (written in place: a line is some 200 bytes of fields, and a
    /// returned value would be copied twice per line); false for a blank or comment line, which
    /// leaves `l` as it was.
    mutating func parse(into l: inout TraceLine) throws(TraceError) -> Bool {
        guard skipSpaces() else { return false }
        let allowed = try operation(into: &l)
        var figures = LineFigures()
        while skipSpaces() {
            let (t, eq) = nextToken()
            guard eq > t.lowerBound else { throw fail(t, "expected key=value") }
            let bit = key(t.lowerBound..<eq)
            guard allowed & bit != 0 else { throw fail(t, "unknown key") }
            guard figures.seen & bit == 0 else { throw fail(t, "repeated key") }
            if bit & Key.allocation != 0 { try honoured(bit, t) }
            figures.seen |= bit
            try read(bit, t, (eq + 1)..<t.upperBound, into: &l, &figures)
        }
        try complete(&l, figures)
        return true
    }

    /// What a line's keys gave that is checked only once the whole line is read.
    private struct LineFigures {
        /// The keys read so far (``Key`` bits).
        var seen: UInt32 = 0
        var size: UInt64 = 0, alloc: UInt64? = nil, nslabs: UInt64 = 0, areas: UInt64? = nil
        var hasDirection = false, hasTarget = false
        /// The `start=` token, to name in a refusal.
        var startToken = 0..<0
    }

    /// The line's first word: starts `l` as that operation; the keys the operation takes.
    @inline(__always)
    private mutating func operation(into l: inout TraceLine) throws(TraceError) -> UInt32 {
        let opStart = i
        while i < b.count && !Self.endsToken(b[i]) { i += 1 }
        let opToken = opStart..<i
        if equals(opToken, "map") {
            l = TraceLine(kind: .map)
            return Key.id | Key.orig | Key.size | Key.alloc | Key.dir | Key.attrs | Key.segMask | Key.dmaMask
                | Key.minAlign | Key.align | Key.cpu | Key.dev | Key.driver | Key.kernelTLB | Key.kernelUsed
        }
        if equals(opToken, "unmap") { l = TraceLine(kind: .unmap); return Key.id | Key.kernelUsed }
        if equals(opToken, "sync") { l = TraceLine(kind: .sync); return Key.id | Key.target }
        if equals(opToken, "pool") { l = TraceLine(kind: .pool); return Key.nslabs | Key.start | Key.name | Key.areas }
        throw fail(opToken, "unknown op (expected pool, map, unmap or sync)")
    }

    /// The next `key=value` token from the cursor and the index of its first `=` (-1 for none):
    /// the key byte by byte (a few bytes), the value eight bytes at a time.
    @inline(__always)
    private mutating func nextToken() -> (token: Range<Int>, equals: Int) {
        let s = i
        var j = i
        while j < b.count && b[j] != 0x3d && !Self.endsToken(b[j]) { j += 1 }
        guard j < b.count && b[j] == 0x3d else {
            i = j
            return (s..<j, -1)
        }
        let eq = j
        j += 1
        while true {
            // Eight bytes at a time while none of them is below 0x24 (no separator, no `#`).
            if j + 8 <= b.count {
                let flags = Self.lowBytes(UnsafeRawBufferPointer(b).loadUnaligned(fromByteOffset: j, as: UInt64.self))
                if flags == 0 { j += 8; continue }
                j += flags.trailingZeroBitCount >> 3
            }
            guard j < b.count, !Self.endsToken(b[j]) else { break }
            j += 1
        }
        i = j
        return (s..<j, eq)
    }

    /// One key's value `v` (of token `t`), into the line or the figures checked at its end.
    @inline(__always)
    private func read(
        _ bit: UInt32, _ t: Range<Int>, _ v: Range<Int>, into l: inout TraceLine,
        _ f: inout LineFigures
    ) throws(TraceError) {
        switch bit {
        case Key.id:
            guard !v.isEmpty else { throw fail(t, "empty value") }
            guard v.count <= Self.maxIDBytes else { throw fail(t, "an id is at most \(Self.maxIDBytes) bytes") }
            l.id = v
        case Key.orig: l.original = try hex(t, v)
        case Key.size: f.size = try decimal(t, v)
        case Key.alloc: f.alloc = try decimal(t, v)
        case Key.dir: l.direction = try direction(t, v); f.hasDirection = true
        case Key.attrs: l.attributes = try attributes(t, v)
        case Key.segMask: l.segmentMask = try hex(t, v)
        case Key.dmaMask: l.dmaMask = try hex(t, v)
        case Key.target:
            if equals(v, "cpu") { l.target = .cpu } else if equals(v, "device") { l.target = .device } else { throw fail(t, "target must be cpu or device") }
            f.hasTarget = true
        case Key.nslabs: f.nslabs = try decimal(t, v)
        case Key.start: l.start = try hex(t, v); f.startToken = t
        case Key.areas: f.areas = try decimal(t, v)
        case Key.minAlign: l.minAlign = try hex(t, v, max: UInt64(UInt32.max), "min_align"); l.hasMinAlign = true
        case Key.align: l.alignMask = try hex(t, v, max: UInt64(UInt32.max), "align")
        case Key.cpu:
            let c = try decimal(t, v)
            guard c <= UInt64(Self.maxCPU) else { throw fail(t, "cpu must be at most \(Self.maxCPU)") }
            l.cpu = Int(c); l.hasCPU = true
        case Key.dev: l.device = try word(t, v, max: Self.maxDeviceBytes, "a device name")
        case Key.driver: l.driver = try word(t, v, max: Self.maxDeviceBytes, "a driver name")
        case Key.kernelTLB: l.kernelTLB = try hex(t, v)
        case Key.kernelUsed: _ = try decimal(t, v)
        default: l.name = v
        }
    }

    /// The checks a whole line needs: the operation's required keys, a pool's shape under the
    /// kernel's rules and its place below 2^64, a map's sizes.
    @inline(__always)
    private func complete(_ l: inout TraceLine, _ f: LineFigures) throws(TraceError) {
        func missing(_ key: String) -> TraceError { TraceError(line: line, token: key, message: "missing key '\(key)'") }
        switch l.kind {
        case .pool:
            guard f.seen & Key.nslabs != 0 else { throw missing("nslabs") }
            let shape = try Kernel.tracePool(nslabs: f.nslabs, areas: f.areas, line: line)
            l.areas = shape.areas
            let nslabs = UInt64(shape.nslabs)
            guard f.seen & Key.start != 0 else { throw missing("start") }
            let (_, overflow) = l.start.addingReportingOverflow(nslabs << UInt64(IOTLB.shift))
            guard !overflow, l.start % 4096 == 0 else { throw fail(f.startToken, "start must be page aligned and the pool must fit below 2^64") }
            l.nslabs = Int(nslabs)
        case .map:
            guard f.seen & Key.id != 0 else { throw missing("id") }
            guard f.seen & Key.orig != 0 else { throw missing("orig") }
            guard f.seen & Key.size != 0 else { throw missing("size") }
            let a = f.alloc ?? f.size
            guard f.size <= UInt64(Int32.max), a <= UInt64(Int32.max) else {
                throw TraceError(line: line, token: "size=\(f.size)", message: "size too large")
            }
            guard f.hasDirection else { throw missing("dir") }
            l.size = Int(f.size)
            l.alloc = Int(a)
        case .unmap:
            guard f.seen & Key.id != 0 else { throw missing("id") }
        case .sync:
            guard f.seen & Key.id != 0 else { throw missing("id") }
            guard f.hasTarget else { throw TraceError(line: line, token: "sync", message: "missing key 'target'") }
        }
    }
}
